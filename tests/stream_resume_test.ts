import assert from "node:assert/strict";
import { startTestService } from "./harness.ts";
import { openStream, readUntil, type SseMessage } from "./sse_client.ts";
import type { Task } from "../src/domain/task.ts";

const isStatus = (m: SseMessage) => m.id !== undefined;
const statusOf = (m: SseMessage): Task => JSON.parse(m.data);
const isFinal = (m: SseMessage) =>
  isStatus(m) && ["SUCCESS", "FAILURE", "CANCELLED"].includes(statusOf(m).status);

Deno.test("a late subscriber first sees where the task stands", async () => {
  const service = await startTestService();
  try {
    const task = await service.start("meter_test_001", { epochs: 500, batch_size: 256 });
    const early = await openStream(`${service.url}/trainmodel/stream/${task.task_id}`);
    await readUntil(early, (m) => isStatus(m) && (statusOf(m).metrics?.epoch ?? 0) >= 2);
    early.close();

    const late = await openStream(`${service.url}/trainmodel/stream/${task.task_id}`);
    const [first] = await readUntil(late, isStatus);
    late.close();
    const now = await service.status(task.task_id);
    assert.equal(statusOf(first).status, "TRAINING_MODEL");
    assert.ok(statusOf(first).metrics!.epoch >= 2, "it starts mid-training, not from PENDING");
    assert.ok(statusOf(first).progress <= now.progress);

    await fetch(`${service.url}/trainmodel/${task.task_id}`, { method: "DELETE" }).then((r) =>
      r.body?.cancel()
    );
    // After the end, a new subscriber gets the final state, and the stream closes.
    const after = await openStream(`${service.url}/trainmodel/stream/${task.task_id}`);
    const all: SseMessage[] = [];
    for await (const m of after.messages) all.push(m);
    assert.equal(all.length, 1);
    assert.equal(statusOf(all[0]).status, "CANCELLED");
    assert.deepEqual(statusOf(all[0]), await service.status(task.task_id));
  } finally {
    await service.close();
  }
});

Deno.test("Last-Event-ID resumes with exactly the missed events: none lost, none repeated", async () => {
  const service = await startTestService();
  try {
    const task = await service.start("meter_test_001", { epochs: 6 });
    const url = `${service.url}/trainmodel/stream/${task.task_id}`;
    // A reference reader replays everything from the start.
    const reference = await openStream(url, { lastEventId: "0-0" });
    const everything = readUntil(reference, isFinal);

    // A client reads a few events, drops, and comes back with its last id.
    const first = await openStream(url);
    const before = await readUntil(
      first,
      (m) => isStatus(m) && statusOf(m).status === "TRAINING_MODEL",
    );
    first.close();
    await new Promise((r) => setTimeout(r, 600)); // events happen while it is away
    const lastId = before.filter(isStatus).at(-1)!.id!;
    const second = await openStream(url, { lastEventId: lastId });
    const after = await readUntil(second, isFinal);

    const all = (await everything).filter(isStatus).map((m) => m.id);
    const seen = [...before, ...after].filter(isStatus).map((m) => m.id);
    assert.equal(new Set(seen).size, seen.length, "no event repeated");
    assert.deepEqual(seen, all.slice(all.indexOf(seen[0])), "no event lost, order kept");
    assert.ok(after.filter(isStatus).length >= 3, "events were missed and then delivered");

    // Reconnecting with the final event's id: 204, so EventSource stops reconnecting.
    const done = await fetch(url, { headers: { "Last-Event-ID": all.at(-1)! } });
    assert.equal(done.status, 204);
  } finally {
    await service.close();
  }
});

Deno.test("a browser-style EventSource reconnects across server-closed connections and resumes exactly", async () => {
  // The server closes each connection after 1 s; EventSource reconnects
  // with Last-Event-ID on its own, and stops when answered 204 at the end.
  const service = await startTestService({ STREAM_MAX_SECONDS: "1" });
  try {
    const epochs = 250; // a few seconds: several server-closed connections
    const task = await service.start("meter_test_001", { epochs, batch_size: 256 });
    const received: { id: string; status: string }[] = [];
    const source = new EventSource(`${service.url}/trainmodel/stream/${task.task_id}`);
    let opens = 0;
    source.onopen = () => opens++;
    const closed = new Promise<void>((resolve) => {
      source.onmessage = (e) => {
        const body = JSON.parse(e.data);
        if (body.type !== "heartbeat") received.push({ id: e.lastEventId, status: body.status });
      };
      source.onerror = () => {
        if (source.readyState === EventSource.CLOSED) resolve();
      };
    });
    await closed;
    source.close();
    const ids = received.map((r) => r.id);
    assert.ok(opens >= 2, `reconnected ${opens - 1} times`);
    assert.equal(new Set(ids).size, ids.length, "no repeats across reconnects");
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => {
        const [am, as] = a.split("-").map(Number), [bm, bs] = b.split("-").map(Number);
        return am - bm || as - bs;
      }),
    );
    assert.equal(received.at(-1)?.status, "SUCCESS");
    const epochsSeen = received.filter((r) => r.status === "TRAINING_MODEL").length;
    assert.equal(epochsSeen, epochs + 1, "the epoch-0 event and every epoch arrived exactly once");
  } finally {
    await service.close();
  }
});

Deno.test("a bad or unknown Last-Event-ID gets a clear answer", async () => {
  const service = await startTestService();
  try {
    const task = await service.start("meter_test_002", { epochs: 1 });
    const url = `${service.url}/trainmodel/stream/${task.task_id}`;
    const bad = await fetch(url, { headers: { "Last-Event-ID": "banana" } });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.code, "invalid_last_event_id");
    // An id from the future is not ours: the stream starts at the current state.
    const future = await openStream(url, { lastEventId: "99999999999999-0" });
    const [first] = await readUntil(future, isStatus);
    future.close();
    assert.equal(statusOf(first).task_id, task.task_id);
  } finally {
    await service.close();
  }
});
