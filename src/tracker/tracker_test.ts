import assert from "node:assert/strict";
import { createMemoryBroker } from "../broker/memory_broker.ts";
import { createTracker } from "./tracker.ts";

const meter = { meter_id: "t1", meter_type: "electricity" as const };
const options = { epochs: 3, batch_size: 32, learning_rate: 0.01 };

function setup() {
  const broker = createMemoryBroker({ taskTtlSeconds: 60 });
  return { broker, tracker: createTracker(broker) };
}

async function created(tracker: ReturnType<typeof createTracker>) {
  const outcome = await tracker.create(meter, options);
  assert.ok(outcome.created);
  return outcome.task;
}

Deno.test("a new task is PENDING at 0% and its job is queued", async () => {
  const { broker, tracker } = setup();
  const task = await created(tracker);
  assert.equal(task.status, "PENDING");
  assert.equal(task.progress, 0);
  assert.equal(task.estimated_completion, null);
  const delivery = await broker.claimJob("w", 1000);
  assert.equal(delivery?.job.task_id, task.task_id);
  assert.deepEqual(delivery?.job.options, options);
  const again = await tracker.create(meter, options);
  assert.deepEqual(again, { created: false, activeTaskId: task.task_id });
});

Deno.test("progress never goes down and is a whole number", async () => {
  const { tracker } = setup();
  const { task_id } = await created(tracker);
  await tracker.update(task_id, { status: "FETCHING_DATA", progress: 5 });
  await tracker.update(task_id, { status: "PREPROCESSING", progress: 10 });
  const a = await tracker.update(task_id, {
    status: "TRAINING_MODEL",
    progress: 40.6,
  });
  assert.equal(a?.progress, 41);
  const b = await tracker.update(task_id, {
    status: "TRAINING_MODEL",
    progress: 20,
  });
  assert.equal(b?.progress, 41);
  const c = await tracker.update(task_id, {
    status: "SAVING_MODEL",
    progress: 150,
  });
  assert.equal(c?.progress, 100);
});

Deno.test("moves outside the state machine are refused", async () => {
  const { tracker } = setup();
  const { task_id } = await created(tracker);
  await assert.rejects(
    tracker.update(task_id, { status: "SAVING_MODEL" }),
    /cannot move from PENDING to SAVING_MODEL/,
  );
  assert.equal((await tracker.get(task_id))?.task.status, "PENDING");
});

Deno.test("a cancelled task takes no further report", async () => {
  const { tracker } = setup();
  const { task_id } = await created(tracker);
  await tracker.update(task_id, { status: "FETCHING_DATA" });
  const cancel = await tracker.cancel(task_id);
  assert.equal(cancel.outcome, "cancelled");
  assert.equal(
    await tracker.update(task_id, { status: "PREPROCESSING" }),
    null,
  );
  const again = await tracker.cancel(task_id);
  assert.equal(again.outcome, "already_final");
  assert.equal(
    (await tracker.cancel(crypto.randomUUID())).outcome,
    "unknown",
  );
  const current = await tracker.get(task_id);
  assert.equal(current?.task.status, "CANCELLED");
  assert.equal(current?.task.estimated_completion, null);
});

Deno.test("concurrent reports and a cancel all land or stop cleanly", async () => {
  const { broker, tracker } = setup();
  const { task_id } = await created(tracker);
  await tracker.update(task_id, { status: "FETCHING_DATA" });
  await tracker.update(task_id, { status: "PREPROCESSING" });
  const reports = Array.from(
    { length: 20 },
    (_, i) => tracker.update(task_id, { status: "TRAINING_MODEL", progress: 20 + i }),
  );
  const [cancel] = await Promise.all([tracker.cancel(task_id), ...reports]);
  assert.equal(cancel.outcome, "cancelled");
  const log = await broker.readEvents(task_id, "0-0");
  assert.equal(log.at(-1)?.task.status, "CANCELLED");
  const progress = log.map((e) => e.task.progress);
  assert.deepEqual(progress, [...progress].sort((a, b) => a - b));
});

Deno.test("reports from an older attempt are ignored", async () => {
  const { tracker } = setup();
  const { task_id } = await created(tracker);
  await tracker.update(task_id, { status: "FETCHING_DATA", attempt: 1 });
  const retry = await tracker.update(task_id, {
    status: "RETRYING",
    attempt: 2,
  });
  assert.equal(retry?.attempt, 2);
  assert.equal(
    await tracker.update(task_id, {
      status: "FAILURE",
      error: "x",
      attempt: 1,
    }),
    null,
  );
  const next = await tracker.update(task_id, {
    status: "FETCHING_DATA",
    attempt: 2,
  });
  assert.equal(next?.status, "FETCHING_DATA");
});

Deno.test("SUCCESS sets progress to 100 and clears the estimate", async () => {
  const { tracker } = setup();
  const { task_id } = await created(tracker);
  for (
    const status of [
      "FETCHING_DATA",
      "PREPROCESSING",
      "TRAINING_MODEL",
    ] as const
  ) {
    await tracker.update(task_id, {
      status,
      estimated_completion: "2030-01-01T00:00:00.000Z",
    });
  }
  assert.equal(
    (await tracker.get(task_id))?.task.estimated_completion,
    "2030-01-01T00:00:00.000Z",
  );
  await tracker.update(task_id, { status: "SAVING_MODEL" });
  const done = await tracker.update(task_id, {
    status: "SUCCESS",
    message: "ok",
  });
  assert.equal(done?.progress, 100);
  assert.equal(done?.estimated_completion, null);
  assert.equal(done?.message, "ok");
});

Deno.test("updates skip the read while the remembered state is current, and recover when it is not", async () => {
  const broker = createMemoryBroker({ taskTtlSeconds: 60 });
  let reads = 0;
  const counting = { ...broker, getTask: (id: string) => (reads++, broker.getTask(id)) };
  const tracker = createTracker(counting);
  const other = createTracker(broker); // another process
  const { task_id } = await created(tracker);
  await tracker.update(task_id, { status: "FETCHING_DATA" });
  await tracker.update(task_id, { status: "PREPROCESSING" });
  assert.equal(reads, 0, "no reads while this tracker made every change");
  await other.update(task_id, { status: "TRAINING_MODEL", progress: 50 });
  const next = await tracker.update(task_id, { status: "TRAINING_MODEL", progress: 40 });
  assert.equal(next?.progress, 50, "the conflict brought in the other change");
  await other.cancel(task_id);
  assert.equal(await tracker.update(task_id, { status: "TRAINING_MODEL" }), null);
  assert.equal((await broker.getTask(task_id))?.task.status, "CANCELLED");
});

Deno.test("a group's outcome does not depend on reading the group back once its tasks exist", async () => {
  const { broker, tracker } = setup();
  // A broker that stored the group but whose next read fails (a Redis REST call that times out).
  broker.getTaskGroup = () => Promise.reject(new Error("the broker did not answer"));
  const meters = [meter, { meter_id: "t2", meter_type: "gas" as const }];
  const outcome = await tracker.createGroup(meters, options, "fleet-admin");
  assert.equal(outcome.created.length, 2);
  assert.ok(outcome.group);
  assert.equal(outcome.group.requested_by, "fleet-admin");
  assert.deepEqual(
    outcome.group.tasks,
    outcome.created.map((t) => ({
      task_id: t.task_id,
      meter_type: t.meter_type,
      meter_id: t.meter_id,
    })),
  );
});
