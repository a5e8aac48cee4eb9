import assert from "node:assert/strict";
import { parseDecimal, parseReadingsCsv, parseTimestamp, readTimestamp } from "./csv.ts";

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

Deno.test("only real calendar hours are read, never moved to the next day", () => {
  for (
    const impossible of [
      "2021-02-29 00:00:00",
      "2021-04-31 10:00",
      "2021-01-01 24:00:00",
      "2021-13-01 00:00",
      "2021-01-01 10:60",
      "2021-01-01T00:00:00+25:00",
    ]
  ) {
    assert.ok(Number.isNaN(parseTimestamp(impossible)), impossible);
  }
  assert.equal(parseTimestamp("2024-02-29 23:00:00"), Date.UTC(2024, 1, 29, 23), "a real leap day");
  assert.deepEqual(readTimestamp("2024-03-01T10:00:00Z"), {
    at: Date.UTC(2024, 2, 1, 10),
    zoned: true,
  });
  assert.deepEqual(readTimestamp("2024-03-01 10:00"), {
    at: Date.UTC(2024, 2, 1, 10),
    zoned: false,
  });
  assert.equal(parseTimestamp("2024-03-01T10:00:00-0530"), Date.UTC(2024, 2, 1, 15, 30));
});

Deno.test("values are plain decimals: no hex, binary or Infinity", () => {
  for (const bad of ["0x10", "0b11", "0o7", "Infinity", "", " ", "1,5", "1_000"]) {
    assert.ok(Number.isNaN(parseDecimal(bad)), JSON.stringify(bad));
  }
  assert.equal(parseDecimal("12.5"), 12.5);
  assert.equal(parseDecimal(".5"), 0.5);
  assert.equal(parseDecimal("1e3"), 1000);
  const { rejected } = parseReadingsCsv("2024-01-01 00:00,0x10\n2024-01-01 01:00,0b11\n");
  assert.deepEqual(rejected.map((r) => r.line), [1, 2]);
  assert.match(rejected[0].reason, /"0x10" is not a number/);
});

Deno.test("a huge bad token is quoted short in its reason", () => {
  const token = "y".repeat(1_000_000);
  const { rejected } = parseReadingsCsv(`datetime,load\n${token},1\n`);
  assert.equal(rejected.length, 1);
  assert.ok(rejected[0].reason.length < 200, `${rejected[0].reason.length} characters`);
});

Deno.test("exports as spreadsheets write them: a byte-order mark, CRLF, quoted fields", () => {
  const text =
    '\uFEFFdatetime,"load [kWh]"\r\n"2024-01-01 00:00:00","1.5"\r\n2024-01-01 01:00:00,2\r\n';
  const { series, rejected } = parseReadingsCsv(text);
  assert.deepEqual(rejected, []);
  assert.deepEqual(series.timestamps, [Date.UTC(2024, 0, 1, 0), Date.UTC(2024, 0, 1, 1)]);
  assert.deepEqual(series.values, [1.5, 2]);
});

Deno.test("semicolon-separated exports read their decimal commas", () => {
  const text = 'Zeitstempel;Verbrauch\n2024-01-01 00:00:00;12,5\n2024-01-01 01:00:00;"3,25"\n';
  const { series, rejected } = parseReadingsCsv(text);
  assert.deepEqual(rejected, []);
  assert.deepEqual(series.values, [12.5, 3.25]);
  const bad = parseReadingsCsv("2024-01-01 00:00:00;1,2,3\n");
  assert.equal(bad.rejected[0].line, 1, "one decimal comma, no more");
});

Deno.test("a quote that is never closed is refused, naming the line it opens on", () => {
  const text =
    'datetime,load\n2024-01-01 00:00:00,1\n2024-01-01 01:00:00,"2\n2024-01-01 02:00:00,3\n';
  const { rejected } = parseReadingsCsv(text);
  assert.equal(rejected.length, 1);
  assert.equal(rejected[0].line, 3);
  assert.match(rejected[0].reason, /quote/);
});

Deno.test("the separator is taken from the first reading, not from the header's names", () => {
  const commas = parseReadingsCsv("datetime,load [kWh; metered]\n2024-01-01 00:00:00,1.5\n");
  assert.deepEqual(commas.rejected, []);
  assert.deepEqual(commas.series.values, [1.5]);
  const semicolons = parseReadingsCsv("time,value\n2024-01-01 00:00:00;1,5\n");
  assert.deepEqual(semicolons.series.values, [1.5]);
});

Deno.test("quote trouble is named on its own line, blank lines counted", () => {
  const unclosed = parseReadingsCsv(
    'timestamp,value\n2019-01-01 00:00:00,1\n\n\n2019-01-01 01:00:00,"1\n2019-01-01 02:00:00,2\n',
  );
  assert.deepEqual(unclosed.rejected.map((r) => r.line), [5]);
  const stray = parseReadingsCsv(
    'datetime,load "kWh\n2019-01-01 00:00:00,1\n2019-01-01 01:00:00,"1"x\n2019-01-01 02:00:00,2\n2019-01-01 03:00:00,abc\n',
  );
  assert.deepEqual(
    stray.rejected.map((r) => r.line),
    [3, 5],
    "the header with an inch mark is read",
  );
  assert.equal(stray.series.values.length, 2);
});
