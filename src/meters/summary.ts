/**
 * What is stored for a meter: how many readings, over what span, and which
 * hours of its grid are missing by the cleaning policy (no reading, a zero
 * the policy takes as missing, a spike): the same hours a forecast counts
 * as estimated.
 *
 * @module
 */
import { HOUR_MS } from "../domain/series.ts";
import type { ReadingSeries } from "../domain/series.ts";
import type { MeterType } from "../domain/meter.ts";
import { cleanReadings } from "./cleaning.ts";

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
  /** Hours on the grid from first to last that the cleaning policy treats as missing. */
  missing_hours: number;
  /** Of those, hours with no reading at all. */
  absent_hours: number;
  /** Of those, readings of 0 the policy takes as missing data. */
  zeros_as_missing: number;
  /** Of those, readings masked as spikes. */
  spikes_removed: number;
  /** Runs of missing hours. */
  gap_count: number;
  /** The longest runs, longest first (at most 5). */
  longest_gaps: Gap[];
  /** Readings of exactly 0 (often missing data in meter exports). */
  zero_readings: number;
}

/** Runs of 1s in `mask[from, to)`, as gaps on a grid starting at `start`. */
export function missingRuns(mask: Uint8Array, start: number, from = 0, to = mask.length): Gap[] {
  const gaps: Gap[] = [];
  for (let i = Math.max(0, from); i < to;) {
    if (!mask[i]) {
      i++;
      continue;
    }
    let j = i;
    while (j < to && mask[j]) j++;
    gaps.push({
      from: new Date(start + i * HOUR_MS).toISOString(),
      to: new Date(start + (j - 1) * HOUR_MS).toISOString(),
      hours: j - i,
    });
    i = j;
  }
  return gaps;
}

/** Summarises readings ordered by time, with the cleaning policy of the meter's type. */
export function summarize(series: ReadingSeries, type: MeterType): ReadingsSummary {
  const { timestamps, values } = series;
  const clean = cleanReadings(series, type);
  const gaps = missingRuns(clean.missing, clean.start);
  const missing = gaps.reduce((sum, gap) => sum + gap.hours, 0);
  gaps.sort((a, b) => b.hours - a.hours);
  return {
    count: timestamps.length,
    first: new Date(timestamps[0]).toISOString(),
    last: new Date(timestamps.at(-1)!).toISOString(),
    missing_hours: missing,
    absent_hours: clean.missing.length - timestamps.length,
    zeros_as_missing: clean.report.zeros_as_missing,
    spikes_removed: clean.report.spikes_removed,
    gap_count: gaps.length,
    longest_gaps: gaps.slice(0, 5),
    zero_readings: values.filter((v) => v === 0).length,
  };
}
