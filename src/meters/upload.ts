/**
 * Reads an upload of meter readings (CSV as the published meter files are,
 * or JSON `[{"timestamp", "value"}]`) and finds every problem in it, with
 * its line (CSV) or item (JSON) number. An upload with any problem is
 * refused whole, so stored readings never change half-way.
 *
 * @module
 */
import { parseReadingsCsv, parseTimestamp, type RejectedLine } from "./csv.ts";
import type { ReadingSeries } from "../domain/series.ts";

/** Largest plausible hourly reading; above it a value is a unit or export error. */
export const MAX_READING = 1e8;

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

/** Parses and checks an upload; `json` picks the JSON format. */
export function parseUpload(body: string, json: boolean): ParsedUpload {
  const rows: { at: number; value: number; line: number }[] = [];
  const problems: RejectedLine[] = [];
  if (json) {
    let items: unknown;
    try {
      items = JSON.parse(body);
    } catch {
      return {
        series: empty(),
        problems: [{ line: 0, reason: "the body is not valid JSON" }],
        unit: "item",
        lines: [],
      };
    }
    if (!Array.isArray(items)) {
      return {
        series: empty(),
        problems: [{ line: 0, reason: 'the body must be a JSON array of {"timestamp", "value"}' }],
        unit: "item",
        lines: [],
      };
    }
    items.forEach((item, i) => {
      const line = i + 1;
      const record = item as { timestamp?: unknown; value?: unknown } | null;
      const at = typeof record?.timestamp === "string" ? parseTimestamp(record.timestamp) : NaN;
      if (Number.isNaN(at)) {
        problems.push({
          line,
          reason: `timestamp ${JSON.stringify(record?.timestamp)} is not an ISO date-time`,
        });
      } else if (typeof record?.value !== "number" || !Number.isFinite(record.value)) {
        problems.push({ line, reason: `value ${JSON.stringify(record?.value)} is not a number` });
      } else {
        rows.push({ at, value: record.value, line });
      }
    });
  } else {
    const parsed = parseReadingsCsv(body, { withLines: true });
    problems.push(...parsed.rejected);
    parsed.series.timestamps.forEach((at, i) => {
      rows.push({ at, value: parsed.series.values[i], line: parsed.lines![i] });
    });
  }
  const seen = new Map<number, number>();
  const good: typeof rows = [];
  for (const row of rows) {
    if (row.value < 0) {
      problems.push({ line: row.line, reason: `value ${row.value} is negative` });
    } else if (row.value > MAX_READING) {
      problems.push({
        line: row.line,
        reason: `value ${row.value} is implausibly large (over ${MAX_READING})`,
      });
    } else if (seen.has(row.at)) {
      problems.push({
        line: row.line,
        reason: `timestamp ${new Date(row.at).toISOString()} repeats ${json ? "item" : "line"} ${
          seen.get(row.at)
        }`,
      });
    } else {
      seen.set(row.at, row.line);
      good.push(row);
    }
  }
  if (rows.length === 0 && problems.length === 0) {
    problems.push({ line: 0, reason: "the upload holds no readings" });
  }
  good.sort((a, b) => a.at - b.at);
  problems.sort((a, b) => a.line - b.line);
  return {
    series: { timestamps: good.map((r) => r.at), values: good.map((r) => r.value) },
    problems,
    unit: json ? "item" : "line",
    lines: good.map((r) => r.line),
  };
}

function empty(): ReadingSeries {
  return { timestamps: [], values: [] };
}
