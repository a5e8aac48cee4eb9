import assert from "node:assert/strict";
import { createMemoryBroker } from "../broker/memory_broker.ts";
import { DEMO_METERS, seedDemoMeters } from "./demo_meters.ts";

Deno.test("demo meters are seeded once with a year of readings", async () => {
  const broker = createMemoryBroker({ taskTtlSeconds: 60 });
  const custom = { timestamps: [0], values: [1] };
  await broker.mergeReadings(DEMO_METERS[1], custom);
  const seeded = await seedDemoMeters(broker);
  assert.deepEqual(seeded, ["meter_test_001", "meter_gas_001"]);
  const series = await broker.getReadings({
    meter_id: "meter_test_001",
    meter_type: "electricity",
  });
  assert.equal(series?.values.length, 8760);
  assert.deepEqual(
    await broker.getReadings(DEMO_METERS[1]),
    custom,
    "existing readings are kept",
  );
  assert.deepEqual(await seedDemoMeters(broker), []);
});
