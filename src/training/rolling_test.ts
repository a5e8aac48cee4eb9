import assert from "node:assert/strict";
import { rollForecasts } from "./rolling.ts";
import { DEFAULT_WINDOW, scalingOf } from "./features.ts";

// Six weeks of the same day shape every day, starting on a Monday at midnight.
const start = Date.UTC(2024, 0, 1);
const day = (h: number) => 10 + 5 * Math.sin((2 * Math.PI * h) / 24);
const values = Float64Array.from({ length: 42 * 24 }, (_, i) => day(i % 24));
const grid = { start, values };
const scaling = scalingOf(values);

Deno.test("with a zero correction, each day ahead is the similar-day profile, rolled a week on", () => {
  const rows: number[] = [];
  const out = rollForecasts(grid, scaling, DEFAULT_WINDOW, [30 * 24, 30 * 24 + 13], () => 7, (
    inputs,
    hours,
    n,
  ) => {
    rows.push(n);
    assert.equal(hours.length, n);
    assert.equal(inputs.length % n, 0);
    return new Float32Array(n * 24);
  });
  assert.deepEqual(rows, [2, 2, 2, 2, 2, 2, 2], "one batched prediction per day ahead");
  for (const [i, origin] of [30 * 24, 30 * 24 + 13].entries()) {
    assert.equal(out[i]!.length, 168);
    out[i]!.forEach((v, k) => assert.ok(Math.abs(v - day((origin + k) % 24)) < 1e-9));
  }
});

Deno.test("the model's correction carries into the days after it, and values stay at least zero", () => {
  const [out] = rollForecasts(
    grid,
    scaling,
    DEFAULT_WINDOW,
    [30 * 24],
    () => 2,
    (_, __, n) => new Float32Array(n * 24).fill(-100),
  );
  assert.equal(out!.length, 48);
  assert.ok(out!.every((v) => v === 0));
});

Deno.test("only readings before the origin are read; too little history gives null", () => {
  const later = Float64Array.from(values);
  later.fill(1000, 30 * 24); // readings at and after the origin
  const predict = (_: Float32Array, __: number[], n: number) => new Float32Array(n * 24);
  const a = rollForecasts(grid, scaling, DEFAULT_WINDOW, [30 * 24], () => 3, predict)[0]!;
  const b = rollForecasts(
    { start, values: later },
    scaling,
    DEFAULT_WINDOW,
    [30 * 24],
    () => 3,
    predict,
  )[0]!;
  assert.deepEqual(a, b);
  assert.deepEqual(rollForecasts(grid, scaling, DEFAULT_WINDOW, [100], () => 1, predict), [null]);
});
