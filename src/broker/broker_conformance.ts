/**
 * The broker conformance suite: every behaviour of the broker port, run
 * against each implementation. If two implementations differ here, one of
 * them is wrong.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  BadCursor,
  type Broker,
  type MeterPage,
  ReadingsRefused,
  type TaskPage,
} from "./broker.ts";
import { compareEventIds } from "./event_id.ts";
import type { Task, TaskEvent, TrainingJob } from "../domain/task.ts";
import type { TaskGroup } from "../domain/task_group.ts";

/** Builds a fresh, empty broker for one test. */
export type BrokerFactory = (
  options: { taskTtlSeconds: number },
) => Promise<Broker>;

/** Options of the suite. */
export interface ConformanceOptions {
  /** Deno test options for every case, e.g. sanitizers or `ignore`. */
  testOptions?: Partial<Deno.TestDefinition>;
}

/** A task status object for tests. */
export function sampleTask(overrides: Partial<Task> = {}): Task {
  const now = new Date().toISOString();
  return {
    task_id: crypto.randomUUID(),
    status: "PENDING",
    progress: 0,
    message: "Queued",
    updated_at: now,
    estimated_completion: null,
    result: null,
    error: null,
    error_details: null,
    meter_id: `m_${crypto.randomUUID().slice(0, 8)}`,
    meter_type: "electricity",
    created_at: now,
    attempt: 1,
    options: { epochs: 2, batch_size: 32, learning_rate: 0.01 },
    metrics: null,
    ...overrides,
  };
}

