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
  /** With `withLines`: whether each reading's timestamp named a zone. */
  zoned?: boolean[];
}

/** `YYYY-MM-DD HH:MM[:SS[.fff]]`, then an optional zone (`Z` or `±HH:MM`). */
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** A timestamp as read: the instant, and whether the text named a zone. */
export interface ReadTimestamp {
  /** Milliseconds since the epoch; NaN when unreadable. */
  at: number;
  /** True when the text carried `Z` or an offset. */
  zoned: boolean;
}

/**
 * Reads a timestamp. Times without a zone (as in the published meter
 * files) are the meter's local wall-clock time and are kept as such, on a
 * UTC grid. Only real calendar times are read: `2021-02-29`, `04-31` or
 * `24:00` are unreadable (NaN), never moved to the next day.
 */
export function readTimestamp(text: string): ReadTimestamp {
  const m = TIMESTAMP.exec(text.trim());
  if (!m) return { at: NaN, zoned: false };
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map((v) => Number(v ?? 0));
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (
    month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 ||
    second > 59
  ) {
    return { at: NaN, zoned: false };
  }
  const zone = m[8];
  const wall = Date.UTC(year, month - 1, day, hour, minute, second) +
    Math.round(Number(m[7] ?? 0) * 1000);
  if (!zone) return { at: wall, zoned: false };
  if (/^z$/i.test(zone)) return { at: wall, zoned: true };
  const sign = zone[0] === "-" ? -1 : 1;
  const [hours, minutes] = [Number(zone.slice(1, 3)), Number(zone.slice(-2))];
  if (hours > 14 || minutes > 59) return { at: NaN, zoned: false };
  return { at: wall - sign * (hours * 60 + minutes) * 60_000, zoned: true };
}

/** Reads a timestamp's instant; NaN when unreadable (see {@link readTimestamp}). */
export function parseTimestamp(text: string): number {
  return readTimestamp(text).at;
}

/** Plain decimal numbers only: no `0x10`, `0b11`, `Infinity` or empty text. */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Reads a decimal number; NaN for anything else. */
export function parseDecimal(text: string): number {
  const t = text.trim();
  return DECIMAL.test(t) ? Number(t) : NaN;
}

/** A piece of the user's text for a message: at most 40 characters, quoted. */
export function quoted(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

/** Parses CSV readings; unreadable lines are reported, not guessed at. */
export function parseReadingsCsv(text: string, options: { withLines?: boolean } = {}): ParsedCsv {
  const rows: Array<[number, number, number, boolean]> = [];
  const rejected: RejectedLine[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (!line) return;
    const [stamp, value, ...rest] = line.split(",");
    const { at: time, zoned } = readTimestamp(stamp ?? "");
    // A first line that is no timestamp at all (`datetime,load`) is a
    // header; one that starts like a date and is not one is a bad reading.
    if (index === 0 && Number.isNaN(time) && !/^\s*\d/.test(stamp ?? "")) return;
    const number = parseDecimal(value ?? "");
    if (Number.isNaN(time)) {
      rejected.push({
        line: index + 1,
        reason: `timestamp ${
          quoted(stamp ?? "")
        } is not a real date and hour (YYYY-MM-DD HH:MM:SS, optionally with a zone)`,
      });
    } else if (!Number.isFinite(number)) {
      rejected.push({
        line: index + 1,
        reason: `value ${quoted(value ?? "")} is not a number (plain decimals, such as 12.5)`,
      });
    } else if (rest.some((cell) => cell.trim() !== "")) {
      rejected.push({ line: index + 1, reason: "more than two columns" });
    } else {
      rows.push([time, number, index + 1, zoned]);
    }
  });
  rows.sort((a, b) => a[0] - b[0]);
  return {
    series: {
      timestamps: rows.map((r) => r[0]),
      values: rows.map((r) => r[1]),
    },
    rejected,
    ...(options.withLines ? { lines: rows.map((r) => r[2]), zoned: rows.map((r) => r[3]) } : {}),
  };
}
