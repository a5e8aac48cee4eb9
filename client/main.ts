/**
 * `deno task client`: follows training tasks from a terminal, starts them
 * (`--new`, `--batch`), or compares polling with the stream (`--compare`).
 * This file only wires the parts together; see `args.ts` for the options
 * and `exit_codes.ts` for how it ends.
 *
 * @module
 */
import { parseClientArgs, USAGE } from "./args.ts";
import { compareMethods, compareTable } from "./compare.ts";
import { ClientExit, EXIT, exitCodeForStatus } from "./exit_codes.ts";
import { followChunks, streamChunks } from "./follow_all.ts";
import { createHttpClient, errorMessage, type HttpClient } from "./http.ts";
import { exitCodeOf } from "./outcome.ts";
import { createView, type View } from "./view.ts";
import type { MeterRef } from "../src/domain/meter.ts";
import type { Task } from "../src/domain/task.ts";

/** Starts a task for the meter (`--new`); returns its id. */
async function startTasks(
  client: HttpClient,
  meters: readonly MeterRef[],
  training: Record<string, number | undefined>,
  say: (line: string) => void,
): Promise<string[]> {
  const ids: string[] = [];
  for (const meter of meters) {
    const answer = await client.json("POST", "/trainmodel/", { ...meter, ...training });
    if (answer.status !== 202) {
      const started = ids.length ? ` (already started: ${ids.join(", ")})` : "";
      throw new ClientExit(
        exitCodeForStatus(answer.status),
        `${meter.meter_type}/${meter.meter_id}: ${
          errorMessage(answer.body, `the server answered ${answer.status}`)
        }${started}`,
      );
    }
    const task = answer.body as Task;
    say(`Started task ${task.task_id} for ${meter.meter_type}/${meter.meter_id}.`);
    ids.push(task.task_id);
  }
  return ids;
}

/** What a batch started: the tasks to follow, its streams' chunks, and how many meters it could not start. */
interface BatchStart {
  taskIds: string[];
  streams: string[][];
  refused: number;
}

/** A meter a batch did not start, as `POST /trainmodel/batch` reports it. */
type SkippedMeter = MeterRef & { reason: string; message: string; task_id?: string };

/** What `POST /trainmodel/batch` answers with `202`. */
interface BatchAnswer {
  group_id: string | null;
  tasks: (MeterRef & { task_id: string })[];
  skipped: SkippedMeter[];
  streams?: { task_ids: string[] }[];
}

/**
 * The meters of a batch that started nothing (`409`/`422`
 * `nothing_to_train`, each meter in `error.details.skipped`: those already
 * training are still followed); any other refusal ends the client.
 */
function nothingStarted(status: number, body: unknown): SkippedMeter[] {
  const error = (body as { error?: { code?: unknown; details?: { skipped?: unknown } } } | null)
    ?.error;
  if (error?.code === "nothing_to_train" && Array.isArray(error.details?.skipped)) {
    return error.details.skipped as SkippedMeter[];
  }
  throw new ClientExit(
    exitCodeForStatus(status),
    errorMessage(body, `the server answered ${status}`),
  );
}

/**
 * Starts a task per meter with one request (`POST /trainmodel/batch`). A
 * meter already training is followed as it is; one that cannot be trained
 * (no readings, not allowed) is reported and counted.
 */