/** The training job of a task, as `createTask` queues it. */
export function jobOf(task: Task): TrainingJob {
  return {
    task_id: task.task_id,
    meter_id: task.meter_id,
    meter_type: task.meter_type,
    options: task.options,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Registers the conformance tests for one broker implementation. */
export function brokerConformance(
  name: string,
  factory: BrokerFactory,
  options: ConformanceOptions = {},
): void {
  const test = (
    title: string,
    fn: (broker: Broker) => Promise<void>,
    ttl = 3600,
  ) =>
    Deno.test({
      ...options.testOptions,
      name: `${name} broker: ${title}`,
      fn: async () => {
        const broker = await factory({ taskTtlSeconds: ttl });
        try {
          await fn(broker);
        } finally {
          await broker.close();
        }
      },
    });

  async function create(broker: Broker, overrides: Partial<Task> = {}) {
    const task = sampleTask(overrides);
    const result = await broker.createTask(task, jobOf(task));
    assert.ok(result.created, "createTask should create the task");
    return result.event;
  }

  async function advance(
    broker: Broker,
    from: TaskEvent,
    patch: Partial<Task>,
  ) {
    const result = await broker.commitTask(
      { ...from.task, ...patch },
      from.id,
    );
    assert.ok(result.committed, "commitTask should accept the current id");
    return result.event;
  }

  test("a created task is readable with its first event", async (broker) => {
    const first = await create(broker);
    assert.match(first.id, /^\d+-\d+$/);
    assert.deepEqual(await broker.getTask(first.task.task_id), first);
    assert.deepEqual(await broker.readEvents(first.task.task_id, "0-0"), [
      first,
    ]);
  });

  test("unknown tasks read as null and empty", async (broker) => {
    const id = crypto.randomUUID();
    assert.equal(await broker.getTask(id), null);
    assert.deepEqual(await broker.readEvents(id, "0-0"), []);
    const result = await broker.commitTask(sampleTask({ task_id: id }), "1-0");
    assert.deepEqual(result, { committed: false, current: null });
  });

  test("a meter has at most one active task", async (broker) => {
    const first = await create(broker, { meter_id: "shared_meter" });
    const second = sampleTask({ meter_id: "shared_meter" });
    assert.deepEqual(await broker.createTask(second, jobOf(second)), {
      created: false,
      activeTaskId: first.task.task_id,
    });
    assert.equal(await broker.getTask(second.task_id), null);
    await create(broker, { meter_id: "shared_meter", meter_type: "gas" });
  });

  test("commits are compare-and-set on the last event id", async (broker) => {
    const first = await create(broker);
    const second = await advance(broker, first, {
      status: "FETCHING_DATA",
      progress: 5,
    });
    assert.ok(compareEventIds(first.id, second.id) < 0);
    const stale = await broker.commitTask(
      { ...first.task, status: "CANCELLED" },
      first.id,
    );
    assert.equal(stale.committed, false);
    assert.deepEqual(!stale.committed && stale.current, second);
    assert.equal(
      (await broker.getTask(first.task.task_id))?.task.status,
      "FETCHING_DATA",
    );
  });

  test("event ids increase and the log keeps every event in order", async (broker) => {
    let event = await create(broker);
    const ids = [event.id];
    for (let p = 1; p <= 20; p++) {
      event = await advance(broker, event, {
        status: "TRAINING_MODEL",
        progress: p,
      });
      ids.push(event.id);
    }
    const log = await broker.readEvents(event.task.task_id, "0-0");
    assert.deepEqual(log.map((e) => e.id), ids);
    assert.deepEqual(log.map((e) => e.task.progress), [...Array(21).keys()]);
    for (let i = 1; i < ids.length; i++) {
      assert.ok(compareEventIds(ids[i - 1], ids[i]) < 0);
    }
    const after = await broker.readEvents(event.task.task_id, ids[14]);
    assert.deepEqual(after.map((e) => e.id), ids.slice(15));
  });

  test("a final task accepts no change and frees its meter", async (broker) => {
    const first = await create(broker, { meter_id: "freed" });
    const done = await advance(broker, first, { status: "CANCELLED" });
    const late = await broker.commitTask(
      { ...done.task, status: "FAILURE" },
      done.id,
    );
    assert.equal(late.committed, false);
    await create(broker, { meter_id: "freed" });
  });

  test("subscribers hear every event once, in order, until they leave", async (broker) => {
    const heard: TaskEvent[] = [];
    const unsubscribe = await broker.subscribe({
      onEvent: (e) => heard.push(e),
    });
    let event = await create(broker);
    const sent = [event];
    for (let p = 1; p <= 5; p++) {
      event = await advance(broker, event, { progress: p });
      sent.push(event);
    }
    for (let i = 0; i < 100 && heard.length < sent.length; i++) await sleep(10);
    assert.deepEqual(heard.map(({ id, task }) => ({ id, task })), sent);
    unsubscribe();
    unsubscribe();
    await advance(broker, event, { progress: 9 });
    await sleep(50);
    assert.equal(heard.length, sent.length);
  });

  test("every task's events are in one log, in commit order, as they were published", async (broker) => {
    const start = await broker.readAllEvents(null, 10);
    assert.deepEqual(start.events, []);
    assert.equal(start.gap, false);
    const heard: TaskEvent[] = [];
    const unsubscribe = await broker.subscribe({ onEvent: (e) => heard.push(e) });
    try {
      let a = await create(broker);
      let b = await create(broker);
      for (let p = 1; p <= 3; p++) {
        a = await advance(broker, a, { progress: p });
        b = await advance(broker, b, { progress: p });
      }
      await advance(broker, a, { status: "SUCCESS", progress: 100 });
      for (let i = 0; i < 100 && heard.length < 9; i++) await sleep(10);
      assert.equal(heard.length, 9);
      const seqs = heard.map((e) => e.seq!);
      for (let i = 1; i < seqs.length; i++) {
        assert.ok(compareEventIds(seqs[i - 1], seqs[i]) < 0, "seq increases in commit order");
      }
      const all = await broker.readAllEvents(start.head, 100);
      assert.deepEqual(all.events, heard, "the log holds what was published, with its seq");
      assert.equal(all.head, seqs.at(-1));
      assert.equal(all.gap, false);
      // From any position: the events after it, a page at a time.
      const tail = await broker.readAllEvents(seqs[3], 2);
      assert.deepEqual(tail.events, heard.slice(4, 6));
      const end = await broker.readAllEvents(all.head, 100);
      assert.deepEqual(end, { events: [], head: all.head, gap: false });
      // A position past the head is not this log's: resuming from it is a gap.
      const [ms] = all.head.split("-").map(Number);
      assert.equal((await broker.readAllEvents(`${ms + 60_000}-0`, 10)).gap, true);
    } finally {
      unsubscribe();
    }
  });

  test("a final task and its events expire after the TTL", async (broker) => {
    const first = await create(broker);
    const live = await create(broker);
    await advance(broker, first, { status: "SUCCESS", progress: 100 });
    await sleep(1300);
    assert.equal(await broker.getTask(first.task.task_id), null);
    assert.deepEqual(await broker.readEvents(first.task.task_id, "0-0"), []);
    assert.ok(
      await broker.getTask(live.task.task_id),
      "live tasks do not expire",
    );
  }, 1);

  test("jobs are delivered once, reclaimed after the lease, and acknowledged", async (broker) => {
    let queued = 0;
    const stop = await broker.onJobQueued(() => queued++);
    const event = await create(broker);
    for (let i = 0; i < 100 && queued === 0; i++) await sleep(10);
    assert.equal(queued, 1);
    stop();

    const first = await broker.claimJob("w1", 200);
    assert.ok(first);
    assert.equal(first.job.task_id, event.task.task_id);
    assert.equal(first.attempt, 1);
    assert.equal(await broker.claimJob("w2", 200), null);
    await sleep(120);
    assert.ok(await broker.renewLease(first, "w1"));
    await sleep(120);
    assert.equal(await broker.claimJob("w2", 200), null, "a renewed lease is not reclaimed");

    await sleep(300);
    const second = await broker.claimJob("w2", 200);
    assert.ok(second, "an expired lease is reclaimed");
    assert.equal(second.job.task_id, event.task.task_id);
    assert.equal(second.attempt, 2);
    assert.equal(await broker.renewLease(first, "w1"), false);

    await broker.ackJob(second);
    assert.equal(await broker.renewLease(second, "w2"), false);
    await sleep(50);
    assert.equal(await broker.claimJob("w3", 200), null);
  });

  test("stats count tasks by status and the queue's jobs and oldest job", async (broker) => {
    assert.deepEqual(await broker.stats(), {
      tasks: {},
      queuedJobs: 0,
      deliveredJobs: 0,
      oldestJobMs: null,
    });
    const before = Date.now();
    const first = await create(broker);
    await sleep(20);
    const second = await create(broker);
    const third = await create(broker);
    await advance(broker, second, { status: "FETCHING_DATA", progress: 5 });
    await advance(broker, third, { status: "CANCELLED" });
    const stats = await broker.stats();
    assert.deepEqual(stats.tasks, { PENDING: 1, FETCHING_DATA: 1, CANCELLED: 1 });
    assert.equal(stats.queuedJobs, 3);
    assert.equal(stats.deliveredJobs, 0);
    assert.ok(stats.oldestJobMs !== null, "the oldest job's time is known");
    assert.ok(
      stats.oldestJobMs >= before - 5 && stats.oldestJobMs <= Date.parse(second.task.created_at),
      `the oldest job is the first task's (${stats.oldestJobMs}, queued from ${before})`,
    );

    const claimed = await broker.claimJob("w1", 60_000);
    assert.equal(claimed?.job.task_id, first.task.task_id);
    const during = await broker.stats();
    assert.equal(during.queuedJobs, 3);
    assert.equal(during.deliveredJobs, 1);
    await broker.ackJob(claimed!);
    const after = await broker.stats();
    assert.equal(after.queuedJobs, 2);
    assert.equal(after.deliveredJobs, 0);
    assert.ok(after.oldestJobMs! > stats.oldestJobMs, "the oldest job is now the second");

    await sleep(1300);
    assert.deepEqual(
      (await broker.stats()).tasks,
      { PENDING: 1, FETCHING_DATA: 1 },
      "an expired task is not counted",
    );
  }, 1);

  /** Creates a group of new tasks, one per meter id. */
  function groupOf(meterIds: string[]): { group: TaskGroup; tasks: Task[] } {
    const group = {
      group_id: crypto.randomUUID(),
      created_at: new Date().toISOString(),
      tasks: [],
    };
    const tasks = meterIds.map((meter_id) => sampleTask({ meter_id, group_id: group.group_id }));
    return { group, tasks };
  }

  test("stats count a group's waiting jobs in the queue and its age", async (broker) => {
    const before = Date.now();
    const { group, tasks } = groupOf(["s_a", "s_b", "s_c"]);
    await broker.createTaskGroup(group, tasks.map((task) => ({ task, job: jobOf(task) })));
    const stats = await broker.stats();
    assert.equal(stats.queuedJobs, 3, "every job of the group is queued");
    assert.ok(stats.oldestJobMs !== null && stats.oldestJobMs >= before - 1000);
    const claimed = await broker.claimJob("w1", 60_000);
    assert.ok(claimed, "a group's job is claimed");
    const during = await broker.stats();
    assert.equal(during.queuedJobs, 3, "the claimed job is still queued until acknowledged");
    assert.equal(during.deliveredJobs, 1);
    await broker.ackJob(claimed);
    assert.equal((await broker.stats()).queuedJobs, 2);
  });

  test("a group's tasks are created in one step, a busy meter skipped, the group kept", async (broker) => {
    const busy = await create(broker, { meter_id: "busy_meter" });
    const { group, tasks } = groupOf(["g_a", "busy_meter", "g_b"]);
    let queued = 0;
    const stop = await broker.onJobQueued(() => queued++);
    const result = await broker.createTaskGroup(
      { ...group, requested_by: "facilities" },
      tasks.map((task) => ({ task, job: jobOf(task) })),
    );
    assert.deepEqual(result.created.map((e) => e.task), [tasks[0], tasks[2]]);
    assert.deepEqual(result.skipped, [{
      meter: { meter_type: "electricity", meter_id: "busy_meter" },
      activeTaskId: busy.task.task_id,
    }]);
    for (const event of result.created) {
      assert.deepEqual(await broker.getTask(event.task.task_id), event);
    }
    assert.equal(await broker.getTask(tasks[1].task_id), null);
    assert.deepEqual(await broker.getTaskGroup(group.group_id), {
      ...group,
      requested_by: "facilities",
      tasks: [tasks[0], tasks[2]].map(({ task_id, meter_type, meter_id }) => ({
        task_id,
        meter_type,
        meter_id,
      })),
    });
    assert.equal(await broker.getTaskGroup(crypto.randomUUID()), null);
    // The group's meters are busy now, and each job is delivered once.
    const again = sampleTask({ meter_id: "g_a" });
    assert.equal((await broker.createTask(again, jobOf(again))).created, false);
    const single = await broker.claimJob("w", 60_000); // queued first, and single
    assert.equal(single?.job.task_id, busy.task.task_id);
    const claimed = [await broker.claimJob("w", 60_000), await broker.claimJob("w", 60_000)];
    assert.deepEqual(
      claimed.map((d) => d?.job),
      [tasks[0], tasks[2]].map((task) => ({ ...jobOf(task), group_id: group.group_id })),
    );
    assert.equal(await broker.claimJob("w", 60_000), null);
    for (let i = 0; i < 100 && queued === 0; i++) await sleep(10);
    assert.ok(queued > 0, "idle workers are woken");
    stop();
  });

  test("a group whose every meter is busy stores nothing", async (broker) => {
    const busy = await create(broker, { meter_id: "busy_meter" });
    await broker.claimJob("w", 60_000);
    const { group, tasks } = groupOf(["busy_meter"]);
    const result = await broker.createTaskGroup(group, [{ task: tasks[0], job: jobOf(tasks[0]) }]);
    assert.deepEqual(result, {
      created: [],
      skipped: [{
        meter: { meter_type: "electricity", meter_id: "busy_meter" },
        activeTaskId: busy.task.task_id,
      }],
    });
    assert.equal(await broker.getTaskGroup(group.group_id), null);
    assert.equal(await broker.claimJob("w", 60_000), null);
  });

  test("single tasks are claimed before group tasks, and groups take turns", async (broker) => {
    const a = groupOf(["a_1", "a_2", "a_3"]);
    const b = groupOf(["b_1", "b_2"]);
    for (const { group, tasks } of [a, b]) {
      await broker.createTaskGroup(group, tasks.map((task) => ({ task, job: jobOf(task) })));
    }
    const single = await create(broker, { meter_id: "single_1" });
    const order: string[] = [];
    const first = await broker.claimJob("w", 60_000);
    order.push(first!.job.meter_id);
    // A single task queued while group tasks wait goes ahead of them too.
    await create(broker, { meter_id: "single_2" });
    for (let delivery; (delivery = await broker.claimJob("w", 60_000));) {
      order.push(delivery.job.meter_id);
      await broker.ackJob(delivery);
    }
    assert.equal(order[0], single.task.meter_id);
    assert.deepEqual(order, ["single_1", "single_2", "a_1", "b_1", "a_2", "b_2", "a_3"]);
  });

  test("a group's job released or reclaimed is delivered again like any other", async (broker) => {
    const { group, tasks } = groupOf(["g_1", "g_2"]);
    await broker.createTaskGroup(group, tasks.map((task) => ({ task, job: jobOf(task) })));
    const first = await broker.claimJob("w1", 60_000);
    assert.equal(first?.job.meter_id, "g_1");
    await broker.releaseJob(first!, "w1");
    const again = await broker.claimJob("w2", 60_000);
    assert.deepEqual([again?.job.meter_id, again?.attempt], ["g_1", 2]);
    const second = await broker.claimJob("w2", 60_000);
    assert.equal(second?.job.meter_id, "g_2");
    assert.equal(await broker.claimJob("w2", 60_000), null);
  });

  test("a released job is claimed again at once, as the next attempt", async (broker) => {
    const event = await create(broker);
    const first = await broker.claimJob("w1", 60_000);
    assert.ok(first);
    await broker.releaseJob(first, "w2"); // not w2's to release: no effect
    assert.equal(await broker.claimJob("w2", 60_000), null);
    let woken = 0;
    const stop = await broker.onJobQueued(() => woken++);
    await broker.releaseJob(first, "w1");
    const again = await broker.claimJob("w2", 60_000);
    assert.equal(again?.job.task_id, event.task.task_id);
    assert.equal(again?.attempt, 2);
    assert.equal(await broker.renewLease(first, "w1"), false);
    for (let i = 0; i < 100 && woken === 0; i++) await sleep(10);
    assert.ok(woken > 0, "idle workers are woken");
    stop();
  });

  test("readings merge by timestamp, per meter, and read back in order", async (broker) => {
    const meter = { meter_id: "r1", meter_type: "water" as const };
    const h = 3_600_000;
    assert.equal(await broker.getReadings(meter), null);
    assert.equal(await broker.countReadings(meter), 0);
    assert.deepEqual(
      await broker.mergeReadings(meter, { timestamps: [2 * h, 0, h], values: [2.25, 1.5, 0] }),
      { added: 3, replaced: 0 },
    );
    assert.deepEqual(await broker.getReadings(meter), {
      timestamps: [0, h, 2 * h],
      values: [1.5, 0, 2.25],
    });
    assert.deepEqual(
      await broker.mergeReadings(meter, { timestamps: [2 * h, 3 * h], values: [9.5, 1e-3] }),
      { added: 1, replaced: 1 },
      "a re-sent hour replaces the stored value",
    );
    assert.deepEqual(await broker.getReadings(meter), {
      timestamps: [0, h, 2 * h, 3 * h],
      values: [1.5, 0, 9.5, 1e-3],
    });
    assert.equal(await broker.countReadings(meter), 4, "counted without reading them");
    assert.equal(await broker.getReadings({ ...meter, meter_type: "gas" }), null);
    const hours = Array.from({ length: 3 * 8760 }, (_, i) => i * h);
    const big = await broker.mergeReadings({ meter_id: "big", meter_type: "gas" }, {
      timestamps: hours,
      values: hours.map((_, i) => i % 100),
    });
    assert.equal(big.added, 3 * 8760, "three years of hourly readings fit");
    const back = await broker.getReadings({ meter_id: "big", meter_type: "gas" });
    assert.equal(back?.values.length, 3 * 8760);
    assert.equal(back?.values[4321], 21);
  });

  test("models are stored whole per meter and read back byte for byte", async (broker) => {
    const meter = { meter_id: "m1", meter_type: "steam" as const };
    assert.equal(await broker.getModel(meter), null);
    assert.equal(await broker.modelTrainedAt(meter), null);
    assert.equal(await broker.getModelJson(meter), null);
    const weights = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) % 256);
    const model = {
      trainedAt: "2026-01-02T03:04:05.000Z",
      json: '{"format":"layers-model","x":"é"}',
      weights,
    };
    await broker.putModel(meter, model);
    assert.deepEqual(await broker.getModel(meter), model);
    assert.equal(await broker.modelTrainedAt(meter), model.trainedAt);
    assert.deepEqual(await broker.getModelJson(meter), {
      trainedAt: model.trainedAt,
      json: model.json,
    });
    await broker.putModel(meter, {
      ...model,
      trainedAt: "2026-02-01T00:00:00.000Z",
      weights: weights.slice(0, 8),
    });
    assert.equal(
      (await broker.getModel(meter))?.weights.length,
      8,
      "a newer model replaces the old",
    );
    assert.equal(await broker.getModel({ ...meter, meter_type: "gas" }), null);
  });

  test("a range of readings is deleted, from inclusive to exclusive; an emptied meter leaves the listing", async (broker) => {
    const meter = { meter_id: "d1", meter_type: "electricity" as const };
    const other = { meter_id: "d2", meter_type: "electricity" as const };
    const h = 3_600_000;
    const hours = Array.from({ length: 2000 }, (_, i) => (i + 10) * h);
    await broker.mergeReadings(meter, { timestamps: hours, values: hours.map((_, i) => i) });
    await broker.mergeReadings(other, { timestamps: [10 * h, 11 * h], values: [1, 2] });
    assert.equal(await broker.deleteReadings(meter, 12 * h, 1500 * h), 1488);
    const left = await broker.getReadings(meter);
    assert.deepEqual(left?.timestamps.slice(0, 3), [10 * h, 11 * h, 1500 * h]);
    assert.equal(left?.timestamps.length, 2000 - 1488);
    assert.deepEqual(left?.values.slice(0, 3), [0, 1, 1490]);
    assert.equal(await broker.deleteReadings(meter, 12 * h, 1500 * h), 0, "nothing left there");
    assert.equal(await broker.countReadings(other), 2, "other meters keep theirs");
    const listed = async () =>
      (await broker.listMeters({ limit: 10, after: null })).meters.map((m) => m.meter_id);
    assert.deepEqual(await listed(), ["d1", "d2"]);
    assert.equal(await broker.deleteReadings(meter, -8.64e15, 8.64e15), 2000 - 1488);
    assert.equal(await broker.getReadings(meter), null);
    assert.equal(await broker.countReadings(meter), 0);
    assert.deepEqual(await listed(), ["d2"], "a meter with no readings is not listed");
    assert.deepEqual(
      await broker.mergeReadings(meter, { timestamps: [h / 2], values: [3] }),
      { added: 1, replaced: 0 },
      "an emptied meter takes readings on any grid again",
    );
  });

  test("a meter is deleted with its model, unless a task for it is active", async (broker) => {
    const task = sampleTask({ meter_type: "gas" });
    const meter = { meter_id: task.meter_id, meter_type: task.meter_type };
    const h = 3_600_000;
    await broker.mergeReadings(meter, { timestamps: [0, h, 2 * h], values: [1, 2, 3] });
    await broker.putModel(meter, {
      trainedAt: "2026-01-01T00:00:00.000Z",
      json: "{}",
      weights: new Uint8Array(4),
    });
    const created = await broker.createTask(task, jobOf(task));
    assert.ok(created.created);
    assert.deepEqual(await broker.deleteMeter(meter), {
      deleted: false,
      activeTaskId: task.task_id,
    });
    assert.equal(await broker.countReadings(meter), 3, "nothing was removed");
    assert.ok(await broker.getModel(meter));

    const ended = await broker.commitTask({ ...task, status: "CANCELLED" }, created.event.id);
    assert.ok(ended.committed);
    assert.deepEqual(await broker.deleteMeter(meter), { deleted: true, readings: 3, model: true });
    assert.equal(await broker.getReadings(meter), null);
    assert.equal(await broker.getModel(meter), null);
    assert.equal(await broker.modelTrainedAt(meter), null);
    assert.deepEqual((await broker.listMeters({ limit: 10, after: null })).meters, []);
    assert.deepEqual(
      await broker.deleteMeter(meter),
      { deleted: true, readings: 0, model: false },
      "deleting again finds nothing",
    );
    const again = sampleTask({ meter_id: meter.meter_id, meter_type: meter.meter_type });
    assert.ok(
      (await broker.createTask(again, jobOf(again))).created,
      "the meter can be trained again",
    );
  });

  test("readings off the meter's hourly grid are refused whole, in the merge itself", async (broker) => {
    const meter = { meter_id: "grid", meter_type: "gas" as const };
    const h = 3_600_000;
    await broker.mergeReadings(meter, { timestamps: [0, h], values: [1, 2] });
    await assert.rejects(
      broker.mergeReadings(meter, { timestamps: [2 * h, 2.5 * h], values: [3, 4] }),
      (e: unknown) => e instanceof ReadingsRefused && e.reason === "off_grid" && e.detail === 0,
    );
    await assert.rejects(
      broker.mergeReadings(meter, { timestamps: [3.5 * h], values: [5] }),
      (e: unknown) => e instanceof ReadingsRefused && e.reason === "off_grid",
    );
    assert.deepEqual(await broker.getReadings(meter), { timestamps: [0, h], values: [1, 2] });
  });

  test("the readings limit holds in the merge, also for merges racing each other", async (broker) => {
    const meter = { meter_id: "cap", meter_type: "water" as const };
    const h = 3_600_000;
    const hours = (from: number, n: number) => Array.from({ length: n }, (_, i) => (from + i) * h);
    const series = (from: number, n: number) => ({
      timestamps: hours(from, n),
      values: hours(from, n).map(() => 1),
    });
    assert.deepEqual(await broker.mergeReadings(meter, series(0, 10), { maxReadings: 12 }), {
      added: 10,
      replaced: 0,
    });
    await assert.rejects(
      broker.mergeReadings(meter, series(5, 10), { maxReadings: 12 }),
      (e: unknown) =>
        e instanceof ReadingsRefused && e.reason === "too_many_readings" && e.detail === 15,
    );
    assert.equal(await broker.countReadings(meter), 10, "nothing of the refused merge stayed");
    assert.deepEqual(
      await broker.mergeReadings(meter, series(0, 10), { maxReadings: 10 }),
      { added: 0, replaced: 10 },
      "replacing readings adds none",
    );
    const racing = await Promise.allSettled(
      [100, 200, 300, 400].map((from) =>
        broker.mergeReadings(meter, series(from, 5), { maxReadings: 20 })
      ),
    );
    assert.equal(racing.filter((r) => r.status === "fulfilled").length, 2);
    assert.equal(await broker.countReadings(meter), 20, "never past the limit");
  });

  test("tasks are listed newest first, filtered, a page at a time, with no task twice", async (broker) => {
    const base = Date.UTC(2026, 0, 1);
    const made: Task[] = [];
    for (let i = 0; i < 7; i++) {
      // Two pairs share a creation time: the id breaks the tie.
      const at = new Date(base + Math.floor(i / 2) * 1000).toISOString();
      const event = await create(broker, {
        created_at: at,
        updated_at: at,
        meter_type: i % 2 ? "gas" : "electricity",
      });
      made.push(
        i === 3 ? (await advance(broker, event, { status: "CANCELLED" })).task : event.task,
      );
    }
    const newest = [...made].sort((a, b) =>
      Date.parse(b.created_at) - Date.parse(a.created_at) || (a.task_id < b.task_id ? 1 : -1)
    );
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const result: TaskPage = await broker.listTasks({ limit: 3, after });
      seen.push(...result.tasks.map((t) => t.task_id));
      after = result.next;
      if (!after) break;
    }
    assert.deepEqual(seen, newest.map((t) => t.task_id), "every task once, newest first");

    const gas = await broker.listTasks({ limit: 10, after: null, meterType: "gas" });
    assert.deepEqual(
      gas.tasks.map((t) => t.task_id),
      newest.filter((t) => t.meter_type === "gas").map((t) => t.task_id),
    );
    assert.equal(gas.next, null);
    const cancelled = await broker.listTasks({ limit: 10, after: null, status: ["CANCELLED"] });
    assert.deepEqual(cancelled.tasks.map((t) => t.task_id), [made[3].task_id]);
    assert.equal(cancelled.tasks[0].status, "CANCELLED", "the current state, not the first");
    const one = await broker.listTasks({ limit: 10, after: null, meterId: made[5].meter_id });
    assert.deepEqual(one.tasks.map((t) => t.task_id), [made[5].task_id]);
    await assert.rejects(broker.listTasks({ limit: 3, after: "not-a-cursor" }), BadCursor);
  });

  test("meters with readings are listed by type and id, a page at a time", async (broker) => {
    const readings = { timestamps: [Date.UTC(2026, 0, 1)], values: [1] };
    const meters = [
      { meter_type: "gas", meter_id: "b" },
      { meter_type: "electricity", meter_id: "z9" },
      { meter_type: "gas", meter_id: "a" },
      { meter_type: "electricity", meter_id: "a1" },
      { meter_type: "water", meter_id: "w" },
    ] as const;
    for (const meter of meters) await broker.mergeReadings(meter, readings);
    const keys: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const result: MeterPage = await broker.listMeters({ limit: 2, after });
      keys.push(...result.meters.map((m) => `${m.meter_type}/${m.meter_id}`));
      after = result.next;
      if (!after) break;
    }
    assert.deepEqual(keys, ["electricity/a1", "electricity/z9", "gas/a", "gas/b", "water/w"]);
    const gas = await broker.listMeters({ limit: 1, after: null, meterType: "gas" });
    assert.deepEqual(gas.meters, [{ meter_type: "gas", meter_id: "a" }]);
    const rest = await broker.listMeters({ limit: 5, after: gas.next, meterType: "gas" });
    assert.deepEqual(rest, { meters: [{ meter_type: "gas", meter_id: "b" }], next: null });
    await assert.rejects(broker.listMeters({ limit: 3, after: "../x" }), BadCursor);
  });
}
