/**
 * Turns a meter's cleaned hourly grid into day-ahead samples. A forecast
 * issued at grid index `origin` (the hour after the latest reading) is
 * anchored on a **similar-day profile**: for each hour ahead, the mean of
 * that hour on the most recent days of the same kind (working day or
 * weekend), the latest weighing most, skipping working days that look like
 * holidays. A weekday the site's calendar names as a holiday or closure
 * (`HourlyGrid.nonWorking`) counts as a weekend day. The model learns the correction to that anchor from:
 * - the last 24 hours (today's level and shape),
 * - the anchor itself,
 * - the weekday of the issue hour, one-hot,
 * - and, as a separate input, the hour of day the forecast is issued at,
 *   one-hot (the model keeps one linear head per issue hour).
 *
 * Measured on real buildings (see `BENCHMARKS.md`), anchoring on similar
 * days and learning the residual cut the error left by a ridge regression
 * on a week of raw lags by a sixth on electricity and a quarter on gas.
 *
 * @module
 */
import { HOUR_MS, type HourlyGrid } from "../domain/series.ts";
import { dayNumber } from "../domain/calendar.ts";

/** Shape of the feature windows. */
export interface WindowSpec {
  /** Hours of history that must be complete (no gaps) before a forecast. */
  lookback: number;
  /** Hours forecast at once. */
  horizon: number;
}

/** The default window: one complete week in, one day out. */
export const DEFAULT_WINDOW: WindowSpec = { lookback: 168, horizon: 24 };

/** Recent hours fed to the model as they are. */
export const RECENT_HOURS = 24;
/** Similar days averaged into the anchor, at most. */
export const SIMILAR_DAYS = 8;
/**
 * Weight of each similar day in the anchor relative to the next more recent
 * one (the latest weighs 1, the one before 0.85, …). Measured on
 * `bench/data`: the median ratio to the persistence ensemble fell from
 * 0.541 to 0.523 on electricity (0.654 to 0.650 on gas) against equal
 * weights; 0.75, or the 5 latest days alone, helped electricity less or
 * hurt gas.
 */
export const SIMILAR_DAY_DECAY = 0.85;
/** How far back similar days are looked for, in days. */
export const SIMILAR_SEARCH_DAYS = 28;
/**
 * Working days and weekends count as different when their median daily
 * means differ by at least this share; only then are holidays told apart.
 */
export const WORKDAY_CONTRAST = 0.15;
/** Issue hours: one linear head each. */
export const ISSUE_HOURS = 24;

/** Standardisation of a series. */
export interface Scaling {
  mean: number;
  std: number;
}

/** Training samples as flat row-major arrays, standardised. */
export interface SampleSet {
  /** `count × features` inputs. */
  inputs: Float32Array;
  /** `count × ISSUE_HOURS` one-hot issue hours. */
  issueHours: Float32Array;
  /** The issue hour (0–23) of each sample. */
  hours: Uint8Array;
  /** `count × horizon` targets: (actual − anchor) / std. */
  targets: Float32Array;
  /** Grid index of each sample's origin. */
  origins: number[];
  count: number;
  features: number;
}

/** What the model sees for one forecast, and the anchor its output corrects. */
export interface OriginFeatures {
  /** `featureCount(window)` standardised inputs. */
  inputs: Float32Array;
  /** Hour of day (0–23) of the origin. */
  issueHour: number;
  /** `horizon` values in the meter's unit: the similar-day profile. */
  anchor: Float64Array;
}

/** Inputs per sample (besides the issue hour). */
export function featureCount(window: WindowSpec): number {
  return RECENT_HOURS + window.horizon + 7;
}

/** Mean and standard deviation of the finite values (std at least a tiny positive). */
export function scalingOf(values: ArrayLike<number>): Scaling {
  let n = 0, sum = 0, sq = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    n++;
    sum += v;
    sq += v * v;
  }
  const mean = n ? sum / n : 0;
  const variance = n ? Math.max(0, sq / n - mean * mean) : 0;
  return { mean, std: Math.max(Math.sqrt(variance), 1e-6) };
}

