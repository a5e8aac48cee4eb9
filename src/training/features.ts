/**
 * Turns a meter's readings into training samples for a direct multi-horizon
 * forecast: the last week of hourly values plus calendar features of the
 * hour being forecast in, the next `horizon` hours out. Values are
 * standardised with the series' own mean and standard deviation.
 *
 * @module
 */
import type { ReadingSeries } from "../meters/series.ts";
import { TrainingError } from "./errors.ts";

/** One hour, in milliseconds. */
export const HOUR_MS = 3_600_000;

/** Shape of the feature windows. */
export interface WindowSpec {
  /** Hours of history fed to the model. */
  lookback: number;
  /** Hours forecast at once. */
  horizon: number;
}

/** The default window: one week in, one day out. */
export const DEFAULT_WINDOW: WindowSpec = { lookback: 168, horizon: 24 };

/** Calendar features per sample: hour of day (sin, cos) and day of week (one-hot). */
export const CALENDAR_FEATURES = 9;

/** Standardisation of a series. */
export interface Scaling {
  mean: number;
  std: number;
}

/** Training samples as flat row-major arrays. */
export interface SampleSet {
  /** `count × features` inputs. */
  inputs: Float32Array;
  /** `count × horizon` targets. */
  targets: Float32Array;
  count: number;
  features: number;
  scaling: Scaling;
  window: WindowSpec;
}

/** Fewest samples worth training on. */
export const MIN_SAMPLES = 48;

/**
 * Puts the readings on a contiguous hourly grid, from the first to the
 * last timestamp; hours with no reading are NaN.
 */
export function toHourlyGrid(
  series: ReadingSeries,
): { start: number; values: Float64Array } {
  const start = series.timestamps[0];
  const end = series.timestamps.at(-1)!;
  const values = new Float64Array(Math.round((end - start) / HOUR_MS) + 1)
    .fill(NaN);
  series.timestamps.forEach((t, i) => {
    values[Math.round((t - start) / HOUR_MS)] = series.values[i];
  });
  return { start, values };
}

/** Writes the calendar features of the hour starting at `time` into `out`. */
export function calendarFeatures(
  time: number,
  out: Float32Array,
  offset: number,
): void {
  const d = new Date(time);
  const angle = (2 * Math.PI * d.getUTCHours()) / 24;
  out[offset] = Math.sin(angle);
  out[offset + 1] = Math.cos(angle);
  for (let k = 0; k < 7; k++) out[offset + 2 + k] = 0;
  out[offset + 2 + d.getUTCDay()] = 1;
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

/**
 * Builds every complete window from the readings: windows with a missing
 * hour anywhere are skipped.
 *
 * @throws {TrainingError} when too few complete windows remain.
 */
export function buildSamples(
  series: ReadingSeries,
  window: WindowSpec = DEFAULT_WINDOW,
): SampleSet {
  const { lookback, horizon } = window;
  const needed = lookback + horizon + MIN_SAMPLES - 1;
  if (series.timestamps.length < needed) {
    throw new TrainingError(
      "not_enough_readings",
      `The meter has ${series.timestamps.length} hourly readings; training needs at least ${needed}.`,
      `Upload at least ${needed} consecutive hourly readings (about ${
        Math.ceil(needed / 24)
      } days) and train again.`,
    );
  }
  const grid = toHourlyGrid(series);
  const scaling = scalingOf(grid.values);
  const features = lookback + CALENDAR_FEATURES;
  const scaled = grid.values.map((v) => (v - scaling.mean) / scaling.std);

  // Prefix count of missing hours, to test a window for gaps in O(1).
  const missing = new Int32Array(scaled.length + 1);
  for (let i = 0; i < scaled.length; i++) {
    missing[i + 1] = missing[i] + (Number.isNaN(scaled[i]) ? 1 : 0);
  }
  const origins: number[] = [];
  for (let t = lookback; t + horizon <= scaled.length; t++) {
    if (missing[t + horizon] - missing[t - lookback] === 0) origins.push(t);
  }
  if (origins.length < MIN_SAMPLES) {
    throw new TrainingError(
      "not_enough_readings",
      `Only ${origins.length} complete ${
        lookback + horizon
      }-hour windows exist in the readings; training needs at least ${MIN_SAMPLES}.`,
      "Upload a longer stretch of consecutive hourly readings, with fewer missing hours, and train again.",
    );
  }
  const inputs = new Float32Array(origins.length * features);
  const targets = new Float32Array(origins.length * horizon);
  origins.forEach((t, i) => {
    inputs.set(scaled.subarray(t - lookback, t), i * features);
    calendarFeatures(grid.start + t * HOUR_MS, inputs, i * features + lookback);
    targets.set(scaled.subarray(t, t + horizon), i * horizon);
  });
  return {
    inputs,
    targets,
    count: origins.length,
    features,
    scaling,
    window,
  };
}
