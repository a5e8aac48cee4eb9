import assert from "node:assert/strict";
import { roundTo } from "./round.ts";

Deno.test("roundTo keeps the decimals asked for, no float noise", () => {
  assert.equal(roundTo(0.1 + 0.2, 4), 0.3);
  assert.equal(roundTo(1.23456, 3), 1.235);
  assert.equal(roundTo(-0.018649, 4), -0.0186);
  assert.equal(roundTo(12.5, 0), 13);
});
