import assert from "node:assert/strict";
import { startTestService } from "./harness.ts";
import { openStream, readUntil } from "./sse_client.ts";

// Deno's op and resource sanitizers are on (the default): a timer, a
// listener's pending promise or a connection left behind fails the test.
Deno.test({
  name: "clients that disconnect leave no stream, watcher or timer behind",
  sanitizeOps: true,
  sanitizeResources: true,
  fn: async () => {
    const service = await startTestService({ HEARTBEAT_INTERVAL_SECONDS: "0.1" });
    try {
      const task = await service.start("meter_test_001", { epochs: 500, batch_size: 256 });
      const streams = await Promise.all(
        Array.from(
          { length: 20 },
          () => openStream(`${service.url}/trainmodel/stream/${task.task_id}`),
        ),
      );
      await Promise.all(
        streams.map((s) => readUntil(s, (m) => JSON.parse(m.data).type === "heartbeat")),
      );
      assert.equal(await service.openStreams(), 20);
      streams.forEach((s) => s.close());
      let open = -1;
      for (let i = 0; i < 100 && open !== 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
        open = await service.openStreams();
      }
      assert.equal(open, 0, "every stream's watcher is gone");
      await fetch(`${service.url}/trainmodel/${task.task_id}`, { method: "DELETE" }).then((r) =>
        r.body?.cancel()
      );
    } finally {
      await service.close();
    }
  },
});
