/**
 * Several tasks on one stream (`GET /trainmodel/stream?task_ids=…`): every
 * event of each task, with its task_id; a reconnect with the stream's
 * cursor as `Last-Event-ID` resumes every task with nothing lost or
 * repeated; in embedded and Redis mode.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Task } from "../src/domain/task.ts";
import { type BrokerKind, startTestService } from "./harness.ts";
import { needsRedis } from "./redis_server.ts";
import { openStream, readUntil, type SseMessage } from "./sse_client.ts";

const FINAL = ["SUCCESS", "FAILURE", "CANCELLED"];
const statusEvents = (messages: SseMessage[]) =>
  messages.filter((m) => m.id).map((m) => JSON.parse(m.data) as Task);

/** A task's whole history, from its own stream. */
async function history(url: string, taskId: string): Promise<Task[]> {
  const stream = await openStream(`${url}/trainmodel/stream/${taskId}`, { lastEventId: "0-0" });
  const all: SseMessage[] = [];
  for await (const m of stream.messages) all.push(m);
  return statusEvents(all);
}

for (const kind of ["sqlite", "redis"] as BrokerKind[]) {
  Deno.test({
    name: `${kind}: one stream of two tasks resumes both exactly after a reconnect`,
    ...(kind === "redis" ? needsRedis() : {}),
    async fn() {
      const service = await startTestService({ TRAINING_CONCURRENCY: "2" }, kind);
      try {
        const a = await service.start("meter_test_001", { epochs: 500, batch_size: 256 });
        const b = await service.start("meter_gas_001", { epochs: 500, batch_size: 256 });
        const url = `${service.url}/trainmodel/stream?task_ids=${a.task_id},${b.task_id}`;
        const first = await openStream(url);
        assert.equal(first.response.status, 200);
        const before: SseMessage[] = [];
        const epochs = new Map<string, number>();
        await readUntil(first, (m) => {
          before.push(m);
          const task = m.id ? JSON.parse(m.data) : null;
          if (task?.metrics?.epoch) epochs.set(task.task_id, task.metrics.epoch);
          return epochs.size === 2;
        });
        first.close();
        const cursor = before.filter((m) => m.id).at(-1)!.id!;
        assert.match(cursor, /^[A-Za-z0-9_-]+$/);

        // Events go on while no one listens; then both tasks end.
        await new Promise((r) => setTimeout(r, 300));
        const second = await openStream(url, { lastEventId: cursor });
        for (const id of [a.task_id, b.task_id]) {
          await fetch(`${service.url}/trainmodel/${id}`, { method: "DELETE" }).then((r) =>
            r.body?.cancel()
          );
        }
        const after: SseMessage[] = [];
        for await (const m of second.messages) after.push(m); // ends once both tasks have
        const seen = [...statusEvents(before), ...statusEvents(after)];

        for (const id of [a.task_id, b.task_id]) {
          const full = await history(service.url, id);
          const mine = seen.filter((t) => t.task_id === id);
          const start = full.findIndex((t) => JSON.stringify(t) === JSON.stringify(mine[0]));
          assert.ok(start >= 0, "the first event seen is one of the task's");
          assert.deepEqual(mine, full.slice(start), `task ${id}: every event once, in order`);
          assert.ok(FINAL.includes(mine.at(-1)!.status));
        }

        // Holding both final events, a reconnect is told there is nothing more.
        const last = after.filter((m) => m.id).at(-1)!.id!;
        const done = await fetch(url, { headers: { "Last-Event-ID": last } });
        assert.equal(done.status, 204);

        const forged = await fetch(url, { headers: { "Last-Event-ID": "QSE" } });
        assert.equal(forged.status, 400);
        assert.equal((await forged.json()).error.code, "invalid_last_event_id");
      } finally {
        await service.close();
      }
    },
  });
}

Deno.test("a multi-task stream names unknown tasks, and refuses bad or too many ids", async () => {
  const service = await startTestService();
  try {
    const known = await service.start("meter_test_001", { epochs: 500, batch_size: 256 });
    const missing = crypto.randomUUID();
    const unknown = await fetch(
      `${service.url}/trainmodel/stream?task_ids=${known.task_id},${missing}`,
    );
    assert.equal(unknown.status, 404);
    assert.deepEqual((await unknown.json()).error.details.task_ids, [missing]);
    const many = Array.from({ length: 101 }, () => crypto.randomUUID()).join(",");
    for (
      const query of [
        "",
        "task_ids=",
        "task_ids=nope",
        `task_ids=${many}`,
        `task_ids=${known.task_id},${known.task_id}`,
      ]
    ) {
      const response = await fetch(`${service.url}/trainmodel/stream?${query}`);
      assert.equal(response.status, 422, query.slice(0, 40));
      assert.equal((await response.json()).error.details.fields[0].field, "task_ids");
    }
    await fetch(`${service.url}/trainmodel/${known.task_id}`, { method: "DELETE" }).then((r) =>
      r.body?.cancel()
    );
  } finally {
    await service.close();
  }
});
