import assert from "node:assert/strict";
import { pace, TURN_BYTES } from "./write_pacer.ts";

Deno.test("bulk writes past a turn's budget wait for later turns, in order", async () => {
  const half = TURN_BYTES / 2;
  assert.equal(pace(half), undefined, "within the budget: write now");
  assert.equal(pace(half), undefined);
  const order: number[] = [];
  const later = [1, 2, 3].map((n) => pace(half)!.then(() => order.push(n)));
  assert.ok(later.every((p) => p instanceof Promise), "past it: wait");
  await later[1];
  assert.deepEqual(order, [1, 2], "two fit in the next turn");
  await later[2];
  assert.deepEqual(order, [1, 2, 3]);
  // Let the pacer's last turn clear what was spent (no timer left behind).
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(pace(1), undefined);
  await new Promise((r) => setTimeout(r, 5));
});
