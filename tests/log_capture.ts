/**
 * The service's log lines as LogTape hands them to its sinks, captured in a
 * test (nothing goes to the console meanwhile).
 *
 * @module
 */
import { configure, type LogLevel, reset } from "@logtape/logtape";

/** Captured log lines, and how to stop capturing. */
export interface LogCapture {
  /** Each record's message, its values rendered (an `Error` as its stack). */
  readonly lines: string[];
  /** Stops capturing: LogTape is reset to no configuration. */
  stop(): Promise<void>;
}

/** Captures `wattcast.*` records at `lowestLevel` and above until `stop()`. */
export async function captureLogs(lowestLevel: LogLevel = "warning"): Promise<LogCapture> {
  const lines: string[] = [];
  await configure({
    reset: true,
    sinks: {
      capture: (record) =>
        void lines.push(
          record.message.map((p) => p instanceof Error ? String(p.stack) : String(p)).join(""),
        ),
    },
    loggers: [
      { category: ["wattcast"], sinks: ["capture"], lowestLevel },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
    ],
  });
  return { lines, stop: reset };
}