async function startBatch(
  client: HttpClient,
  meters: readonly MeterRef[],
  training: Record<string, number | undefined>,
  say: (line: string) => void,
): Promise<BatchStart> {
  const answer = await client.json("POST", "/trainmodel/batch", { meters, ...training });
  const batch = answer.status === 202 ? answer.body as BatchAnswer : {
    group_id: null,
    tasks: [],
    skipped: nothingStarted(answer.status, answer.body),
    streams: [],
  };
  const taskIds = batch.tasks.map((task) => task.task_id);
  for (const task of batch.tasks) {
    say(`Started task ${task.task_id} for ${task.meter_type}/${task.meter_id}.`);
  }
  if (batch.group_id) {
    say(
      `Group ${batch.group_id}: ${taskIds.length} tasks (GET /trainmodel/groups/${batch.group_id}).`,
    );
  }
  let refused = 0;
  for (const skipped of batch.skipped) {
    if (skipped.reason === "task_already_active" && skipped.task_id) {
      say(
        `Following task ${skipped.task_id}, already training ${skipped.meter_type}/${skipped.meter_id}.`,
      );
      taskIds.push(skipped.task_id);
    } else {
      refused++;
      say(`Skipped ${skipped.meter_type}/${skipped.meter_id}: ${skipped.message}`);
    }
  }
  if (!taskIds.length) {
    // Each meter's reason is printed above; the server's message points into its JSON.
    throw new ClientExit(
      exitCodeForStatus(answer.status),
      `Nothing was queued: ${
        refused === 1 ? "the meter was" : `all ${refused} meters were`
      } skipped.`,
    );
  }
  // The server chunks its tasks 100 a stream; a meter already training is followed on another.
  const streams = (batch.streams ?? []).map((stream) => stream.task_ids);
  return { taskIds, streams, refused };
}

/** Runs the client with `args`; resolves to the exit code. */
export async function runClient(args: string[]): Promise<number> {
  const print = (line: string) => console.log(line);
  const options = parseClientArgs(args, { WATTCAST_TOKEN: Deno.env.get("WATTCAST_TOKEN") });
  if (options.help) {
    print(USAGE);
    return EXIT.success;
  }
  const client = createHttpClient(options.url, options.token);
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort();
  Deno.addSignalListener("SIGINT", onSigint);
  const mode = options.json ? "json" : Deno.stdout.isTerminal() ? "bar" : "lines";
  // Progress notes go to stderr with --json, so stdout holds only events.
  const say = options.json ? (l: string) => console.error(l) : print;
  let view: View | null = null;
  try {
    const batch = options.batch
      ? await startBatch(client, options.meters, options.training, say)
      : { refused: 0, taskIds: [], streams: [] };
    const taskIds = options.batch
      ? batch.taskIds
      : options.meters.length
      ? await startTasks(client, options.meters, options.training, say)
      : options.taskIds;
    view = createView(mode, print);
    if (options.compare) {
      say(`Watching task ${taskIds[0]} by polling every 2 s and by its stream…`);
      const report = await compareMethods(client, taskIds[0], {
        onStreamEvent: (e) => view!.event(e),
        signal: interrupt.signal,
      });
      view.end([report.final]);
      if (options.json) print(JSON.stringify({ compare: report }));
      else for (const line of ["", ...compareTable(report)]) print(line);
      return exitCodeOf([report.final]);
    }
    const chunks = streamChunks(taskIds, batch.streams);
    if (chunks.length > 1) say(`Following ${taskIds.length} tasks on ${chunks.length} streams.`);
    const finals = await followChunks(client, taskIds, chunks, {
      onEvent: (e) => view!.event(e),
      signal: interrupt.signal,
    });
    view.end(finals);
    const code = exitCodeOf(finals);
    // Meters the batch could not start make an otherwise clean run a refusal.
    return code === EXIT.success && batch.refused ? EXIT.badArguments : code;
  } catch (error) {
    view?.stop();
    if (interrupt.signal.aborted) {
      console.error("Interrupted; the tasks go on on the server.");
      return EXIT.interrupted;
    }
    if (error instanceof ClientExit) {
      console.error(error.message);
      return error.code;
    }
    throw error;
  } finally {
    Deno.removeSignalListener("SIGINT", onSigint);
    client.close();
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await runClient(Deno.args));
  } catch (error) {
    if (error instanceof ClientExit) {
      console.error(error.message);
      Deno.exit(error.code);
    }
    throw error;
  }
}
