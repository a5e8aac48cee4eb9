/**
 * Watches one task two ways at once, polling `GET /trainmodel/status/{id}`
 * every 2 seconds and following its event stream, and counts what each
 * costs and gives: HTTP requests, bytes received as on the wire (headers
 * and bodies, `http.ts`), status changes seen, and the delay from a
 * change's `updated_at` to the client seeing it.
 *
 * @module
 */
import { isFinal, type Task } from "../src/domain/task.ts";
import { ClientExit, exitCodeForStatus } from "./exit_codes.ts";
import { followTasks, type StreamEvent } from "./follow.ts";
import { errorMessage, type HttpClient, type WireCount } from "./http.ts";

/** What one way of watching cost and saw. */
export interface MethodReport {
  method: string;
  requests: number;
  bytes: number;
  /** Distinct status changes seen (distinct `updated_at`). */
  changes: number;
  /** Milliseconds from each change's `updated_at` to its receipt. */
  delaysMs: number[];
  /** Responses that came gzipped. */
  gzipped: number;
}

/** Both ways of watching one task. */
export interface CompareReport {
  taskId: string;
  /** Seconds from the start of watching to the task's end. */
  seconds: number;
  final: Task;
  polling: MethodReport;
  stream: MethodReport;
}

/** How to compare. */
export interface CompareOptions {
  /** Polling interval (2 s). */
  pollMs?: number;
  /** Told of every stream event (to show progress). */
  onStreamEvent?(event: StreamEvent): void;
  signal?: AbortSignal;
}

/** The median of some numbers; null when there are none. */
export function median(values: readonly number[]): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Records status changes once each, with their delays. */
function changeRecorder(method: string, count: WireCount) {
  const seen = new Set<string>();
  const delaysMs: number[] = [];
  return {
    see(task: Task, receivedAt: number) {
      if (seen.has(task.updated_at)) return;
      seen.add(task.updated_at);
      delaysMs.push(Math.max(0, receivedAt - Date.parse(task.updated_at)));
    },
    report(): MethodReport {
      return {
        method,
        requests: count.requests,
        bytes: count.bytes,
        changes: seen.size,
        delaysMs,
        gzipped: count.gzipped ?? 0,
      };
    },
  };
}

/** Watches `taskId` by polling and by the stream until it ends; returns what each saw. */
export async function compareMethods(
  client: HttpClient,
  taskId: string,
  options: CompareOptions = {},
): Promise<CompareReport> {
  const pollMs = options.pollMs ?? 2000;
  const started = Date.now();
  const pollCount: WireCount = { requests: 0, bytes: 0 };
  const streamCount: WireCount = { requests: 0, bytes: 0 };
  const polled = changeRecorder("polling every 2 s", pollCount);
  const streamed = changeRecorder("stream", streamCount);
  const cancel = new AbortController();
  options.signal?.addEventListener("abort", () => cancel.abort());

  async function poll(): Promise<Task> {
    for (let round = 0;; round++) {
      const answer = await client.json(
        "GET",
        `/trainmodel/status/${encodeURIComponent(taskId)}`,
        undefined,
        pollCount,
      );
      if (answer.status !== 200) {
        throw new ClientExit(
          exitCodeForStatus(answer.status),
          errorMessage(answer.body, `Polling answered ${answer.status}.`),
        );
      }
      const task = answer.body as Task;
      polled.see(task, answer.receivedAt);
      if (isFinal(task.status)) return task;
      const wait = started + (round + 1) * pollMs - Date.now();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, wait));
        cancel.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (cancel.signal.aborted) throw new ClientExit(130, "Interrupted.");
    }
  }

  const streaming = followTasks(client, [taskId], {
    count: streamCount,
    signal: cancel.signal,
    onEvent(event) {
      if (event.kind === "status") streamed.see(event.task, event.receivedAt);
      options.onStreamEvent?.(event);
    },
  });
  try {
    const [final] = await Promise.all([poll(), streaming]);
    return {
      taskId,
      seconds: (Date.now() - started) / 1000,
      final,
      polling: polled.report(),
      stream: streamed.report(),
    };
  } catch (error) {
    cancel.abort();
    await streaming.catch(() => {});
    throw error;
  }
}

const number = (n: number) => Math.round(n).toLocaleString("en");

/** The comparison as a Markdown table, and a line of ratios under it. */
export function compareTable(report: CompareReport): string[] {
  const rows = [report.polling, report.stream].map((m) => {
    const delay = median(m.delaysMs);
    return `| ${m.method} | ${number(m.requests)} | ${number(m.bytes)} | ${m.changes} | ${
      delay === null ? "-" : number(delay)
    } |`;
  });
  const { polling, stream } = report;
  const ratio = (a: number, b: number) => (b > 0 ? a / b : Infinity);
  const requests = ratio(polling.requests, stream.requests);
  const bytes = ratio(polling.bytes, stream.bytes);
  return [
    "| method | HTTP requests | bytes received | status changes seen | median delay, ms |",
    "| --- | ---: | ---: | ---: | ---: |",
    ...rows,
    "",
    `Task ${report.taskId} ended ${report.final.status} after ${
      report.seconds.toFixed(1)
    } s of watching. The stream made ${requests.toFixed(0)}× fewer requests and received ${
      bytes >= 1 ? `${bytes.toFixed(1)}× fewer bytes` : `${(1 / bytes).toFixed(1)}× more bytes`
    } than polling, and saw ${stream.changes} status changes to polling's ${polling.changes}.`,
  ];
}
