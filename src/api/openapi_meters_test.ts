import assert from "node:assert/strict";
import { timeProblem } from "./openapi_meters.ts";

Deno.test("query times: ISO 8601 with an offset; a '+' that a URL turned into a space is named", () => {
  for (
    const ok of ["2019-06-03T01:00:00Z", "2019-06-03T01:00+01:00", "2019-06-03T01:00:00.5-05:00"]
  ) {
    assert.equal(timeProblem(ok), null, ok);
  }
  assert.match(
    timeProblem("2019-06-03T01:00:00 01:00")!,
    /"\+" arrived as a space.*write it %2B, as in 2019-06-03T01:00:00%2B01:00$/,
  );
  assert.equal(
    timeProblem("2019-06-03", "2019-03-04T00:00:00Z"),
    "must be an ISO 8601 time with its offset, such as 2019-03-04T00:00:00Z",
  );
  assert.match(timeProblem("yesterday 01:00")!, /such as 2018-12-31T00:00:00Z$/);
});
