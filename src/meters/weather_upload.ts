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
  parseDecimal,
  quoted,
  readRecords,
  readTimestamp,
  type RejectedLine,
  separatorOf,
} from "./csv.ts";
import type { ReadingSeries } from "../domain/series.ts";
import {
  checkRows,
  jsonRows,
  LOST_LINE_BREAKS,
  lostLineBreaks,
  type ReadingsWindow,
  type UploadRow,
} from "./upload.ts";

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

/** Parses and checks a weather upload; `json` picks the JSON format. */
export function parseWeatherUpload(
  body: string,
  json: boolean,
  window: ReadingsWindow,
): ParsedWeather {
  const problems: RejectedLine[] = [];
  const rows = json
    ? jsonRows(body, problems, "temperature", "°C, a JSON number, such as -3.5")
    : csvRows(body, problems);
  const unit = json ? "item" : "line";
  const good = checkRows(rows, problems, {
    unit,
    window,
    ahead: "a weather forecast reaches a few weeks ahead at most",
    convention: "all with a zone, or all local time, as the meters' readings",
    valueProblem: (value) =>
      value < TEMPERATURE_RANGE.min || value > TEMPERATURE_RANGE.max
        ? `temperature ${value} is not a plausible outdoor temperature in °C (${TEMPERATURE_RANGE.min} to ${TEMPERATURE_RANGE.max}); convert °F or K to °C`
        : null,
    nothing: "the upload holds no temperatures",
  });
  return {
    series: { timestamps: good.map((r) => r.at), values: good.map((r) => r.value) },
    problems,
    unit,
  };
}

/** A header cell naming the temperature column. */
const TEMPERATURE_HEADER = /temp|degc|°c|celsius/i;

function csvRows(body: string, problems: RejectedLine[]): UploadRow[] {
  if (lostLineBreaks(body)) {
    problems.push({ line: 1, reason: LOST_LINE_BREAKS });
    return [];
  }
  const separator = separatorOf(body);
  const records = readRecords(body, separator, problems);
  let column = 1;
  const rows: UploadRow[] = [];
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
