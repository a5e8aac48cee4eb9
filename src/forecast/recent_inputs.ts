/**
 * The model's inputs before a forecast's origin, estimated where readings
 * are missing: each missing hour of the lookback window (by the cleaning
 * policy: no reading, zeros taken as missing, spikes) is filled from the
 * similar-day profile (the same hour on recent days of the same kind), or
 * else from the meter's typical profile (the mean of the same hour of the
 * week, of the day, or of all hours, in the readings before the origin;
 * a weekday the site's calendar names as non-working is taken as a Sunday).
 * Hours the cleaning policy already interpolated (gaps of up to 3 hours)
 * keep their interpolated value and count as estimated too.
 *
 * @module
 */
import { HOUR_MS, type HourlyGrid } from "../domain/series.ts";
import { type Gap, missingRuns } from "../meters/summary.ts";
import { similarDayProfile } from "../training/features.ts";
import { dayNumber } from "../domain/calendar.ts";

/** Least share of the lookback window that must be real readings (2 days of 7). */
export const MIN_KNOWN_SHARE = 2 / 7;

/** How the window before the origin was completed. */
export interface InputsReport {
  /** Hours of history the model reads. */
  hours_needed: number;
  /** Of those, hours the cleaning policy treats as missing, now estimated. */
  hours_estimated: number;
  /** `good` when no more than short gaps were interpolated; `degraded` when profiles filled some. */
  quality: "good" | "degraded";
}

/** The window completed, or why it cannot be. */
export type RecentInputs =
  | { ok: true; grid: HourlyGrid; report: InputsReport }
  | { ok: false; known: number; missing: Gap[] };

/**
 * Completes `[origin − lookback, origin)` of a cleaned grid whose values end
 * at `origin` (`missing` marks the hours the policy treats as missing, before
 * interpolation). Refuses when fewer than `MIN_KNOWN_SHARE` of the hours are
 * real readings.
 */
export function completeRecent(
  clean: HourlyGrid & { missing: Uint8Array },
  origin: number,
  lookback: number,
): RecentInputs {
  const from = origin - lookback;
  const values = new Float64Array(origin).fill(NaN);
  values.set(clean.values.subarray(0, Math.min(origin, clean.values.length)));
  const isMissing = (i: number) => i < 0 || i >= clean.missing.length || clean.missing[i] === 1;
  let estimated = 0, unfilled = 0;
  for (let i = from; i < origin; i++) {
    if (isMissing(i)) estimated++;
    if (i < 0 || !Number.isFinite(values[i])) unfilled++;
  }
  const known = lookback - estimated;
  if (known < Math.ceil(MIN_KNOWN_SHARE * lookback)) {
    const mask = new Uint8Array(origin);
    for (let i = Math.max(0, from); i < origin; i++) mask[i] = isMissing(i) ? 1 : 0;
    const missing = missingRuns(mask, clean.start, Math.max(0, from), origin);
    if (from < 0) {
      missing.unshift({
        from: new Date(clean.start + from * HOUR_MS).toISOString(),
        to: new Date(clean.start - HOUR_MS).toISOString(),
        hours: -from,
      });
    }
    return { ok: false, known, missing };
  }
  const { nonWorking } = clean;
  const original: HourlyGrid = { start: clean.start, values: values.slice(), nonWorking };
  const typical = typicalProfile(original, origin);
  // A grid that starts inside the window is extended back to its start.
  const pad = Math.max(0, -from);
  const grid: HourlyGrid = pad
    ? {
      start: clean.start - pad * HOUR_MS,
      values: new Float64Array(pad + origin).fill(NaN),
      nonWorking,
    }
    : { start: clean.start, values, nonWorking };
  if (pad) grid.values.set(values, pad);
  for (let i = from; i < origin; i++) {
    const g = i + pad;
    if (Number.isFinite(grid.values[g])) continue;
    const similar = i > 0 ? similarDayProfile(original, i, 1) : null;
    grid.values[g] = similar ? similar[0] : typical(grid.start + g * HOUR_MS);
  }
  return {
    ok: true,
    grid,
    report: {
      hours_needed: lookback,
      hours_estimated: estimated,
      quality: unfilled > 0 ? "degraded" : "good",
    },
  };
}

/**
 * The meter's typical value at a time: the mean of the same hour of the
 * week before `origin`, else of the same hour of the day, else of all hours.
 * A weekday the grid's calendar names as non-working counts as a Sunday,
 * both in the means and when estimated.
 */
function typicalProfile(grid: HourlyGrid, origin: number): (time: number) => number {
  const week = new Float64Array(168), weekN = new Uint32Array(168);
  const day = new Float64Array(24), dayN = new Uint32Array(24);
  let sum = 0, n = 0;
  for (let i = 0; i < origin; i++) {
    const v = grid.values[i];
    if (!Number.isFinite(v)) continue;
    const h = hourOfWeek(grid.start + i * HOUR_MS, grid.nonWorking);
    week[h] += v;
    weekN[h]++;
    day[h % 24] += v;
    dayN[h % 24]++;
    sum += v;
    n++;
  }
  return (time) => {
    const h = hourOfWeek(time, grid.nonWorking);
    if (weekN[h]) return week[h] / weekN[h];
    if (dayN[h % 24]) return day[h % 24] / dayN[h % 24];
    return n ? sum / n : 0;
  };
}

/** Hour of the week (0 = Sunday 00:00 UTC); a non-working day's hours are a Sunday's. */
function hourOfWeek(time: number, nonWorking?: ReadonlySet<number>): number {
  const hours = Math.floor(time / HOUR_MS);
  const hourOfDay = ((hours % 24) + 24) % 24;
  if (nonWorking?.has(dayNumber(time))) return hourOfDay;
  return (((hours + 4 * 24) % 168) + 168) % 168; // 1970-01-01 was a Thursday
}
