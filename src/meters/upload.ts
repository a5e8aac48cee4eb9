/**
 * Reads an upload of meter readings (CSV as the published meter files are,
 * or JSON `[{"timestamp", "value"}]`) and finds every problem in it, with
 * its line (CSV) or item (JSON) number. An upload with any problem is
 * refused whole, so stored readings never change half-way.
 *
 * @module
 */
import { jsonFieldProblem, parseReadingsCsv, readTimestamp, type RejectedLine } from "./csv.ts";
import type { ReadingSeries } from "../domain/series.ts";
import { DuplicateKeyError, parseJsonStrict } from "../util/strict_json.ts";

/** Largest plausible hourly reading; above it a value is a unit or export error. */
export const MAX_READING = 1e8;

/** The span of time readings may fall in. */
export interface ReadingsWindow {
  /** Earliest accepted timestamp, epoch milliseconds. */
  earliest: number;
  /** Latest accepted timestamp, epoch milliseconds (a little after now). */
  latest: number;
}

/** Without a window: 2000 to two days after now. */
export function defaultWindow(now = Date.now()): ReadingsWindow {
  return { earliest: Date.UTC(2000, 0, 1), latest: now + 2 * 86_400_000 };
}

/** What an upload holds. */
export interface ParsedUpload {
  /** The readings, ordered by time. */
  series: ReadingSeries;
  /** Every problem found; an upload with any is refused. */
  problems: RejectedLine[];
  /** `line` for CSV, `item` for JSON: what the numbers in `problems` count. */
  unit: "line" | "item";
  /** The line (or item) of each reading in `series`. */
  lines: number[];
}

/**
 * Parses and checks an upload; `json` picks the JSON format. Timestamps
 * must fall inside `window`, and one upload uses one convention: all with
 * a zone, or all local wall time.
 */
export function parseUpload(
  body: string,
  json: boolean,
  window: ReadingsWindow = defaultWindow(),
): ParsedUpload {
  const rows: UploadRow[] = [];
  const problems: RejectedLine[] = [];
  if (json) {
    rows.push(...jsonRows(body, problems, "value", "a JSON number, such as 12.5"));
  } else if (lostLineBreaks(body)) {
    return {
      series: empty(),
      problems: [{
        line: 1,
        reason: LOST_LINE_BREAKS,
      }],
      unit: "line",
      lines: [],
    };
  } else {
    const parsed = parseReadingsCsv(body, { withLines: true });
    // One at a time: spreading 100,000 rejected lines into push() overflows the stack.
    for (const rejected of parsed.rejected) problems.push(rejected);
    parsed.series.timestamps.forEach((at, i) => {
      rows.push({
        at,
        value: parsed.series.values[i],
        line: parsed.lines![i],
        zoned: parsed.zoned![i],
      });
    });
  }
  const good = checkRows(rows, problems, {
    unit: json ? "item" : "line",
    window,
    ahead: "a few days after now",
    convention: "all with a zone, or all local time",
    valueProblem: (value) =>
      value < 0 || Object.is(value, -0)
        ? `value ${value} is negative`
        : value > MAX_READING
        ? `value ${value} is implausibly large (over ${MAX_READING})`
        : null,
    nothing: "the upload holds no readings",
  });
  return {
    series: { timestamps: good.map((r) => r.at), values: good.map((r) => r.value) },
    problems,
    unit: json ? "item" : "line",
    lines: good.map((r) => r.line),
  };
}

/** Why a CSV upload run together on one line is refused. */
export const LOST_LINE_BREAKS =
  "the upload is one line holding several timestamps: its line breaks were lost (curl's -d @file strips them); send the file with --data-binary @file";

/** A date and hour (`2024-01-01 00:00`, `2024-01-01T00:00`). */
const STAMP = /\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}/g;

/**
 * Whether a CSV body is a whole file run together on one line, as
 * `curl -d @file` sends it: no line break, and more than one timestamp.
 */
export function lostLineBreaks(body: string): boolean {
  return !/[\r\n]/.test(body.trimEnd()) && (body.match(STAMP)?.length ?? 0) > 1;
}

function empty(): ReadingSeries {
  return { timestamps: [], values: [] };
}

/** One reading (or temperature) of an upload, with its line or item and time-zone convention. */
export interface UploadRow {
  at: number;
  value: number;
  line: number;
  zoned: boolean;
}

