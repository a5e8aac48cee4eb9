/**
 * Follows one or several tasks on one event stream until each has ended:
 * `GET /trainmodel/stream/{id}` for one, `GET /trainmodel/stream?task_ids=…`
 * for several. A dropped connection (or the server's maximum stream time)
 * is resumed with `Last-Event-ID`, so no event is lost or repeated; a
 * stream that cannot be resumed ends the client with code 5.
 *
 * @module
 */
import { createParser } from "eventsource-parser";
import { isFinal, type Task } from "../src/domain/task.ts";
import { ClientExit, EXIT, exitCodeForStatus } from "./exit_codes.ts";
import { errorMessage, type HttpClient, type WireCount } from "./http.ts";

/** One event of the stream, as the client saw it. */
export type StreamEvent =
  | { kind: "status"; task: Task; id: string | undefined; receivedAt: number }
  | { kind: "heartbeat"; data: Record<string, unknown>; receivedAt: number }
  | { kind: "error"; data: Record<string, unknown>; receivedAt: number };

/** How to follow. */
export interface FollowOptions {
  /** Told of every event, in order. */
  onEvent(event: StreamEvent): void;
  /** Counts the stream's requests and bytes. */
  count?: WireCount;
  /** Reconnections tried in a row before giving up. */
  maxRetries?: number;
  /** Wait before the first retry, doubled on each after. */
  retryDelayMs?: number;
  /** Stops following (Ctrl-C). */
  signal?: AbortSignal;
}

/** How long a stream may go on after the last final event before the client closes it. */
const END_GRACE_MS = 2000;

/** The path of the stream of these tasks. */
export function streamPath(taskIds: readonly string[]): string {
  return taskIds.length === 1
    ? `/trainmodel/stream/${encodeURIComponent(taskIds[0])}`
    : `/trainmodel/stream?task_ids=${taskIds.map(encodeURIComponent).join(",")}`;
}

/** Reads one SSE `data:` payload into an event. */
export function toStreamEvent(
  data: string,
  id: string | undefined,
  receivedAt: number,
): StreamEvent | null {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(data);
  } catch {
    return null;
  }
  if (value === null || typeof value !== "object") return null;
  if (value.type === "heartbeat") return { kind: "heartbeat", data: value, receivedAt };
  if (value.type === "error") return { kind: "error", data: value, receivedAt };
  if (typeof value.status === "string" && typeof value.task_id === "string") {
    return { kind: "status", task: value as unknown as Task, id, receivedAt };
  }
  return null;
}

/** Follows `taskIds` until every one has a final status; returns them, in the order given. */
export async function followTasks(
  client: HttpClient,
  taskIds: readonly string[],
  options: FollowOptions,
): Promise<Task[]> {
  const finals = new Map<string, Task>();
  const path = streamPath(taskIds);
  const maxRetries = options.maxRetries ?? 5;
  let lastEventId: string | undefined;
  let failures = 0;
  let lastProblem = "";

  while (finals.size < taskIds.length) {
    if (options.signal?.aborted) throw new ClientExit(EXIT.interrupted, "Interrupted.");
    let answer;
    try {
      answer = await client.stream(path, { lastEventId, count: options.count });
    } catch (error) {
      if (!(error instanceof ClientExit) || lastEventId === undefined) throw error;
      lastProblem = error.message;
      answer = null;
    }
    if (answer && answer.status === 204) break; // the server says we have every final event
    if (answer && answer.status !== 200) {
      const body = await answer.text();
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(body);
      } catch { /* not JSON */ }
      const message = errorMessage(parsed, `The server answered ${answer.status}.`);
      if (answer.status === 404) throw new ClientExit(EXIT.unknownTask, message);
      if (answer.status === 400 && lastEventId !== undefined) {
        throw new ClientExit(EXIT.unreachable, `The stream could not be resumed: ${message}`);
      }
      if (answer.status !== 503) throw new ClientExit(exitCodeForStatus(answer.status), message);
      lastProblem = message;
    } else if (answer) {
      const stop = () => answer.close();
      options.signal?.addEventListener("abort", stop);
      let expired: string | null = null;
      let got = false;
      const parser = createParser({
        onEvent(message) {
          const event = toStreamEvent(message.data, message.id, Date.now());
          if (!event) return;
          got = true;
          if (event.kind === "status") {
            if (message.id) lastEventId = message.id;
            if (isFinal(event.task.status)) finals.set(event.task.task_id, event.task);
          }
          if (event.kind === "error" && event.data.code === "events_expired") {
            expired = String(event.data.error ?? "the events to resume from have expired");
          }
          options.onEvent(event);
        },
      });
      let partial = "";
      let ending: ReturnType<typeof setTimeout> | undefined;
      try {
        for await (const chunk of answer.chunks) {
          // An `id:` with no data (a cursor frame) still moves the position.
          const lines = (partial + chunk).split(/\r?\n/);
          partial = lines.pop()!;
          for (const line of lines) if (line.startsWith("id:")) lastEventId = line.slice(3).trim();
          parser.feed(chunk);
          if (expired) break;
          // The server ends the stream after the last final event; read to
          // its end (so every byte sent is counted), but not for long.
          if (finals.size === taskIds.length) ending ??= setTimeout(stop, END_GRACE_MS);
        }
      } finally {
        clearTimeout(ending);
        options.signal?.removeEventListener("abort", stop);
        answer.close();
      }
      if (expired) {
        throw new ClientExit(EXIT.unreachable, `The stream could not be resumed: ${expired}`);
      }
      if (got) failures = 0;
      lastProblem = "the connection ended before every task did";
    }
    if (finals.size === taskIds.length) break;
    if (options.signal?.aborted) throw new ClientExit(EXIT.interrupted, "Interrupted.");
    if (++failures > maxRetries) {
      throw new ClientExit(
        EXIT.unreachable,
        `The stream dropped and could not be resumed after ${maxRetries} tries (${lastProblem}).`,
      );
    }
    await sleep((options.retryDelayMs ?? 500) * 2 ** (failures - 1), options.signal);
  }
  return taskIds.map((id) => finals.get(id)).filter((t): t is Task => t !== undefined);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}
