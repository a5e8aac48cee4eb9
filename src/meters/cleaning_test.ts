import assert from "node:assert/strict";
import { cleanReadings, MAX_FILL_HOURS } from "./cleaning.ts";
import { parseReadingsCsv } from "./csv.ts";
import { HOUR_MS } from "../domain/series.ts";

const H = HOUR_MS;
const fixture = async (name: string) =>
  parseReadingsCsv(
    await Deno.readTextFile(new URL(`../../tests/fixtures/meters/${name}`, import.meta.url)),
  ).series;

function series(values: number[], start = Date.UTC(2024, 0, 1)) {
  return { timestamps: values.map((_, i) => start + i * H), values };
}

Deno.test("electricity: the real b0 export's zero days are gaps, not consumption", async () => {
  const raw = await fixture("electricity_ucam_b0_2018.csv");
  const zeros = raw.values.filter((v) => v === 0).length;
  const clean = cleanReadings(raw, "electricity");
  assert.equal(clean.report.zeros_as_missing, zeros, "every zero in this export is a missing hour");
  assert.ok(clean.values.every((v) => v !== 0));
  assert.equal(clean.report.gaps_left_hours, zeros, "day-long gaps are left for training to skip");
  // The zero day of 2018-03-31 is now NaN.
  const index = (Date.UTC(2018, 2, 31, 5) - clean.start) / H;
  assert.ok(Number.isNaN(clean.values[index]));
});

Deno.test("electricity: a lone zero between normal hours is a gap and is filled", () => {
  const clean = cleanReadings(series([50, 52, 0, 54, 56]), "electricity");
  assert.equal(clean.report.zeros_as_missing, 1);
  assert.equal(clean.report.interpolated, 1);
  assert.equal(clean.values[2], 53);
});

Deno.test("gas: summer zeros are real, a long winter run of zeros is a gap", () => {
  const summer = Array(24 * 5).fill(0);
  const july = cleanReadings(series([3, ...summer, 4], Date.UTC(2024, 6, 1)), "gas");
  assert.equal(july.report.zeros_as_missing, 0);
  assert.equal(july.values.filter((v) => v === 0).length, summer.length);
  const january = cleanReadings(series([30, ...summer, 40], Date.UTC(2024, 0, 10)), "gas");
  assert.equal(january.report.zeros_as_missing, summer.length);
  const shortWinter = cleanReadings(series([30, 0, 0, 0, 40], Date.UTC(2024, 0, 10)), "gas");
  assert.equal(shortWinter.report.zeros_as_missing, 0, "a few zero hours can be real (boiler off)");
});

Deno.test("gas: the real b2 export is kept as it is", async () => {
  const raw = await fixture("gas_ucam_b2_2019.csv");
  const clean = cleanReadings(raw, "gas");
  assert.equal(clean.report.zeros_as_missing, 0);
  assert.equal(clean.report.gaps_left_hours, 0);
  assert.equal(clean.values.length, 8760);
});

Deno.test("spikes far above the meter's range are masked; gaps fill only up to the limit", () => {
  const values = Array.from({ length: 500 }, (_, i) => 100 + (i % 24));
  values[250] = 100_000;
  const clean = cleanReadings(series(values), "electricity");
  assert.equal(clean.report.spikes_removed, 1);
  assert.ok(clean.values[250] > 100 && clean.values[250] < 130, "the spike hour is interpolated");

  const timestamps = [0, 1, 2, 3 + MAX_FILL_HOURS + 1, 3 + MAX_FILL_HOURS + 2].map((h) => h * H);
  const gappy = cleanReadings({ timestamps, values: [1, 2, 3, 4, 5] }, "water");
  assert.equal(gappy.report.interpolated, 0);
  assert.equal(gappy.report.gaps_left_hours, MAX_FILL_HOURS + 1);
});
