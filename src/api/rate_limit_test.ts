import assert from "node:assert/strict";
import { limitKindFor } from "./rate_limit.ts";

Deno.test("a batch counts as one request against the train limit", () => {
  assert.equal(limitKindFor("POST", "/trainmodel/"), "train");
  assert.equal(limitKindFor("POST", "/trainmodel/batch"), "train");
  assert.equal(limitKindFor("GET", "/trainmodel/groups/x"), null);
  assert.equal(limitKindFor("POST", "/meters/gas/b1/readings"), "upload");
  assert.equal(limitKindFor("POST", "/sites/bedford/weather"), "upload");
  assert.equal(limitKindFor("GET", "/sites/bedford/weather"), null);
});
