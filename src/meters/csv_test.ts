import assert from "node:assert/strict";
import { parseReadingsCsv, parseTimestamp } from "./csv.ts";

Deno.test("the published meter format parses as it is", async () => {
  const text = await Deno.readTextFile(
    new URL("./demo_data/electricity_ucam_b21_2019.csv", import.meta.url),
  );
  const { series, rejected } = parseReadingsCsv(text);
  assert.deepEqual(rejected, []);
  assert.equal(series.timestamps.length, 8760);
  assert.equal(series.timestamps[0], Date.UTC(2019, 0, 1, 0));
  assert.equal(series.timestamps.at(-1), Date.UTC(2019, 11, 31, 23));
  const firstValue = Number(text.split("\n")[1].split(",")[1]);
  assert.equal(series.values[0], firstValue);
});

Deno.test("bad lines are reported with their line numbers", () => {
  const { series, rejected } = parseReadingsCsv(
    "datetime,load\n2024-01-01 00:00:00,1\n2024-01-01 01:00:00,abc\nyesterday,2\n2024-01-01 02:00:00,3,4\n",
  );
  assert.equal(series.values.length, 1);
  assert.deepEqual(rejected.map((r) => r.line), [3, 4, 5]);
  assert.match(rejected[0].reason, /not a number/);
  assert.match(rejected[1].reason, /timestamp/);
});

Deno.test("timestamps with a zone are honoured, without one are wall time", () => {
  assert.equal(
    parseTimestamp("2024-03-01T10:00:00+01:00"),
    Date.UTC(2024, 2, 1, 9),
  );
  assert.equal(parseTimestamp("2024-03-01 10:00"), Date.UTC(2024, 2, 1, 10));
  assert.ok(Number.isNaN(parseTimestamp("01/03/2024")));
});
