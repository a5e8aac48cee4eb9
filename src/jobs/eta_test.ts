import assert from "node:assert/strict";
import { estimateCompletion, SAVE_ALLOWANCE_MS } from "./eta.ts";

Deno.test("the estimate extrapolates the measured time per epoch", () => {
  // 4 of 10 epochs took 8 s: 6 more epochs at 2 s each.
  const now = 1_000_000;
  const eta = estimateCompletion(now - 8000, 4, 10, now);
  assert.equal(eta, new Date(now + 12_000 + SAVE_ALLOWANCE_MS).toISOString());
});

Deno.test("no estimate before the first epoch; saving only after the last", () => {
  assert.equal(estimateCompletion(0, 0, 10, 5000), null);
  assert.equal(
    estimateCompletion(0, 10, 10, 5000),
    new Date(5000 + SAVE_ALLOWANCE_MS).toISOString(),
  );
});
