/**
 * What is stored for a meter: how many readings, over what span, and where
 * the hourly grid has holes.
 *
 * @module
 */
import { HOUR_MS } from "../domain/series.ts";
import type { ReadingSeries } from "../domain/series.ts";

/** A run of missing hours. */
export interface Gap {
  /** First missing hour. */
  from: string;
  /** Last missing hour. */
  to: string;
  hours: number;
}

/** Summary of a meter's readings. */
export interface ReadingsSummary {
  count: number;
  first: string;
  last: string;
  /** Hours on the grid from first to last with no reading. */
  missing_hours: number;
  /** Runs of missing hours. */
  gap_count: number;
  /** The longest runs, longest first (at most 5). */
  longest_gaps: Gap[];
  /** Readings of exactly 0 (often missing data in meter exports). */
  zero_readings: number;
}

/** Summarises readings ordered by time. */
export function summarize(series: ReadingSeries): ReadingsSummary {
  const { timestamps, values } = series;
  const gaps: Gap[] = [];
  let missing = 0;
  for (let i = 1; i < timestamps.length; i++) {
    const hours = Math.round((timestamps[i] - timestamps[i - 1]) / HOUR_MS) - 1;
    if (hours > 0) {
      missing += hours;
      gaps.push({
        from: new Date(timestamps[i - 1] + HOUR_MS).toISOString(),
        to: new Date(timestamps[i] - HOUR_MS).toISOString(),
        hours,
      });
    }
  }
  gaps.sort((a, b) => b.hours - a.hours);
  return {
    count: timestamps.length,
    first: new Date(timestamps[0]).toISOString(),
    last: new Date(timestamps.at(-1)!).toISOString(),
    missing_hours: missing,
    gap_count: gaps.length,
    longest_gaps: gaps.slice(0, 5),
    zero_readings: values.filter((v) => v === 0).length,
  };
}
