import { createMemoryStreamSlots, type MemorySlotTable } from "./memory_stream_slots.ts";
import { streamSlotsConformance } from "./stream_slots_conformance.ts";

streamSlotsConformance("memory", () => {
  const table: MemorySlotTable = new Map();
  return Promise.resolve({
    open: (options) => createMemoryStreamSlots({ ...options, table }),
    close: () => Promise.resolve(),
  });
});