/** How `checkRows` judges an upload's rows. */
export interface RowChecks {
  /** What the numbers in the problems count. */
  unit: "line" | "item";
  /** The span timestamps may fall in. */
  window: ReadingsWindow;
  /** How far past now `window` reaches, in words (for the message). */
  ahead: string;
  /** The conventions an upload may use, in words (for the message). */
  convention: string;
  /** What is wrong with a value, or null when nothing. */
  valueProblem(value: number): string | null;
  /** The problem of an upload with no rows and no other problem. */
  nothing: string;
}

/**
 * The rules every upload keeps: timestamps inside the window, one time-zone
 * convention (that of its first line), a plausible value, no timestamp
 * twice. Adds each broken rule to `problems` (then sorted by line) and
 * returns the rows that keep them, ordered by time.
 */
export function checkRows(
  rows: readonly UploadRow[],
  problems: RejectedLine[],
  checks: RowChecks,
): UploadRow[] {
  const { unit, window } = checks;
  const seen = new Map<number, number>();
  const good: UploadRow[] = [];
  const convention = rows.length ? rows.reduce((a, b) => (a.line < b.line ? a : b)) : undefined;
  for (const row of rows) {
    const valueProblem = checks.valueProblem(row.value);
    if (row.at < window.earliest || row.at > window.latest) {
      problems.push({
        line: row.line,
        reason: `timestamp ${new Date(row.at).toISOString()} is outside the accepted span, ${
          new Date(window.earliest).toISOString().slice(0, 10)
        } to ${new Date(window.latest).toISOString().slice(0, 13)}:00Z (${checks.ahead})`,
      });
    } else if (convention && row.zoned !== convention.zoned) {
      problems.push({
        line: row.line,
        reason: `timestamp ${
          row.zoned ? "has" : "lacks"
        } a time zone, unlike ${unit} ${convention.line}: use one convention in an upload (${checks.convention})`,
      });
    } else if (valueProblem !== null) {
      problems.push({ line: row.line, reason: valueProblem });
    } else if (seen.has(row.at)) {
      problems.push({
        line: row.line,
        reason: `timestamp ${new Date(row.at).toISOString()} repeats ${unit} ${seen.get(row.at)}`,
      });
    } else {
      seen.set(row.at, row.line);
      good.push(row);
    }
  }
  if (rows.length === 0 && problems.length === 0) {
    problems.push({ line: 0, reason: checks.nothing });
  }
  good.sort((a, b) => a.at - b.at);
  problems.sort((a, b) => a.line - b.line);
  return good;
}

/**
 * The rows of a JSON upload, `[{"timestamp", <field>}]`, adding a problem
 * for each item that cannot be read (`numberHint` says what a good
 * `field` is) or one for the whole body when it is not such an array.
 */
export function jsonRows(
  body: string,
  problems: RejectedLine[],
  field: string,
  numberHint: string,
): UploadRow[] {
  let items: unknown;
  try {
    items = parseJsonStrict(body);
  } catch (error) {
    if (error instanceof DuplicateKeyError) {
      const item = error.path.match(/^\$\[(\d+)\]/);
      problems.push({
        line: item ? Number(item[1]) + 1 : 0,
        reason: `the key ${JSON.stringify(error.key)} appears twice; give each item one`,
      });
    } else {
      problems.push({ line: 0, reason: "the body is not valid JSON" });
    }
    return [];
  }
  if (!Array.isArray(items)) {
    problems.push({
      line: 0,
      reason: `the body must be a JSON array of {"timestamp", "${field}"}`,
    });
    return [];
  }
  const rows: UploadRow[] = [];
  items.forEach((item, i) => {
    const line = i + 1;
    const record = item as Record<string, unknown> | null;
    const value = record?.[field];
    const stamp = typeof record?.timestamp === "string"
      ? readTimestamp(record.timestamp)
      : { at: NaN, zoned: false };
    if (Number.isNaN(stamp.at)) {
      problems.push({
        line,
        reason: jsonFieldProblem("timestamp", record?.timestamp, "is not a real ISO date and hour"),
      });
    } else if (typeof value !== "number" || !Number.isFinite(value)) {
      problems.push({
        line,
        reason: jsonFieldProblem(field, value, `is not a number (${numberHint})`),
      });
    } else {
      rows.push({ at: stamp.at, value, line, zoned: stamp.zoned });
    }
  });
  return rows;
}
