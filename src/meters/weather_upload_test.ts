import assert from "node:assert/strict";
import { parseWeatherUpload } from "./weather_upload.ts";

const window = { earliest: Date.UTC(2000, 0, 1), latest: Date.UTC(2030, 0, 1) };

Deno.test("a weather service's CSV: the temperature column by its header, other columns ignored", async () => {
  const text = await Deno.readTextFile(
    new URL("../../tests/fixtures/weather/bedford_2019.csv", import.meta.url),
  );
  const parsed = parseWeatherUpload(text, false, window);
  assert.deepEqual(parsed.problems, []);
  assert.equal(parsed.series.timestamps.length, 8760);
  assert.equal(parsed.series.timestamps[0], Date.UTC(2019, 0, 1));
  assert.equal(parsed.series.values[0], 8.2, "air_temperature, not humidity (81.6)");
  assert.equal(parsed.series.values[1], 8.5);
});

Deno.test("a plain timestamp,temperature CSV, with or without header, and JSON", () => {
  const plain = parseWeatherUpload(
    "2019-01-01T01:00:00Z,-2.5\n2019-01-01T00:00:00Z,3\n",
    false,
    window,
  );
  assert.deepEqual(plain.problems, []);
  assert.deepEqual(plain.series, {
    timestamps: [Date.UTC(2019, 0, 1, 0), Date.UTC(2019, 0, 1, 1)],
    values: [3, -2.5],
  });
  const headed = parseWeatherUpload("timestamp,temperature\n2019-01-01 00:00,4.5\n", false, window);
  assert.deepEqual(headed.series.values, [4.5]);
  const json = parseWeatherUpload(
    JSON.stringify([{ timestamp: "2019-01-01T00:00:00Z", temperature: -1 }]),
    true,
    window,
  );
  assert.deepEqual(json.problems, []);
  assert.deepEqual(json.series.values, [-1]);
});

Deno.test("every bad line is named: unreadable times, non-numbers, implausible values, repeats", () => {
  const parsed = parseWeatherUpload(
    [
      "datetime,air_temperature [degC]",
      "2019-01-01 00:00:00,5",
      "2019-02-30 00:00:00,5",
      "2019-01-01 01:00:00,warm",
      "2019-01-01 02:00:00,291.5",
      "2019-01-01 00:00:00,6",
      "2019-01-01 03:00:00,-4",
    ].join("\n"),
    false,
    window,
  );
  assert.deepEqual(parsed.problems.map((p) => p.line), [3, 4, 5, 6]);
  assert.match(parsed.problems[0].reason, /not a real date/);
  assert.match(parsed.problems[1].reason, /"warm" is not a number/);
  assert.match(parsed.problems[2].reason, /291.5 is not a plausible outdoor temperature/);
  assert.match(parsed.problems[3].reason, /repeats line 2/);
  const empty = parseWeatherUpload("datetime,temperature\n", false, window);
  assert.match(empty.problems[0].reason, /no temperatures/);
  const notArray = parseWeatherUpload('{"timestamp": 1}', true, window);
  assert.match(notArray.problems[0].reason, /JSON array/);
});

Deno.test("a weather CSV run together on one line (curl -d @file) is refused saying to use --data-binary", () => {
  const parsed = parseWeatherUpload(
    "datetime,air_temperature [degC]2019-01-01 00:00:00,8.22019-01-01 01:00:00,8.5",
    false,
    window,
  );
  assert.equal(parsed.problems.length, 1);
  assert.equal(parsed.problems[0].line, 1);
  assert.match(parsed.problems[0].reason, /line breaks were lost.*--data-binary/);
  assert.deepEqual(parseWeatherUpload("2019-01-01 00:00:00,8.2", false, window).problems, []);
});

Deno.test("a JSON item's bad field is shown as the JSON had it, quoted once", () => {
  const parsed = parseWeatherUpload(
    JSON.stringify([{ timestamp: "2019-01-01T00:00:00Z", temperature: "2" }, { temperature: 1 }]),
    true,
    window,
  );
  assert.deepEqual(parsed.problems.map((p) => p.reason), [
    'temperature "2" is not a number (°C, a JSON number, such as -3.5)',
    "timestamp is missing",
  ]);
});