/** True when every value in `[from, to)` is finite. */
export function complete(values: ArrayLike<number>, from: number, to: number): boolean {
  if (from < 0 || to > values.length) return false;
  for (let i = from; i < to; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}

/** Day of the week (0 = Sunday) of a UTC time, without allocating a Date. */
function utcWeekday(ms: number): number {
  return (((Math.floor(ms / 86_400_000) + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
}

function median(values: number[]): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** The calendar days of a grid: day `d` covers grid indexes `start(d)` to `start(d) + 23`. */
interface Days {
  of(index: number): number;
  start(day: number): number;
  /** Monday to Friday, except the calendar's non-working days. */
  working(day: number): boolean;
  /** Mean of a day's readings: NaN when it has a gap or lies outside `[0, before)`. */
  mean(day: number, before: number): number;
}

function daysOf(grid: HourlyGrid): Days {
  const firstHour = new Date(grid.start).getUTCHours();
  const start = (d: number) => d * 24 - firstHour;
  return {
    of: (i) => Math.floor((i + firstHour) / 24),
    start,
    working(d) {
      const ms = grid.start + start(d) * HOUR_MS;
      const w = utcWeekday(ms);
      return w !== 0 && w !== 6 && !grid.nonWorking?.has(dayNumber(ms));
    },
    mean(d, before) {
      const s = start(d);
      if (s < 0 || s + 24 > before) return NaN;
      let sum = 0;
      for (let k = 0; k < 24; k++) sum += grid.values[s + k];
      return sum / 24; // NaN when the day has a gap
    },
  };
}

/**
 * From the daily means of nearby working days and weekend days, a test of
 * whether a working day's mean looks like a working day: false for a day on
 * the weekend side of the midpoint (a holiday, a closure). Always true when
 * working days and weekends differ by less than `WORKDAY_CONTRAST`.
 */
function workdayTest(workdays: number[], weekends: number[]): (mean: number) => boolean {
  const work = median(workdays), rest = median(weekends), mid = (work + rest) / 2;
  if (!(Math.abs(work - rest) >= WORKDAY_CONTRAST * Math.abs(work))) return () => true;
  return (mean) => !Number.isFinite(mean) || (work > rest ? mean >= mid : mean <= mid);
}

/**
 * The working days of a grid that look like holidays or closures, judged
 * against the days within `SIMILAR_SEARCH_DAYS` on either side. Training
 * leaves out forecasts of these days: nothing before them says they are
 * coming, and learning from them would pull every working day down.
 */
export function unusualWorkingDays(grid: HourlyGrid): Set<number> {
  const days = daysOf(grid);
  const n = grid.values.length;
  const count = days.of(n - 1) + 1;
  const means = Array.from({ length: count }, (_, d) => days.mean(d, n));
  const out = new Set<number>();
  for (let d = 0; d < count; d++) {
    if (!days.working(d) || !Number.isFinite(means[d])) continue;
    const workdays: number[] = [], weekends: number[] = [];
    for (let e = Math.max(0, d - SIMILAR_SEARCH_DAYS); e <= d + SIMILAR_SEARCH_DAYS; e++) {
      if (e === d || e >= count || !Number.isFinite(means[e])) continue;
      (days.working(e) ? workdays : weekends).push(means[e]);
    }
    if (!workdayTest(workdays, weekends)(means[d])) out.add(d);
  }
  return out;
}

/**
 * The similar-day profile of the `horizon` hours from `origin`, using only
 * readings before `origin`: for each hour ahead, the mean of the same hour
 * (weighted by `SIMILAR_DAY_DECAY`) on the `SIMILAR_DAYS` most recent days
 * of the same kind (Monday to Friday, or weekend) within `SIMILAR_SEARCH_DAYS`. A working day that looks like a
 * holiday (see `workdayTest`) is not taken as similar to a working day.
 * Null when some hour has no similar day. With `averaged` (a series on the
 * same grid, such as the outdoor temperature), the same days' values of
 * that series are averaged instead: what the anchor's days were like.
 */
export function similarDayProfile(
  grid: HourlyGrid,
  origin: number,
  horizon: number,
  averaged: ArrayLike<number> = grid.values,
): Float64Array | null {
  const days = daysOf(grid);
  const last = days.of(origin - 1);
  const means = new Map<number, number>();
  const workdays: number[] = [], weekends: number[] = [];
  for (let d = last; d > last - SIMILAR_SEARCH_DAYS; d--) {
    const m = days.mean(d, origin);
    means.set(d, m);
    if (Number.isFinite(m)) (days.working(d) ? workdays : weekends).push(m);
  }
  const looksWorking = workdayTest(workdays, weekends);
  const usual = (d: number) => !days.working(d) || looksWorking(means.get(d) ?? NaN);
  const out = new Float64Array(horizon);
  for (let k = 0; k < horizon; k++) {
    const t = origin + k, kind = days.working(days.of(t));
    // The weighted mean as the latest day's value plus the weighted mean of the others'
    // differences from it: exact when the days agree.
    let first = NaN, sum = 0, n = 0, weights = 0;
    for (let j = Math.ceil((k + 1) / 24); j <= SIMILAR_SEARCH_DAYS && n < SIMILAR_DAYS; j++) {
      const i = t - 24 * j;
      if (i < 0) break;
      const d = days.of(i);
      if (days.working(d) !== kind || !usual(d) || !Number.isFinite(grid.values[i])) continue;
      if (!Number.isFinite(averaged[i])) continue;
      if (!n) first = averaged[i];
      const w = SIMILAR_DAY_DECAY ** n;
      sum += w * (averaged[i] - first);
      weights += w;
      n++;
    }
    if (!n) return null;
    out[k] = first + sum / weights;
  }
  return out;
}

/**
 * The model's inputs for a forecast issued at grid index `origin`, or null
 * when the readings before it cannot support one (the last `lookback`
 * hours must be complete).
 */
export function originFeatures(
  grid: HourlyGrid,
  scaling: Scaling,
  window: WindowSpec,
  origin: number,
): OriginFeatures | null {
  if (!complete(grid.values, origin - Math.max(window.lookback, RECENT_HOURS), origin)) return null;
  const anchor = similarDayProfile(grid, origin, window.horizon);
  if (!anchor) return null;
  const inputs = new Float32Array(featureCount(window));
  const z = (v: number) => (v - scaling.mean) / scaling.std;
  let j = 0;
  for (let i = origin - RECENT_HOURS; i < origin; i++) inputs[j++] = z(grid.values[i]);
  for (const v of anchor) inputs[j++] = z(v);
  const at = new Date(grid.start + origin * HOUR_MS);
  inputs[j + at.getUTCDay()] = 1;
  return { inputs, issueHour: at.getUTCHours(), anchor };
}

/** Turns the model's standardised output into values in the meter's unit. */
export function fromModelOutput(
  output: ArrayLike<number>,
  anchor: Float64Array,
  scaling: Scaling,
): Float64Array {
  return Float64Array.from(anchor, (a, k) => a + output[k] * scaling.std);
}

/** One-hot issue hours for `hours`, as the model's second input. */
export function issueHourOneHot(hours: ArrayLike<number>): Float32Array {
  const out = new Float32Array(hours.length * ISSUE_HOURS);
  for (let i = 0; i < hours.length; i++) out[i * ISSUE_HOURS + hours[i]] = 1;
  return out;
}

/**
 * Builds a sample for every origin (every hour) in `[from, to)` whose
 * history and targets are complete (windows touching a gap are skipped),
 * leaving out forecasts of `skipDays` (calendar days, see `unusualWorkingDays`).
 */
export function buildSamples(
  grid: HourlyGrid,
  scaling: Scaling,
  window: WindowSpec,
  from: number,
  to: number,
  skipDays: ReadonlySet<number> = new Set(),
): SampleSet {
  const { horizon } = window;
  const features = featureCount(window);
  const days = daysOf(grid);
  const kept: { origin: number; f: OriginFeatures }[] = [];
  for (let t = Math.max(from, window.lookback); t + horizon <= to; t++) {
    if (!complete(grid.values, t, t + horizon)) continue;
    if (skipDays.has(days.of(t)) || skipDays.has(days.of(t + horizon - 1))) continue;
    const f = originFeatures(grid, scaling, window, t);
    if (f) kept.push({ origin: t, f });
  }
  const count = kept.length;
  const inputs = new Float32Array(count * features);
  const targets = new Float32Array(count * horizon);
  const hours = new Uint8Array(count);
  kept.forEach(({ origin, f }, i) => {
    inputs.set(f.inputs, i * features);
    hours[i] = f.issueHour;
    for (let k = 0; k < horizon; k++) {
      targets[i * horizon + k] = (grid.values[origin + k] - f.anchor[k]) / scaling.std;
    }
  });
  return {
    inputs,
    issueHours: issueHourOneHot(hours),
    hours,
    targets,
    origins: kept.map((s) => s.origin),
    count,
    features,
  };
}

/** The samples `[from, to)` of a set, as views (no copies). */
export function sliceSamples(set: SampleSet, from: number, to: number): SampleSet {
  const { features } = set;
  const horizon = set.count ? set.targets.length / set.count : 0;
  return {
    inputs: set.inputs.subarray(from * features, to * features),
    issueHours: set.issueHours.subarray(from * ISSUE_HOURS, to * ISSUE_HOURS),
    hours: set.hours.subarray(from, to),
    targets: set.targets.subarray(from * horizon, to * horizon),
    origins: set.origins.slice(from, to),
    count: to - from,
    features,
  };
}
