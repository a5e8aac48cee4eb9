/**
 * Parses meter readings from CSV: first column a timestamp, second a value,
 * an optional header line. The published meter files
 * (`2019-01-01 00:00:00,22.4`) are read as they are.
 *
 * @module
 */
import type { ReadingSeries } from "../domain/series.ts";

/** A line that could not be read, and why. */
export interface RejectedLine {
  /** 1-based line number in the upload. */
  line: number;
  /** What was wrong with it. */
  reason: string;
}

/** The readings read from a CSV text. */
export interface ParsedCsv {
  /** Readings, ordered by time. */
  series: ReadingSeries;
  /** Lines that could not be read. */
  rejected: RejectedLine[];
  /** With `withLines`: the line number of each reading in `series`. */
  lines?: number[];
}

const NAIVE = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

/**
 * Parses a timestamp. Times without a zone (as in the published meter
 * files) are the meter's local wall-clock time and are kept as such, on a
 * UTC grid. Returns NaN when unreadable.
 */
export function parseTimestamp(text: string): number {
  const t = text.trim();
  if (NAIVE.test(t)) return Date.parse(t.replace(" ", "T") + "Z");
  if (/^\d{4}-\d{2}-\d{2}T/.test(t)) return Date.parse(t);
  return NaN;
}

/** Parses CSV readings; unreadable lines are reported, not guessed at. */
export function parseReadingsCsv(text: string, options: { withLines?: boolean } = {}): ParsedCsv {
  const rows: Array<[number, number, number]> = [];
  const rejected: RejectedLine[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (!line) return;
    const [stamp, value, ...rest] = line.split(",");
    const time = parseTimestamp(stamp ?? "");
    if (index === 0 && Number.isNaN(time)) return; // header
    const number = Number(value?.trim());
    if (Number.isNaN(time)) {
      rejected.push({
        line: index + 1,
        reason: `unreadable timestamp "${stamp}"`,
      });
    } else if (
      value === undefined || value.trim() === "" || !Number.isFinite(number)
    ) {
      rejected.push({
        line: index + 1,
        reason: `value "${value ?? ""}" is not a number`,
      });
    } else if (rest.some((cell) => cell.trim() !== "")) {
      rejected.push({ line: index + 1, reason: "more than two columns" });
    } else {
      rows.push([time, number, index + 1]);
    }
  });
  rows.sort((a, b) => a[0] - b[0]);
  return {
    series: {
      timestamps: rows.map((r) => r[0]),
      values: rows.map((r) => r[1]),
    },
    rejected,
    ...(options.withLines ? { lines: rows.map((r) => r[2]) } : {}),
  };
}
