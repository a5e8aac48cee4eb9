/**
 * The terminal client's command line, read with `node:util`'s `parseArgs`
 * into what to do: follow tasks, start them first, or compare polling with
 * the stream. Every mistake is named in plain words (exit code 2).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { METER_TYPES, meterIdProblem, type MeterRef, type MeterType } from "../src/domain/meter.ts";
import { ClientExit, EXIT } from "./exit_codes.ts";

/** What the client was asked to do. */
export interface ClientOptions {
  /** The service's base URL, without a trailing slash. */
  url: string;
  /** Sent as `Authorization: Bearer …` when set. */
  token: string | null;
  /** One JSON event per line instead of a bar or plain lines. */
  json: boolean;
  /** Watch by polling and by the stream side by side, and print the table. */
  compare: boolean;
  /** Tasks to follow, by id. */
  taskIds: string[];
  /** Meters to start a task for first (`--new`, `--batch`). */
  meters: MeterRef[];
  /** The meters came with `--batch`: started as a group, however many. */
  batch: boolean;
  /** Training options sent with each new task. */
  training: { epochs?: number; batch_size?: number };
  /** Show the usage and exit 0. */
  help: boolean;
}

/** How to use the client, printed by `--help` and after a mistake. */
export const USAGE = `Usage:
  deno task client <task_id> [<task_id>…]         follow tasks (several on one stream)
  deno task client --new --meter-id ID --meter-type TYPE
                                                  start a training task, then follow it
  deno task client --batch ID:TYPE,ID:TYPE…       start one task per meter (one request, a group),
                                                  follow all on one stream
  deno task client --compare <task_id>            watch a task by polling every 2 s and by the
  deno task client --compare --new --meter-id ID --meter-type TYPE
                                                  stream at once; print requests, bytes, delays

Options:
  --url URL           the service (default http://localhost:8000)
  --token TOKEN       sent as "Authorization: Bearer TOKEN" (default: $WATTCAST_TOKEN)
  --json              one JSON event per line (for scripts)
  --epochs N          epochs for new tasks (server default 30)
  --batch-size N      batch size for new tasks (server default 256)
  --help              this text

Meter types: ${METER_TYPES.join(", ")}. --batch may be given more than once.
Exit codes: 0 SUCCESS, 1 FAILURE, 2 bad arguments or refused request, 3 CANCELLED,
4 unknown or expired task, 5 server unreachable or stream lost, 130 interrupted.`;

function bad(message: string): ClientExit {
  return new ClientExit(EXIT.badArguments, `${message}\n\n${USAGE}`);
}

function meterType(value: string, where: string): MeterType {
  if (!(METER_TYPES as readonly string[]).includes(value)) {
    throw bad(`${where} "${value}" is not a meter type; use one of: ${METER_TYPES.join(", ")}.`);
  }
  return value as MeterType;
}

function meterId(value: string, where: string): string {
  const problem = meterIdProblem(value);
  if (problem) throw bad(`${where} "${value}" ${problem}.`);
  return value;
}

function wholeNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9][0-9]{0,5}$/.test(value)) {
    throw bad(`${flag} must be a whole number, not "${value}".`);
  }
  return Number(value);
}

/** One `--batch` value: `id:type` pairs separated by commas. */
export function parseBatch(value: string): MeterRef[] {
  const meters: MeterRef[] = [];
  for (const item of value.split(",").map((s) => s.trim()).filter(Boolean)) {
    const at = item.lastIndexOf(":");
    if (at <= 0) {
      throw bad(`--batch takes METER_ID:METER_TYPE pairs (b1:electricity,b2:gas), not "${item}".`);
    }
    meters.push({
      meter_id: meterId(item.slice(0, at), "--batch meter id"),
      meter_type: meterType(item.slice(at + 1), "--batch meter type"),
    });
  }
  return meters;
}

/** Reads the command line; throws a `ClientExit` (code 2) naming what is wrong. */
export function parseClientArgs(
  args: string[],
  env: { WATTCAST_TOKEN?: string } = {},
): ClientOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        url: { type: "string", default: "http://localhost:8000" },
        token: { type: "string" },
        json: { type: "boolean", default: false },
        compare: { type: "boolean", default: false },
        new: { type: "boolean", default: false },
        "meter-id": { type: "string" },
        "meter-type": { type: "string" },
        batch: { type: "string", multiple: true },
        epochs: { type: "string" },
        "batch-size": { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    throw bad(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  const options: ClientOptions = {
    url: "",
    token: values.token ?? env.WATTCAST_TOKEN ?? null,
    json: values.json,
    compare: values.compare,
    taskIds: positionals,
    meters: [],
    batch: (values.batch?.length ?? 0) > 0,
    training: {
      epochs: wholeNumber(values.epochs, "--epochs"),
      batch_size: wholeNumber(values["batch-size"], "--batch-size"),
    },
    help: values.help,
  };
  if (options.help) return { ...options, url: values.url };

  let url: URL;
  try {
    url = new URL(values.url);
  } catch {
    throw bad(`--url "${values.url}" is not a URL; give one like http://localhost:8000.`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw bad(`--url must start with http:// or https://, not "${url.protocol}".`);
  }
  options.url = url.href.replace(/\/+$/, "");

  const meterFlags = values["meter-id"] !== undefined || values["meter-type"] !== undefined;
  if (values.new) {
    if (values["meter-id"] === undefined || values["meter-type"] === undefined) {
      throw bad("--new needs both --meter-id and --meter-type.");
    }
    options.meters.push({
      meter_id: meterId(values["meter-id"], "--meter-id"),
      meter_type: meterType(values["meter-type"], "--meter-type"),
    });
  } else if (meterFlags) {
    throw bad("--meter-id and --meter-type go with --new.");
  }
  for (const value of values.batch ?? []) options.meters.push(...parseBatch(value));
  if (values.new && values.batch?.length) {
    throw bad("Use --new for one meter or --batch for several, not both.");
  }
  if (values.batch && options.meters.length === 0) throw bad("--batch names no meter.");
  const keys = options.meters.map((m) => `${m.meter_type}/${m.meter_id}`);
  const twice = keys.find((k, i) => keys.indexOf(k) !== i);
  if (twice) throw bad(`Meter ${twice} is named twice; a meter trains one task at a time.`);

  if (options.meters.length && options.taskIds.length) {
    throw bad("Follow existing tasks or start new ones, not both in one command.");
  }
  if (!options.meters.length && !options.taskIds.length) {
    throw bad("Name a task id to follow, or start one with --new or --batch.");
  }
  if ((options.training.epochs || options.training.batch_size) && !options.meters.length) {
    throw bad("--epochs and --batch-size apply to new tasks (--new or --batch).");
  }
  const twiceId = options.taskIds.find((id, i) => options.taskIds.indexOf(id) !== i);
  if (twiceId) throw bad(`Task ${twiceId} is named twice.`);
  if (options.compare && options.taskIds.length + options.meters.length !== 1) {
    throw bad("--compare watches one task: give one task id, or --new with one meter.");
  }
  return options;
}
