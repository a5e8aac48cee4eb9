/**
 * The service's structured log, on LogTape: JSON lines (one object per
 * line, for log collectors) or readable text lines (a terminal), to the
 * console and, when asked, to a file with size-based rotation. Categories
 * live under `wattcast` (`wattcast.http` for requests, `wattcast.tasks` for
 * task status changes); `DEBUG` lowers the level to debug.
 *
 * `closeLogging` flushes the file at exit. Until `setUpLogging` runs (tests that build the app in process), log
 * calls go nowhere.
 *
 * @module
 */
import {
  configure,
  dispose,
  getConsoleSink,
  getLogger,
  getTextFormatter,
  type Logger,
  type LogRecord,
  type Sink,
  type TextFormatter,
} from "@logtape/logtape";
import { getRotatingFileSink, getTimeRotatingFileSink } from "@logtape/file";

/** How log lines are written. */
export type LogFormat = "json" | "text";

/** Where and how to log. */
export interface LogSettings {
  /** `json` or `text`; null: text on a terminal, JSON lines otherwise. */
  format: LogFormat | null;
  /** A file that gets the same lines (rotated at 10 MiB, 5 kept); null for none. */
  file: string | null;
  /** A directory that gets the same lines in one file a day, `energy_forecasting_<date>.log`; null for none. */
  dir?: string | null;
  /** Debug lines too. */
  debug: boolean;
}

/** Bytes a log file reaches before it is rotated. */
export const LOG_FILE_MAX_BYTES = 10 * 1024 * 1024;

/** Rotated log files kept (`<file>.1` … `<file>.5`). */
export const LOG_FILES_KEPT = 5;

/** Days a daily log file in `LOG_DIR` is kept. */
export const LOG_DIR_DAYS_KEPT = 14;

/** The daily log file of a date (UTC), as the original troubleshooting guide names them. */
export function dailyLogName(date: Date): string {
  return `energy_forecasting_${date.toISOString().slice(0, 10)}.log`;
}

/** The date of a daily log file's name; null for other files. */
function dailyLogDate(name: string): Date | null {
  const match = /^energy_forecasting_(\d{4}-\d{2}-\d{2})\.log$/.exec(name);
  return match ? new Date(`${match[1]}T00:00:00Z`) : null;
}

/** Milliseconds at most between writes of buffered lines to the log file. */
export const LOG_FILE_FLUSH_MS = 1000;

/** The format used when none is configured: text on a terminal, JSON lines otherwise. */
export function defaultLogFormat(): LogFormat {
  try {
    return Deno.stdout.isTerminal() ? "text" : "json";
  } catch {
    return "json";
  }
}

/** Readable lines: `2026-01-15 10:00:00.000 +00:00 [INF] wattcast·http: GET /meters 200 3ms id=…`; string values unquoted. */
const textFormatter: TextFormatter = getTextFormatter({ value: "bare" });

/** A value inside a message, as a reader wants it: strings bare, the rest as JSON. */
function bare(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Error) return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * JSON lines: `{"time","level","logger","message", ...fields}`, the fields
 * at the top level where log collectors index them, the message rendered
 * with bare strings.
 */
export function jsonLine(record: LogRecord): string {
  const message = record.message.map((part, i) => (i % 2 ? bare(part) : part)).join("");
  return `${
    JSON.stringify({
      time: new Date(record.timestamp).toISOString(),
      level: record.level,
      logger: record.category.join("."),
      message,
      ...record.properties,
    }, errorsAsObjects)
  }\n`;
}

/** `JSON.stringify` replacer: an `Error` (which stringifies as `{}`) as its name, message and stack. */
function errorsAsObjects(_key: string, value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  return { name: value.name, message: value.message, stack: value.stack, cause: value.cause };
}

/** Configures the process's logging (once, at start). */
export async function setUpLogging(settings: LogSettings): Promise<LogFormat> {
  const format = settings.format ?? defaultLogFormat();
  const formatter = format === "json" ? jsonLine : textFormatter;
  const sinks: Record<string, Sink> = { console: getConsoleSink({ formatter }) };
  if (settings.file !== null) {
    // Written in the background, at least every second (`closeLogging` flushes the rest).
    sinks.file = getRotatingFileSink(settings.file, {
      formatter,
      maxSize: LOG_FILE_MAX_BYTES,
      maxFiles: LOG_FILES_KEPT,
      nonBlocking: true,
      flushInterval: LOG_FILE_FLUSH_MS,
    });
  }
  if (settings.dir) {
    sinks.daily = getTimeRotatingFileSink({
      directory: settings.dir,
      interval: "daily",
      filename: dailyLogName,
      parseFilename: dailyLogDate,
      maxAgeMs: LOG_DIR_DAYS_KEPT * 86_400_000,
      formatter,
      nonBlocking: true,
      flushInterval: LOG_FILE_FLUSH_MS,
    });
  }
  await configure({
    sinks,
    loggers: [
      {
        category: ["wattcast"],
        sinks: Object.keys(sinks),
        lowestLevel: settings.debug ? "debug" : "info",
      },
      { category: ["logtape", "meta"], sinks: ["console"], lowestLevel: "warning" },
    ],
  });
  return format;
}

/** Writes out what the sinks still hold (the log file's buffer) and closes them; at exit. */
export async function closeLogging(): Promise<void> {
  await dispose();
}

/** The logger of one part of the service (`logger("http")` is `wattcast.http`). */
export function logger(...category: string[]): Logger {
  return getLogger(["wattcast", ...category]);
}
