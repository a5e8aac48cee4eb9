/**
 * A meter's readings as a time series, and the contiguous hourly grid that
 * cleaning, training and forecasting work on.
 *
 * @module
 */

/** One hour, in milliseconds. */
export const HOUR_MS = 3_600_000;

/** Hourly readings of one meter, ordered by time, one value per timestamp. */
export interface ReadingSeries {
  /** Milliseconds since the epoch, strictly increasing. */
  timestamps: number[];
  /** Reading for each timestamp (kWh or the meter's unit). */
  values: number[];
}

/** A meter's readings on a contiguous hourly grid, NaN where missing. */
export interface HourlyGrid {
  /** Milliseconds since the epoch of the grid's first hour. */
  start: number;
  /** One value per hour from `start`; NaN where there is no reading. */
  values: Float64Array;
  /**
   * Weekdays that are not working days (public holidays, closures), as day
   * numbers (`dayNumber` in `calendar.ts`), from the meter's site calendar;
   * absent when it has none.
   */
  nonWorking?: ReadonlySet<number>;
}

/**
 * Puts the readings on a contiguous hourly grid, from the first to the
 * last timestamp; hours with no reading are NaN.
 */
export function toHourlyGrid(series: ReadingSeries): HourlyGrid {
  const start = series.timestamps[0];
  const end = series.timestamps.at(-1)!;
  const values = new Float64Array(Math.round((end - start) / HOUR_MS) + 1).fill(NaN);
  series.timestamps.forEach((t, i) => {
    values[Math.round((t - start) / HOUR_MS)] = series.values[i];
  });
  return { start, values };
}

/**
 * The readings at or after `from` (epoch ms). The series is in time order,
 * so this is a binary search and a slice: work proportional to what is
 * kept, never to the series' span.
 */
export function seriesSince(series: ReadingSeries, from: number): ReadingSeries {
  let lo = 0;
  let hi = series.timestamps.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (series.timestamps[mid] < from) lo = mid + 1;
    else hi = mid;
  }
  if (lo === 0) return series;
  return { timestamps: series.timestamps.slice(lo), values: series.values.slice(lo) };
}
