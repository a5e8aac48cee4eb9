import assert from "node:assert/strict";
import { fitRidge, predictRidge } from "./ridge.ts";

Deno.test("ridge recovers a known linear map and its bias", () => {
  // y0 = 2·x0 − x1 + 3, y1 = 0.5·x1 + 1, with small noise-free data.
  const rows = 400, d = 2, h = 2;
  const x = new Float32Array(rows * d), y = new Float32Array(rows * h);
  for (let r = 0; r < rows; r++) {
    const a = Math.sin(r), b = Math.cos(r * 0.7);
    x[r * d] = a;
    x[r * d + 1] = b;
    y[r * h] = 2 * a - b + 3;
    y[r * h + 1] = 0.5 * b + 1;
  }
  const model = fitRidge(x, y, rows, d, h);
  const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-2, `${a} ≈ ${b}`);
  near(model.weights[0], 2);
  near(model.weights[2], -1);
  near(model.weights[3], 0.5);
  near(model.bias[0], 3);
  near(model.bias[1], 1);
  const pred = predictRidge(model, new Float32Array([1, 1]), 1);
  near(pred[0], 4);
  near(pred[1], 1.5);
});

Deno.test("the penalty shrinks weights on noisy, redundant features", () => {
  const rows = 200, d = 20, h = 1;
  const x = new Float32Array(rows * d), y = new Float32Array(rows * h);
  let seed = 1;
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) - 0.5;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < d; j++) x[r * d + j] = rand();
    y[r] = x[r * d] + 0.5 * rand();
  }
  const model = fitRidge(x, y, rows, d, h);
  assert.ok(model.lambda > 0);
  assert.ok(Math.abs(model.weights[0] - 1) < 0.3, "the real signal survives");
});
