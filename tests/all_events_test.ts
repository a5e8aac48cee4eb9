/**
 * Every task on one stream (`GET /trainmodel/events`): it starts from now
 * with a position, carries each task's events with their task_id, resumes
 * from `Last-Event-ID` with nothing lost or repeated, and filters by meter,
 * status and kind of event; in embedded and Redis mode.
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

const cancel = (url: string, id: string) =>
  fetch(`${url}/trainmodel/${id}`, { method: "DELETE" }).then((r) => r.body?.cancel());

for (const kind of ["sqlite", "redis"] as BrokerKind[]) {
  Deno.test({
    name: `${kind}: the all-task stream carries every task, and resumes exactly after a reconnect`,
    ...(kind === "redis" ? needsRedis() : {}),
    async fn() {
      const service = await startTestService({ TRAINING_CONCURRENCY: "2" }, kind);
      try {
        // A task that ended before the stream opened is not replayed: it starts from now.
        const old = await service.start("meter_test_002", { epochs: 1 });
        for await (
          const _ of (await openStream(`${service.url}/trainmodel/stream/${old.task_id}`)).messages
        );

        const url = `${service.url}/trainmodel/events`;
        const first = await openStream(url);
        assert.equal(first.response.status, 200);
        assert.equal(first.response.headers.get("content-type"), "text/event-stream");
        const onlyA = await openStream(`${url}?meter_id=meter_test_001&events=status`);
        const cancelled = await openStream(`${url}?status=CANCELLED`);
        let cancelCount = 0;

        const a = await service.start("meter_test_001", { epochs: 500, batch_size: 256 });
        const b = await service.start("meter_gas_001", { epochs: 500, batch_size: 256 });
        const before: SseMessage[] = [];
        const epochs = new Map<string, number>();
        await readUntil(first, (m) => {
          before.push(m);
          const task = m.id ? JSON.parse(m.data) : null;
          if (task?.metrics?.epoch) epochs.set(task.task_id, task.metrics.epoch);
          return epochs.size === 2;
        });
        first.close();
        assert.ok(!statusEvents(before).some((t) => t.task_id === old.task_id));
        const cursor = before.at(-1)!.id!;

        // Events go on while no one listens; then both tasks end.
        await new Promise((r) => setTimeout(r, 300));
        const second = await openStream(url, { lastEventId: cursor });
        await cancel(service.url, a.task_id);
        await cancel(service.url, b.task_id);
        const ended = new Set<string>();
        const after = await readUntil(second, (m) => {
          const task = m.id ? JSON.parse(m.data) : null;
          if (task && FINAL.includes(task.status)) ended.add(task.task_id);
          return ended.size === 2;
        });
        second.close();
        const seen = [...statusEvents(before), ...statusEvents(after)];
        assert.ok(
          after.filter((m) => !m.id).every((m) => JSON.parse(m.data).type === "heartbeat"),
          "events without an id are heartbeats",
        );

        for (const id of [a.task_id, b.task_id]) {
          const full = await history(service.url, id);
          const mine = seen.filter((t) => t.task_id === id);
          assert.deepEqual(mine, full, `task ${id}: every event once, in order, from its start`);
        }

        // Filters: one meter's status events only; only CANCELLED events.
        const aOnly = statusEvents(
          await readUntil(onlyA, (m) => JSON.parse(m.data).status === "CANCELLED"),
        );
        onlyA.close();
        assert.deepEqual(aOnly, await history(service.url, a.task_id));
        const cancels = statusEvents(
          await readUntil(cancelled, (m) => m.id !== undefined && ++cancelCount === 2),
        );
        cancelled.close();
        assert.deepEqual(cancels.map((t) => t.status), ["CANCELLED", "CANCELLED"]);
        assert.deepEqual(new Set(cancels.map((t) => t.task_id)), new Set([a.task_id, b.task_id]));
      } finally {
        await service.close();
      }
    },
  });
}

Deno.test("the all-task stream starts with its position, and refuses bad filters and positions", async () => {
  const service = await startTestService();
  try {
    const raw = await fetch(`${service.url}/trainmodel/events`);
    const reader = raw.body!.getReader();
    const { value } = await reader.read();
    assert.match(new TextDecoder().decode(value), /^id: \d+-\d+\n\n$/, "a bare position first");
    await reader.cancel();

    const stream = await openStream(`${service.url}/trainmodel/events`);
    const task = await service.start("meter_test_001", { epochs: 500, batch_size: 256 });
    const [event] = await readUntil(stream, (m) => m.id !== undefined);
    stream.close();
    assert.equal(JSON.parse(event.data).task_id, task.task_id);
    await cancel(service.url, task.task_id);

    for (
      const [query, field] of [
        ["meter_type=bogus", "meter_type"],
        ["meter_id=..", "meter_id"],
        ["status=DONE", "status"],
        ["events=status,nope", "events"],
      ]
    ) {
      const response = await fetch(`${service.url}/trainmodel/events?${query}`);
      assert.equal(response.status, 422, query);
      assert.equal((await response.json()).error.details.fields[0].field, field);
    }
    const forged = await fetch(`${service.url}/trainmodel/events`, {
      headers: { "Last-Event-ID": "not-an-id" },
    });
    assert.equal(forged.status, 400);
    assert.equal((await forged.json()).error.code, "invalid_last_event_id");
  } finally {
    await service.close();
  }
});
