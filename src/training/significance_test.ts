import assert from "node:assert/strict";
import { gainInStandardErrors } from "./significance.ts";

/** A deterministic pseudo-random series in [-1, 1). */
function noise(length: number, seed: number): Float64Array {
  let s = seed;
  return Float64Array.from({ length }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 1073741824 - 1;
  });
}

Deno.test("a correction that explains part of every block is many standard errors of gain", () => {
  const targets = noise(240 * 4, 1);
  const halves = targets.map((t) => t / 2);
  assert.ok(gainInStandardErrors(targets, halves, 240, 4, 24) > 10);
});

Deno.test("a correction unrelated to the targets gains nothing clear, and one that adds error is negative", () => {
  const targets = noise(240 * 4, 2);
  const unrelated = noise(240 * 4, 3).map((v) => v * 0.05);
  const t = gainInStandardErrors(targets, unrelated, 240, 4, 24);
  assert.ok(t < 2, `t = ${t}`);
  assert.ok(gainInStandardErrors(targets, targets.map((v) => -v), 240, 4, 24) < -10);
});

Deno.test("a gain in one day of ten is not clear, though the mean error is lower", () => {
  const targets = noise(240 * 4, 4);
  const corrections = new Float64Array(240 * 4);
  for (let i = 0; i < 24 * 4; i++) corrections[i] = targets[i]; // the first day only
  const t = gainInStandardErrors(targets, corrections, 240, 4, 24);
  assert.ok(t > 0 && t < 2, `t = ${t}`);
  assert.equal(
    gainInStandardErrors(targets, corrections, 20, 4, 24),
    0,
    "one block: nothing to judge by",
  );
});
