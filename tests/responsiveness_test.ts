import assert from "node:assert/strict";
import { startTestService } from "./harness.ts";
import { openStream, readUntil, type SseMessage } from "./sse_client.ts";

Deno.test("while a model trains, another stream's heartbeats arrive within 1 s of schedule", async () => {
  const service = await startTestService({ HEARTBEAT_INTERVAL_SECONDS: "1" });
  try {
    const training = await service.start("meter_test_001", { epochs: 500, batch_size: 256 });
    const watched = await openStream(`${service.url}/trainmodel/stream/${training.task_id}`);
    await readUntil(watched, (m) => JSON.parse(m.data).metrics?.epoch >= 1);

    const other = await service.start("meter_test_002", { epochs: 1 }); // queued behind it
    const stream = await openStream(`${service.url}/trainmodel/stream/${other.task_id}`);
    const opened = performance.now();
    const beats: SseMessage[] = [];
    await readUntil(stream, (m) => {
      if (JSON.parse(m.data).type === "heartbeat") beats.push(m);
      return beats.length === 6;
    });
    stream.close();
    const still = await service.status(training.task_id);
    assert.equal(still.status, "TRAINING_MODEL", "the model was training all along");
    watched.close();
    await fetch(`${service.url}/trainmodel/${training.task_id}`, { method: "DELETE" }).then((r) =>
      r.body?.cancel()
    );

    beats.forEach((beat, i) => {
      const lateness = beat.at - opened - (i + 1) * 1000;
      assert.ok(
        Math.abs(lateness) < 1000,
        `heartbeat ${i + 1} was ${lateness.toFixed(0)} ms off schedule`,
      );
    });
  } finally {
    await service.close();
  }
});
