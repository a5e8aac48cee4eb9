/**
 * Reads an upload of a site's hourly outdoor temperature and finds every
 * problem in it, by line (CSV) or item (JSON), like readings
 * (`upload.ts`): an upload with any problem is refused whole.
 *
 * CSV as weather services publish it: a timestamp column, then the
 * temperature in °C. With a header, the temperature is the first column
 * whose name says so (`air_temperature [degC]`, `temperature`, `temp_c`),
 * and other columns (humidity, irradiation) are ignored; without one, the
 * second column. JSON: `[{"timestamp", "temperature"}]`.
 *
 * @module
 */
import {
  jsonFieldProblem,
  parseDecimal,
  quoted,
  readRecords,
  readTimestamp,
  type RejectedLine,
  separatorOf,
} from "./csv.ts";
import type { ReadingSeries } from "../domain/series.ts";
import { DuplicateKeyError, parseJsonStrict } from "../util/strict_json.ts";
import { LOST_LINE_BREAKS, lostLineBreaks, type ReadingsWindow } from "./upload.ts";

/** Coldest and hottest plausible outdoor temperatures, °C (beyond: a unit or export error). */
export const TEMPERATURE_RANGE = { min: -90, max: 60 } as const;

/** What a weather upload holds. */
export interface ParsedWeather {
  /** The temperatures, ordered by time. */
  series: ReadingSeries;
  /** Every problem found; an upload with any is refused. */
  problems: RejectedLine[];
  /** What the numbers in `problems` count. */
  unit: "line" | "item";
}

interface Row {
  at: number;
  value: number;
  line: number;
  zoned: boolean;
}

/** Parses and checks a weather upload; `json` picks the JSON format. */
export function parseWeatherUpload(
  body: string,
  json: boolean,
  window: ReadingsWindow,
): ParsedWeather {
  const problems: RejectedLine[] = [];
  const rows = json ? jsonRows(body, problems) : csvRows(body, problems);
  const unit = json ? "item" : "line";
  const seen = new Map<number, number>();
  const good: Row[] = [];
  const first = rows.length ? rows.reduce((a, b) => (a.line < b.line ? a : b)) : undefined;
  for (const row of rows) {
    if (row.at < window.earliest || row.at > window.latest) {
      problems.push({
        line: row.line,
        reason: `timestamp ${new Date(row.at).toISOString()} is outside the accepted span, ${
          new Date(window.earliest).toISOString().slice(0, 10)
        } to ${
          new Date(window.latest).toISOString().slice(0, 13)
        }:00Z (a weather forecast reaches a few weeks ahead at most)`,
      });
    } else if (first && row.zoned !== first.zoned) {
      problems.push({
        line: row.line,
        reason: `timestamp ${
          row.zoned ? "has" : "lacks"
        } a time zone, unlike ${unit} ${first.line}: use one convention in an upload (all with a zone, or all local time, as the meters' readings)`,
      });
    } else if (row.value < TEMPERATURE_RANGE.min || row.value > TEMPERATURE_RANGE.max) {
      problems.push({
        line: row.line,
        reason:
          `temperature ${row.value} is not a plausible outdoor temperature in °C (${TEMPERATURE_RANGE.min} to ${TEMPERATURE_RANGE.max}); convert °F or K to °C`,
      });
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
    problems.push({ line: 0, reason: "the upload holds no temperatures" });
  }
  good.sort((a, b) => a.at - b.at);
  problems.sort((a, b) => a.line - b.line);
  return {
    series: { timestamps: good.map((r) => r.at), values: good.map((r) => r.value) },
    problems,
    unit,
  };
}

/** A header cell naming the temperature column. */
const TEMPERATURE_HEADER = /temp|degc|°c|celsius/i;

function csvRows(body: string, problems: RejectedLine[]): Row[] {
  if (lostLineBreaks(body)) {
    problems.push({ line: 1, reason: LOST_LINE_BREAKS });
    return [];
  }
  const separator = separatorOf(body);
  const records = readRecords(body, separator, problems);
  let column = 1;
  const rows: Row[] = [];
  records.forEach(({ record, line }, index) => {
    const stamp = record[0] ?? "";
    const { at, zoned } = readTimestamp(stamp);
    if (index === 0 && Number.isNaN(at) && !/^\d/.test(stamp)) {
      const named = record.findIndex((cell, i) => i > 0 && TEMPERATURE_HEADER.test(cell));
      if (named > 0) column = named;
      return; // the header
    }
    const cell = record[column] ?? "";
    const value = parseDecimal(separator === ";" ? cell.replace(",", ".") : cell);
    if (Number.isNaN(at)) {
      problems.push({
        line,
        reason: `timestamp ${
          quoted(stamp)
        } is not a real date and hour (YYYY-MM-DD HH:MM:SS, optionally with a zone)`,
      });
    } else if (!Number.isFinite(value)) {
      problems.push({
        line,
        reason: `temperature ${
          quoted(cell)
        } is not a number (plain decimals in °C, such as -3.5; column ${column + 1})`,
      });
    } else {
      rows.push({ at, value, line, zoned });
    }
  });
  return rows;
}

function jsonRows(body: string, problems: RejectedLine[]): Row[] {
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
      reason: 'the body must be a JSON array of {"timestamp", "temperature"}',
    });
    return [];
  }
  const rows: Row[] = [];
  items.forEach((item, i) => {
    const line = i + 1;
    const record = item as { timestamp?: unknown; temperature?: unknown } | null;
    const stamp = typeof record?.timestamp === "string"
      ? readTimestamp(record.timestamp)
      : { at: NaN, zoned: false };
    if (Number.isNaN(stamp.at)) {
      problems.push({
        line,
        reason: jsonFieldProblem("timestamp", record?.timestamp, "is not a real ISO date and hour"),
      });
    } else if (typeof record?.temperature !== "number" || !Number.isFinite(record.temperature)) {
      problems.push({
        line,
        reason: jsonFieldProblem(
          "temperature",
          record?.temperature,
          "is not a number (°C, a JSON number, such as -3.5)",
        ),
      });
    } else {
      rows.push({ at: stamp.at, value: record.temperature, line, zoned: stamp.zoned });
    }
  });
  return rows;
}
