import assert from "node:assert/strict";
import { createMemoryBroker } from "../broker/memory_broker.ts";
import { createEventHub } from "../broker/event_hub.ts";
import { createTracker } from "../tracker/tracker.ts";
import type { TaskEvent } from "../domain/task.ts";
import { coalesceReads } from "./coalesced_reads.ts";
import { followTask } from "./task_feed.ts";

const meter = { meter_id: "feed", meter_type: "electricity" as const };
const options = { epochs: 1, batch_size: 8, learning_rate: 0.1 };

function setup() {
  const broker = createMemoryBroker({ taskTtlSeconds: 60 });
  const hub = createEventHub(broker);
  return { broker, hub, tracker: createTracker(broker) };
}

/** The feed's events one by one, across its batches. */
async function* flat(gen: AsyncGenerator<TaskEvent[]>): AsyncGenerator<TaskEvent> {
  for await (const batch of gen) yield* batch;
}

async function take(gen: AsyncGenerator<TaskEvent>, n: number) {
  const out: TaskEvent[] = [];
  for (let i = 0; i < n; i++) {
    const r = await gen.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

Deno.test("without a last id the feed starts at the current state, then goes live to the end", async () => {
  const { broker, hub, tracker } = setup();
  const created = await tracker.create(meter, options);
  assert.ok(created.created);
  const id = created.task.task_id;
  await tracker.update(id, { status: "FETCHING_DATA" });
  const ac = new AbortController();
  const feed = flat(followTask({ broker, hub }, id, null, ac.signal));
  const [first] = await take(feed, 1);
  assert.equal(first.task.status, "FETCHING_DATA");
  await tracker.update(id, { status: "PREPROCESSING" });
  await tracker.cancel(id);
  const rest = await take(feed, 5);
  assert.deepEqual(rest.map((e) => e.task.status), [
    "PREPROCESSING",
    "CANCELLED",
  ]);
  assert.equal(hub.watchers(), 0, "the watcher is gone once the task ended");
});

Deno.test("resuming from an id yields exactly the later events, even those racing the read", async () => {
  const { broker, hub, tracker } = setup();
  const created = await tracker.create(meter, options);
  assert.ok(created.created);
  const id = created.task.task_id;
  await tracker.update(id, { status: "FETCHING_DATA" });
  await tracker.update(id, { status: "PREPROCESSING" });
  const log = await broker.readEvents(id, "0-0");
  const ac = new AbortController();
  const feed = flat(followTask({ broker, hub }, id, log[0].id, ac.signal));
  // Events committed while the feed starts are both in the log and live:
  const racing = (async () => {
    for (let p = 20; p < 30; p++) {
      await tracker.update(id, { status: "TRAINING_MODEL", progress: p });
    }
    await tracker.update(id, { status: "SAVING_MODEL" });
    await tracker.update(id, { status: "SUCCESS" });
  })();
  const got: TaskEvent[] = [];
  for await (const e of feed) got.push(e);
  await racing;
  const all = await broker.readEvents(id, "0-0");
  assert.deepEqual(got.map((e) => e.id), all.slice(1).map((e) => e.id));
});

Deno.test("aborting a waiting feed ends it and removes its watcher", async () => {
  const { broker, hub, tracker } = setup();
  const created = await tracker.create(meter, options);
  assert.ok(created.created);
  const ac = new AbortController();
  const feed = flat(followTask(
    { broker, hub },
    created.task.task_id,
    null,
    ac.signal,
  ));
  await take(feed, 1);
  assert.equal(hub.watchers(), 1);
  const pending = feed.next();
  ac.abort();
  assert.deepEqual(await pending, { done: true, value: undefined });
  assert.equal(hub.watchers(), 0);
});

Deno.test("a resync catches up from the log without repeats", async () => {
  const { broker, hub, tracker } = setup();
  const created = await tracker.create(meter, options);
  assert.ok(created.created);
  const id = created.task.task_id;
  // A hub whose upstream drops events until it resyncs.
  let deaf = false;
  const resyncs = new Set<() => void>();
  const lossy = {
    ...hub,
    watch: (taskId: string, l: Parameters<typeof hub.watch>[1]) => {
      resyncs.add(() => l.onResync?.());
      return hub.watch(taskId, {
        onEvent: (e) => deaf || l.onEvent(e),
        onResync: l.onResync,
      });
    },
  };
  const feed = flat(followTask(
    { broker, hub: lossy },
    id,
    null,
    new AbortController().signal,
  ));
  const [first] = await take(feed, 1);
  deaf = true;
  await tracker.update(id, { status: "FETCHING_DATA" });
  await tracker.update(id, { status: "PREPROCESSING" });
  deaf = false;
  resyncs.forEach((r) => r());
  await tracker.cancel(id);
  const rest = await take(feed, 10);
  assert.equal(first.task.status, "PENDING");
  assert.deepEqual(rest.map((e) => e.task.status), [
    "FETCHING_DATA",
    "PREPROCESSING",
    "CANCELLED",
  ]);
});

Deno.test("streams resuming from the same id at once each get every event (coalesced reads share one array)", async () => {
  const { broker, hub, tracker } = setup();
  const created = await tracker.create(meter, options);
  assert.ok(created.created);
  const id = created.task.task_id;
  await tracker.update(id, { status: "FETCHING_DATA" });
  await tracker.update(id, { status: "PREPROCESSING" });
  await tracker.update(id, { status: "TRAINING_MODEL" });
  await tracker.cancel(id);
  const reads = coalesceReads(broker);
  const ac = new AbortController();
  const [a, b] = await Promise.all([
    take(flat(followTask({ broker: reads, hub }, id, "0-0", ac.signal)), 10),
    take(flat(followTask({ broker: reads, hub }, id, "0-0", ac.signal)), 10),
  ]);
  const statuses = ["PENDING", "FETCHING_DATA", "PREPROCESSING", "TRAINING_MODEL", "CANCELLED"];
  assert.deepEqual(a.map((e) => e.task.status), statuses);
  assert.deepEqual(b.map((e) => e.task.status), statuses, "and both end at the final event");
});
