/**
 * The cleaning policy: what in a meter's readings is missing data rather
 * than consumption, per meter type, and how gaps are filled.
 *
 * Meter exports write missing hours as `0`, have spikes (a meter catching
 * up after an outage) and daylight-saving holes. The policy:
 * - electricity: a building's supply never drops to zero, so zero runs of
 *   2 hours or more are gaps, and so is a lone zero between clearly
 *   non-zero hours;
 * - gas, steam, hot water (heating): zeros are real (no heating in summer),
 *   except runs of 3 days or more in the heating season (November to
 *   March), when a heated building uses some;
 * - water, chilled water: zeros are real, except runs of 3 days or more;
 * - every type: a spike far above the meter's own range (over its 99.9th
 *   percentile plus 10 times its interquartile range) is masked;
 * - gaps of up to 3 hours are filled by linear interpolation; longer ones
 *   stay gaps, and training skips the windows that touch them.
 *
 * @module
 */
import type { MeterType } from "../domain/meter.ts";
import { HOUR_MS, toHourlyGrid } from "../domain/series.ts";
import type { ReadingSeries } from "../domain/series.ts";

/** What cleaning did, as reported in a task's result. */
export interface CleaningReport {
  /** Readings of 0 treated as missing data. */
  zeros_as_missing: number;
  /** Readings masked as spikes. */
  spikes_removed: number;
  /** Missing hours filled by interpolation (gaps of at most `MAX_FILL_HOURS`). */
  interpolated: number;
  /** Hours still missing after filling. */
  gaps_left_hours: number;
  /** The policy applied, in words. */
  policy: string;
}

/** A meter's readings on a contiguous hourly grid, NaN where missing. */
export interface CleanSeries {
  /** Time of the first hour. */
  start: number;
  /** One value per hour; NaN marks a gap. */
  values: Float64Array;
  /**
   * 1 for every hour the policy treats as missing (no reading, a zero taken
   * as missing, a spike), before short gaps are filled: the hours a meter's
   * summary reports missing and a forecast counts as estimated.
   */
  missing: Uint8Array;
  report: CleaningReport;
}

/** Longest gap filled by interpolation, in hours. */
export const MAX_FILL_HOURS = 3;

const HEATING: ReadonlySet<MeterType> = new Set(["gas", "steam", "hotwater"]);

function policyOf(type: MeterType): string {
  if (type === "electricity") {
    return "zero runs of 2+ hours, and lone zeros between non-zero hours, are missing";
  }
  if (HEATING.has(type)) return "zeros are real, except runs of 3+ days from November to March";
  return "zeros are real, except runs of 3+ days";
}

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))];
}

/** Cleans a meter's readings by its type's policy. */
export function cleanReadings(series: ReadingSeries, type: MeterType): CleanSeries {
  const grid = toHourlyGrid(series);
  const values = grid.values;
  const n = values.length;
  const report: CleaningReport = {
    zeros_as_missing: 0,
    spikes_removed: 0,
    interpolated: 0,
    gaps_left_hours: 0,
    policy: policyOf(type),
  };

  // Zero runs.
  const positive = Float64Array.from(values.filter((v) => v > 0)).sort();
  const typical = positive.length ? quantile(positive, 0.5) : 0;
  for (let i = 0; i < n;) {
    if (values[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < n && values[j] === 0) j++;
    const run = j - i;
    let missing: boolean;
    if (type === "electricity") {
      const before = i > 0 ? values[i - 1] : NaN;
      const after = j < n ? values[j] : NaN;
      missing = run >= 2 || !(before <= 0.1 * typical || after <= 0.1 * typical);
    } else if (HEATING.has(type)) {
      const month = new Date(grid.start + i * HOUR_MS).getUTCMonth(); // 0 = January
      missing = run >= 72 && (month >= 10 || month <= 2);
    } else {
      missing = run >= 72;
    }
    if (missing) {
      values.fill(NaN, i, j);
      report.zeros_as_missing += run;
    }
    i = j;
  }

  // Spikes, judged against the meter's own range.
  const finite = Float64Array.from(values.filter((v) => Number.isFinite(v))).sort();
  if (finite.length > 100) {
    const iqr = quantile(finite, 0.75) - quantile(finite, 0.25);
    const limit = quantile(finite, 0.999) + 10 * Math.max(iqr, 1e-9);
    for (let i = 0; i < n; i++) {
      if (values[i] > limit) {
        values[i] = NaN;
        report.spikes_removed++;
      }
    }
  }

  const missing = Uint8Array.from(values, (v) => Number.isNaN(v) ? 1 : 0);

  // Fill short gaps; count what is left.
  for (let i = 0; i < n;) {
    if (!Number.isNaN(values[i])) {
      i++;
      continue;
    }
    let j = i;
    while (j < n && Number.isNaN(values[j])) j++;
    const run = j - i;
    if (run <= MAX_FILL_HOURS && i > 0 && j < n) {
      const a = values[i - 1], b = values[j];
      for (let k = i; k < j; k++) values[k] = a + ((b - a) * (k - i + 1)) / (run + 1);
      report.interpolated += run;
    } else {
      report.gaps_left_hours += run;
    }
    i = j;
  }
  return { start: grid.start, values, missing, report };
}
