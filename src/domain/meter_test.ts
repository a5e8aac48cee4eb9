import assert from "node:assert/strict";
import { meterIdProblem, meterKey } from "./meter.ts";

Deno.test("meterKey joins type and id", () => {
  assert.equal(meterKey({ meter_type: "gas", meter_id: "b_1" }), "gas/b_1");
});

Deno.test("meter ids are plain, and never a name file systems reserve", () => {
  for (const good of ["b21", "meter_test_001", "CONSOLE", "nul1x", "com10"]) {
    assert.equal(meterIdProblem(good), null, good);
  }
  for (const reserved of ["CON", "nul", "Aux", "COM1", "lpt9", "prn"]) {
    assert.match(meterIdProblem(reserved)!, /reserved/, reserved);
  }
  for (const bad of ["", "_x", "a/b", "x".repeat(65), "é"]) {
    assert.match(meterIdProblem(bad)!, /1 to 64 letters/, bad);
  }
});
