import assert from "node:assert/strict";
import { parseReadingsCsv } from "../meters/csv.ts";
import type { TrainingOptions } from "../domain/task.ts";
import { createTrainingPool } from "./training_pool.ts";

const series = parseReadingsCsv(
  await Deno.readTextFile(
    new URL("../../tests/fixtures/meters/gas_ucam_b2_2019.csv", import.meta.url),
  ),
).series;
const long: TrainingOptions = { epochs: 500, batch_size: 16, learning_rate: 0.001 };
const short: TrainingOptions = { epochs: 1, batch_size: 256, learning_rate: 0.001 };

/** Resolves at the first epoch of a training. */
function firstEpoch() {
  const { promise, resolve } = Promise.withResolvers<void>();
  return { reached: promise, hooks: { onEpoch: () => resolve() } };
}

Deno.test("a cancelled training stops its thread's work, and the same thread trains the next job", async () => {
  const pool = createTrainingPool(1);
  try {
    const controller = new AbortController();
    const { reached, hooks } = firstEpoch();
    const training = pool.train(series, "gas", long, hooks, controller.signal);
    await reached;
    controller.abort(new Error("cancelled by the test"));
    await assert.rejects(training, /cancelled by the test/);
    assert.equal(pool.threads(), 1, "the thread is kept, not terminated");

    const next = await pool.train(series, "gas", short, {}, new AbortController().signal);
    assert.ok(next.model.weightData.byteLength > 0);
    assert.equal(pool.started(), 1, "no thread was started for the next job");
    assert.equal(pool.threads(), 1);
  } finally {
    pool.close();
  }
});

Deno.test("jobs past the pool's size wait for a thread; cancelling a waiting one touches no thread", async () => {
  const pool = createTrainingPool(1);
  try {
    const first = new AbortController();
    const { reached, hooks } = firstEpoch();
    const running = pool.train(series, "gas", long, hooks, first.signal);
    await reached;
    const waiting = new AbortController();
    const queued = pool.train(series, "gas", short, {}, waiting.signal);
    waiting.abort(new Error("cancelled while waiting"));
    await assert.rejects(queued, /cancelled while waiting/);
    assert.equal(pool.started(), 1);

    const third = pool.train(series, "gas", short, {}, new AbortController().signal);
    first.abort(new Error("stop"));
    await assert.rejects(running, /stop/);
    await third;
    assert.equal(pool.started(), 1, "never more than one thread");
  } finally {
    pool.close();
  }
});

Deno.test("a thread that does not stop within the grace period is terminated and replaced", async () => {
  const pool = createTrainingPool(1, { abortGraceMs: 0 });
  try {
    const controller = new AbortController();
    const { reached, hooks } = firstEpoch();
    const training = pool.train(series, "gas", long, hooks, controller.signal);
    await reached;
    controller.abort(new Error("cancelled"));
    await assert.rejects(training, /cancelled/);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(pool.threads(), 0, "terminated at once");
    await pool.train(series, "gas", short, {}, new AbortController().signal);
    assert.equal(pool.started(), 2);
  } finally {
    pool.close();
  }
});

Deno.test("training errors come back as they are, and the thread stays", async () => {
  const pool = createTrainingPool(1);
  try {
    const few = {
      timestamps: series.timestamps.slice(0, 100),
      values: series.values.slice(0, 100),
    };
    await assert.rejects(
      pool.train(few, "gas", short, {}, new AbortController().signal),
      (error: Error & { code?: string }) => error.code === "not_enough_readings",
    );
    assert.equal(pool.threads(), 1);
  } finally {
    pool.close();
  }
});
