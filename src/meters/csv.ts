/**
 * Parses meter readings from CSV: first column a timestamp, second a value,
 * an optional header line. The published meter files
 * (`2019-01-01 00:00:00,22.4`) are read as they are, and so are spreadsheet
 * exports: quoted fields, a byte-order mark, CRLF, and `;` separators with
 * decimal commas. csv-parse reads the fields; this module decides what a
 * reading is.
 *
 * @module
 */
import { parse } from "csv-parse/sync";
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
  const year = +m[1], month = +m[2], day = +m[3], hour = +m[4], minute = +m[5];
  const second = m[6] === undefined ? 0 : +m[6];
  if (
    month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 ||
    minute > 59 || second > 59
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

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days in a month (1–12) of the Gregorian calendar. */
function daysIn(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1];
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

/**
 * What is wrong with a JSON item's field, for a problem's reason: `field is
 * missing`, or the field, its JSON as the upload wrote it (`"2"`, `null`,
 * `5`, cut at 40 characters) and `what`.
 */
export function jsonFieldProblem(field: string, value: unknown, what: string): string {
  if (value === undefined) return `${field} is missing`;
  const text = JSON.stringify(value) ?? String(value);
  return `${field} ${text.length > 40 ? `${text.slice(0, 40)}…` : text} ${what}`;
}

/** A record as csv-parse gives it with `info`: its fields and the line it ends on. */
interface CsvRecord {
  record: string[];
  info: { lines: number };
}

/**
 * The field separator of a readings file: `;` when its first reading uses
 * it (European exports, which then write decimal commas: `12,5`), else `,`.
 * A header is not asked: its column names may hold either.
 */
export function separatorOf(text: string): ";" | "," {
  const lines = text.slice(0, 4096).replace(/^\uFEFF/, "").split(/\r?\n/, 3);
  const reading = lines.find((line) => /^\s*"?\d/.test(line)) ?? lines[0] ?? "";
  return reading.includes(";") ? ";" : ",";
}

/** One CSV record: its fields and its line number in the text. */
export interface LineRecord {
  record: string[];
  line: number;
}

/** csv-parse's options for a readings file. */
function csvOptions(separator: string) {
  // relax_quotes: a quote inside an unquoted field (a header's `"` for
  // inches) is text; a quoted field followed by text is still an error.
  return {
    bom: true,
    delimiter: separator,
    relax_column_count: true,
    relax_quotes: true,
    trim: true,
  };
}

/**
 * The records of the text, each with its line. The whole text is parsed at
 * once; if csv-parse finds a malformed field (a stray or unclosed quote), it
 * loses track of the lines after it, so the text is parsed again line by
 * line, and each malformed line is named in `rejected`.
 */
export function readRecords(
  text: string,
  separator: string,
  rejected: RejectedLine[],
): LineRecord[] {
  let malformed = false;
  const whole = parse(text, {
    ...csvOptions(separator),
    skip_empty_lines: true,
    info: true,
    skip_records_with_error: true,
    on_skip: () => void (malformed = true),
  }) as unknown as CsvRecord[];
  if (!malformed) return whole.map(({ record, info }) => ({ record, line: info.lines }));
  const records: LineRecord[] = [];
  text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/).forEach((raw, index) => {
    if (raw.trim() === "") return;
    try {
      const [record] = parse(raw, csvOptions(separator)) as string[][];
      if (record) records.push({ record, line: index + 1 });
    } catch {
      rejected.push({
        line: index + 1,
        reason: "a field is malformed: a quote is not closed, or text follows a closing quote",
      });
    }
  });
  return records;
}

/**
 * Parses CSV readings with csv-parse (quoted fields, a byte-order mark,
 * CRLF, `;` separators with decimal commas); unreadable lines are
 * reported by number, not guessed at.
 */
export function parseReadingsCsv(text: string, options: { withLines?: boolean } = {}): ParsedCsv {
  const separator = separatorOf(text);
  const rows: Array<[number, number, number, boolean]> = [];
  const rejected: RejectedLine[] = [];
  const records = readRecords(text, separator, rejected);
  records.forEach(({ record, line }, index) => {
    const [stamp = "", value = "", ...rest] = record;
    const { at: time, zoned } = readTimestamp(stamp);
    // A first line that is no timestamp at all (`datetime,load`) is a
    // header; one that starts like a date and is not one is a bad reading.
    if (index === 0 && Number.isNaN(time) && !/^\d/.test(stamp)) return;
    const number = parseDecimal(separator === ";" ? value.replace(",", ".") : value);
    if (Number.isNaN(time)) {
      rejected.push({
        line,
        reason: `timestamp ${
          quoted(stamp)
        } is not a real date and hour (YYYY-MM-DD HH:MM:SS, optionally with a zone)`,
      });
    } else if (!Number.isFinite(number)) {
      rejected.push({
        line,
        reason: `value ${quoted(value)} is not a number (plain decimals, such as 12.5)`,
      });
    } else if (rest.some((cell) => cell !== "")) {
      rejected.push({ line, reason: "more than two columns" });
    } else {
      rows.push([time, number, line, zoned]);
    }
  });
  rows.sort((a, b) => a[0] - b[0]);
  rejected.sort((a, b) => a.line - b.line);
  return {
    series: {
      timestamps: rows.map((r) => r[0]),
      values: rows.map((r) => r[1]),
    },
    rejected,
    ...(options.withLines ? { lines: rows.map((r) => r[2]), zoned: rows.map((r) => r[3]) } : {}),
  };
}
