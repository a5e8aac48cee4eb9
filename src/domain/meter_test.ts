import assert from "node:assert/strict";
import { meterKey } from "./meter.ts";

Deno.test("meterKey joins type and id", () => {
  assert.equal(meterKey({ meter_type: "gas", meter_id: "b_1" }), "gas/b_1");
});
