import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { ISSUE_HOURS, issueHourOneHot, type SampleSet } from "./features.ts";
import { buildModel, fitLinearHeads } from "./model.ts";

/** Samples whose target is 3·x + the issue hour: each hour needs its own head. */
function samples(count: number): SampleSet {
  const hours = Uint8Array.from({ length: count }, (_, i) => i % ISSUE_HOURS);
  const inputs = Float32Array.from({ length: count }, (_, i) => Math.sin(i * 0.37));
  return {
    inputs,
    issueHours: issueHourOneHot(hours),
    hours,
    targets: Float32Array.from(inputs, (x, i) => 3 * x + hours[i]),
    origins: Array.from({ length: count }, (_, i) => i),
    count,
    features: 1,
  };
}

Deno.test("one linear head per issue hour, solved in closed form", () => {
  const heads = fitLinearHeads(samples(24 * 40), 1, 0.15);
  assert.equal(heads.length, ISSUE_HOURS);
  for (const [hour, head] of heads.entries()) {
    assert.ok(Math.abs(head.weights[0] - 3) < 0.05, `hour ${hour}: weight ${head.weights[0]}`);
    assert.ok(Math.abs(head.bias[0] - hour) < 0.05, `hour ${hour}: bias ${head.bias[0]}`);
  }
});

Deno.test("heads refit with the deep path's outputs fit what it leaves, not what it already adds", () => {
  // The deep path already adds 2·x of the target 3·x + hour: the heads keep the other 1·x.
  const set = samples(24 * 40);
  const deepOutputs = Float32Array.from(set.inputs, (x) => 2 * x);
  const alone = fitLinearHeads(set, 1, 0.15);
  const beside = fitLinearHeads(set, 1, 0.15, deepOutputs);
  for (const [hour, head] of beside.entries()) {
    assert.ok(Math.abs(alone[hour].weights[0] - 3) < 0.05, `alone, hour ${hour}`);
    assert.ok(Math.abs(head.weights[0] - 1) < 0.05, `hour ${hour}: weight ${head.weights[0]}`);
    assert.ok(Math.abs(head.bias[0] - hour) < 0.05, `hour ${hour}: bias ${head.bias[0]}`);
  }
});

Deno.test("the network's linear path applies the issue hour's head; the deep path starts at zero", () => {
  const set = samples(24 * 40);
  const heads = fitLinearHeads(set, 1, 0.15);
  const { model, deep } = buildModel(1, 1, 0.01, heads);
  const out = tf.tidy(() =>
    (model.predict([
      tf.tensor2d([0.5, 0.5, -0.2], [3, 1]),
      tf.tensor2d(issueHourOneHot([0, 7, 23]), [3, ISSUE_HOURS]),
    ]) as tf.Tensor).arraySync() as number[][]
  );
  for (const [i, expected] of [1.5, 8.5, 22.4].entries()) {
    assert.ok(Math.abs(out[i][0] - expected) < 0.1, `${out[i][0]} ≈ ${expected}`);
  }
  const zero = tf.tidy(() =>
    (deep.predict([
      tf.ones([1, 1]),
      tf.tensor2d(issueHourOneHot([3]), [1, ISSUE_HOURS]),
    ]) as tf.Tensor).dataSync()[0]
  );
  assert.equal(zero, 0);
  assert.ok(
    !model.getLayer("linear").trainable,
    "gradient descent leaves the closed-form heads be",
  );
  model.dispose();
});
