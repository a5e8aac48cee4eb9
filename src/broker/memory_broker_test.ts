import { brokerConformance } from "./broker_conformance.ts";
import { createMemoryBroker } from "./memory_broker.ts";

brokerConformance(
  "memory",
  (options) => Promise.resolve(createMemoryBroker(options)),
);
