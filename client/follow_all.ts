/**
 * Follows any number of tasks: one multi-task stream takes at most 100 task
 * ids (`GET /trainmodel/stream?task_ids=`, 1–100), so a fleet is followed
 * on several streams at once, one per chunk, each resumed on its own (see
 * `follow.ts`). Their events go to one `onEvent` as they come; the finals
 * come back in the order the ids were given. When one stream fails for good
 * the others are closed, and the first error is the run's.
 *
 * @module
 */
import type { Task } from "../src/domain/task.ts";
import { type FollowOptions, followTasks } from "./follow.ts";
import type { HttpClient } from "./http.ts";

/** Task ids one stream of the API accepts at most. */
export const STREAM_TASK_LIMIT = 100;

/**
 * Splits `taskIds` into streams: the chunks given first (a batch's own
 * `streams`, as the server chunked them), then the other ids in chunks of
 * at most {@link STREAM_TASK_LIMIT}. An id is followed once.
 */
export function streamChunks(
  taskIds: readonly string[],
  given: readonly (readonly string[])[] = [],
): string[][] {
  const seen = new Set<string>();
  const chunks: string[][] = [];
  for (const chunk of given) {
    const fresh = chunk.filter((id) => !seen.has(id) && seen.add(id));
    for (let i = 0; i < fresh.length; i += STREAM_TASK_LIMIT) {
      chunks.push(fresh.slice(i, i + STREAM_TASK_LIMIT));
    }
  }
  const rest = taskIds.filter((id) => !seen.has(id) && seen.add(id));
  for (let i = 0; i < rest.length; i += STREAM_TASK_LIMIT) {
    chunks.push(rest.slice(i, i + STREAM_TASK_LIMIT));
  }
  return chunks;
}

/** Follows every chunk on a stream of its own, concurrently; returns the finals in `taskIds` order. */
export async function followChunks(
  client: HttpClient,
  taskIds: readonly string[],
  chunks: readonly (readonly string[])[],
  options: FollowOptions,
): Promise<Task[]> {
  if (chunks.length <= 1) return await followTasks(client, chunks[0] ?? taskIds, options);
  // One stream failing for good closes the others, so the run ends at once.
  const stopAll = new AbortController();
  const onOuterAbort = () => stopAll.abort();
  options.signal?.addEventListener("abort", onOuterAbort);
  let firstError: unknown = null;
  try {
    const settled = await Promise.allSettled(chunks.map(async (chunk) => {
      try {
        return await followTasks(client, chunk, { ...options, signal: stopAll.signal });
      } catch (error) {
        firstError ??= error;
        stopAll.abort();
        throw error;
      }
    }));
    if (firstError !== null) throw firstError;
    const results = settled.map((s) => s.status === "fulfilled" ? s.value : []);
    const byId = new Map(results.flat().map((task) => [task.task_id, task]));
    return taskIds.map((id) => byId.get(id)).filter((t): t is Task => t !== undefined);
  } finally {
    options.signal?.removeEventListener("abort", onOuterAbort);
  }
}
