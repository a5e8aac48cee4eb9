import assert from "node:assert/strict";
import { needsRedis } from "../../tests/redis_server.ts";
import { type BrokerKind, testBroker } from "../../tests/test_brokers.ts";
import { createModelStore } from "../models/model_store.ts";
import { createTracker } from "../tracker/tracker.ts";
import type { TaskEvent } from "../domain/task.ts";
import { HOUR_MS } from "../domain/series.ts";
import { createJobRunner } from "./job_runner.ts";

function synthetic(days: number) {
  const start = Date.UTC(2024, 0, 1);
  return {
    timestamps: Array.from(
      { length: days * 24 },
      (_, i) => start + i * HOUR_MS,
    ),
    values: Array.from(
      { length: days * 24 },
      (_, i) => 50 + 20 * Math.sin((2 * Math.PI * i) / 24),
    ),
  };
}

async function setup(kind: BrokerKind, options: { leaseMs?: number; maxAttempts?: number } = {}) {
  const dir = await Deno.makeTempDir();
  const broker = await testBroker(kind, 60);
  const tracker = createTracker(broker);
  const runner = createJobRunner({
    broker,
    tracker,
    models: createModelStore({ broker: broker, dataDir: dir }),
    concurrency: 1,
    idleCheckMs: 50,
    ...options,
  });
  const events: TaskEvent[] = [];
  const unsubscribe = await broker.subscribe({
    onEvent: (e) => events.push(e),
  });
  return {
    dir,
    broker,
    tracker,
    runner,
    events,
    async waitFinal(taskId: string, timeoutMs = 60_000) {
      const until = Date.now() + timeoutMs;
      while (Date.now() < until) {
        const last = events.filter((e) => e.task.task_id === taskId).at(-1);
        if (
          last && ["SUCCESS", "FAILURE", "CANCELLED"].includes(last.task.status)
        ) return last.task;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`task ${taskId} did not finish`);
    },
    async close() {
      await runner.stop();
      unsubscribe();
      await broker.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

const meter = { meter_id: "runner_m", meter_type: "electricity" as const };
const options = { epochs: 3, batch_size: 64, learning_rate: 0.01 };
/** Long enough (seconds of training) that a test can act while it runs. */
const LONG = { epochs: 500, batch_size: 256, learning_rate: 0.01 };

/** Waits for a condition, failing with `what` after 30 s instead of hanging. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

for (const kind of ["memory", "sqlite", "redis"] as const) {
  Deno.test({
    name: `${kind} broker: a job runs through every stage to SUCCESS and saves the model`,
    ...(kind === "redis" ? needsRedis() : {}),
    fn: async () => {
      const t = await setup(kind);
      try {
        await t.broker.mergeReadings(meter, synthetic(60));
        await t.runner.start();
        const created = await t.tracker.create(meter, options);
        assert.ok(created.created);
        const final = await t.waitFinal(created.task.task_id);
        assert.equal(final.status, "SUCCESS", JSON.stringify(final.error_details));
        const statuses = t.events.map((e) => e.task.status);
        assert.deepEqual([...new Set(statuses)], [
          "PENDING",
          "FETCHING_DATA",
          "PREPROCESSING",
          "TRAINING_MODEL",
          "SAVING_MODEL",
          "SUCCESS",
        ]);
        const epochs = t.events.filter((e) => e.task.metrics && e.task.status === "TRAINING_MODEL")
          .map((e) => e.task.metrics!.epoch);
        assert.deepEqual(epochs, [1, 2, 3]);
        const etas = t.events.filter((e) => e.task.status === "TRAINING_MODEL").map(
          (e) => e.task.estimated_completion,
        );
        assert.equal(etas[0], null, "no estimate before the first epoch");
        assert.ok(
          etas.slice(1).every((eta) => eta && Date.parse(eta) > Date.parse(final.created_at)),
        );
        const progress = t.events.map((e) => e.task.progress);
        assert.deepEqual(progress, [...progress].sort((a, b) => a - b));
        assert.equal(
          final.result?.details.model_path,
          "models/electricity/runner_m",
        );
        assert.equal(final.result?.details.data_points, 60 * 24);
        const evaluation = final.result?.details.metrics as {
          served: string;
          holdout: { forecasts: number };
        };
        assert.ok(["model", "persistence_ensemble"].includes(evaluation.served));
        assert.ok(evaluation.holdout.forecasts > 0, "the result carries the holdout evaluation");
        assert.ok(final.result?.details.cleaning, "and what cleaning did");
        const json = JSON.parse(
          await Deno.readTextFile(
            `${t.dir}/models/electricity/runner_m/model.json`,
          ),
        );
        assert.equal(json.format, "layers-model");
      } finally {
        await t.close();
      }
    },
  });

  Deno.test({
    name:
      `${kind} broker: cancelling mid-training stops the job at once and nothing follows CANCELLED`,
    ...(kind === "redis" ? needsRedis() : {}),
    fn: async () => {
      const t = await setup(kind);
      try {
        await t.broker.mergeReadings(meter, synthetic(120));
        await t.runner.start();
        const created = await t.tracker.create(meter, LONG);
        assert.ok(created.created);
        const id = created.task.task_id;
        await until(() => t.events.some((e) => e.task.metrics?.epoch === 1), "the first epoch");
        const cancel = await t.tracker.cancel(id);
        assert.equal(cancel.outcome, "cancelled");
        const started = Date.now();
        await until(() => t.runner.active() === 0, "the runner to stop");
        assert.ok(Date.now() - started < 1000, "the job stops within a second");
        await new Promise((r) => setTimeout(r, 200));
        assert.equal(t.events.at(-1)?.task.status, "CANCELLED");
        assert.equal(
          await t.broker.claimJob("other", 1000),
          null,
          "the job was acknowledged",
        );
      } finally {
        await t.close();
      }
    },
  });

  Deno.test({
    name: `${kind} broker: a meter without readings fails with a plain reason`,
    ...(kind === "redis" ? needsRedis() : {}),
    fn: async () => {
      const t = await setup(kind);
      try {
        await t.runner.start();
        const created = await t.tracker.create({
          meter_id: "empty",
          meter_type: "gas",
        }, options);
        assert.ok(created.created);
        const final = await t.waitFinal(created.task.task_id);
        assert.equal(final.status, "FAILURE");
        assert.equal(final.error_details?.code, "no_readings");
        assert.equal(final.error_details?.stage, "FETCHING_DATA");
        assert.match(final.error!, /No readings are stored for gas\/empty/);
      } finally {
        await t.close();
      }
    },
  });

  Deno.test({
    name: `${kind} broker: too few readings fail in preprocessing with what is needed`,
    ...(kind === "redis" ? needsRedis() : {}),
    fn: async () => {
      const t = await setup(kind);
      try {
        await t.broker.mergeReadings(meter, synthetic(5));
        await t.runner.start();
        const created = await t.tracker.create(meter, options);
        assert.ok(created.created);
        const final = await t.waitFinal(created.task.task_id);
        assert.equal(final.error_details?.code, "not_enough_readings");
        assert.equal(final.error_details?.stage, "PREPROCESSING");
        assert.match(final.error_details!.hint, /at least \d+/);
      } finally {
        await t.close();
      }
    },
  });

  Deno.test({
    name:
      `${kind} broker: a job whose worker vanished is retried, and fails after the last attempt`,
    ...(kind === "redis" ? needsRedis() : {}),
    fn: async () => {
      const t = await setup(kind, { leaseMs: 300, maxAttempts: 2 });
      try {
        await t.broker.mergeReadings(meter, synthetic(60));
        const created = await t.tracker.create(meter, options);
        assert.ok(created.created);
        const id = created.task.task_id;
        // A worker claims the job, reports, then vanishes without renewing its lease.
        const lost = await t.broker.claimJob("vanished", 100);
        assert.equal(lost?.attempt, 1);
        await t.tracker.update(id, { status: "FETCHING_DATA", attempt: 1 });
        await new Promise((r) => setTimeout(r, 150));
        await t.runner.start();
        const final = await t.waitFinal(id);
        assert.equal(final.status, "SUCCESS");
        const retry = t.events.find((e) => e.task.status === "RETRYING");
        assert.equal(retry?.task.attempt, 2);
        assert.match(retry!.task.message, /attempt 2 of 2/);

        // Past the last attempt, the task fails with the reason.
        await t.runner.stop();
        const second = await t.tracker.create(
          { ...meter, meter_id: "doomed" },
          options,
        );
        assert.ok(second.created);
        for (let i = 0; i < 2; i++) {
          const d = await t.broker.claimJob(`vanished${i}`, 50);
          assert.ok(d, `claim ${i}`);
          await new Promise((r) => setTimeout(r, 80));
        }
        await t.runner.start();
        const doomed = await t.waitFinal(second.task.task_id);
        assert.equal(doomed.status, "FAILURE");
        assert.equal(doomed.error_details?.code, "attempts_exhausted");
      } finally {
        await t.close();
      }
    },
  });
  Deno.test({
    name:
      `${kind} broker: a stopping runner finishes within its grace period, or hands the job back`,
    ...(kind === "redis" ? needsRedis() : {}),
    fn: async () => {
      const t = await setup(kind);
      const other = createJobRunner({
        broker: t.broker,
        tracker: t.tracker,
        models: createModelStore({ broker: t.broker, dataDir: t.dir }),
        concurrency: 1,
      });
      try {
        await t.broker.mergeReadings(meter, synthetic(120));
        await t.runner.start();
        // A short job finishes within the grace period: no retry.
        const quick = await t.tracker.create(meter, options);
        assert.ok(quick.created);
        await until(
          () =>
            t.events.some((e) =>
              e.task.task_id === quick.task.task_id && e.task.status === "TRAINING_MODEL"
            ),
          "the quick job to train",
        );
        await t.runner.stop(30_000);
        const done = t.events.filter((e) => e.task.task_id === quick.task.task_id).at(-1)!.task;
        assert.equal(done.status, "SUCCESS");

        // A long job past the grace period is handed back and restarted at once elsewhere.
        await t.runner.start();
        const long = await t.tracker.create(meter, LONG);
        assert.ok(long.created);
        const id = long.task.task_id;
        await until(
          () => t.events.some((e) => e.task.task_id === id && e.task.metrics?.epoch === 1),
          "the first epoch",
        );
        await other.start();
        const stopped = Date.now();
        await t.runner.stop(100);
        await until(
          () => t.events.some((e) => e.task.task_id === id && e.task.status === "RETRYING"),
          "the RETRYING event",
        );
        assert.ok(
          Date.now() - stopped < 5000,
          "restarted without waiting for the lease to run out",
        );
        const retry = t.events.find((e) => e.task.task_id === id && e.task.status === "RETRYING")!;
        assert.equal(retry.task.attempt, 2);
        await until(
          () =>
            t.events.some((e) =>
              e.task.task_id === id && e.task.attempt === 2 && e.task.status === "TRAINING_MODEL"
            ),
          "attempt 2 to train",
        );
        await t.tracker.cancel(id);
      } finally {
        await other.stop();
        await t.close();
      }
    },
  });
}
