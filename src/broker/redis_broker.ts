/**
 * The Redis broker: the broker port on Redis, reached only through the REST
 * client `@upstash/redis` (Upstash itself, or this project's gateway in
 * front of a `redis-server`).
 *
 * Layout (keys under `wattcast:`):
 * - `task:{id}`: hash `id` (last event id), `status`, `task` (JSON); expires
 *   `taskTtlSeconds` after the task ends;
 * - `task:{id}:events`: the event log, a stream capped at `maxEventsPerTask`
 *   (`XADD MAXLEN ~`); its ids are the SSE event ids; expires with the task;
 * - `events`: the log of every task's events (`id`: the task's event id,
 *   `task`), a stream capped at `maxAllEvents`; its ids are the events'
 *   `seq`, in commit order across tasks, for all-task streams;
 * - `meter:{type}/{id}:active`: the meter's active task id;
 * - `jobs`: the job queue, a stream with consumer group `workers`: jobs are
 *   delivered at least once, acknowledged when done, and reclaimed
 *   (`XAUTOCLAIM`) when their lease runs out. Only single tasks' jobs wait
 *   in it: a group's jobs wait in `jobs:group:{group_id}` (a list), and
 *   `jobs:lanes` (a list) is the round of groups with jobs waiting; a claim
 *   that finds no single task's job moves the next group's into the stream
 *   and delivers it, and that group goes to the end of the round;
 * - `group:{group_id}`: a task group's JSON (with its tasks' ids), expiring
 *   `GROUP_TTL_SECONDS` after it was created;
 * - `model:{type}/{id}`: the meter's trained model, a hash (`trained_at`,
 *   `json`, `weights` as base64), so every API instance can load it;
 * - `readings:{type}/{id}`: the meter's readings, a hash from epoch
 *   milliseconds to value, so a merge by timestamp is one `HSET`;
 * - `site:{id}:temperature`, `site:{id}:calendar`, `meter:{type}/{id}:site`: the weather store
 *   (`redis_weather_store.ts`).
 *
 * Every change is `PUBLISH`ed on `task_updates:{task_id}`; a queued job on
 * `task_updates:_queue`, so one pattern subscription per process hears both.
 * Each operation is one Lua script (`redis_scripts.ts`): one command, atomic.
 * The consumer group is created once per process (again if the queue was
 * deleted), and consumers that hold no job and have been silent for
 * `deadConsumerMs` (workers that are gone) are removed from it now and then.
 *
 * @module
 */
import { Redis } from "@upstash/redis";
import { compareEventIds, eventIdMs } from "./event_id.ts";
import { decodeBase64, encodeBase64 } from "../util/base64.ts";
import {
  type Broker,
  type BrokerStats,
  checkMeterCursor,
  type CommitResult,
  type CreateGroupResult,
  type CreateTaskResult,
  type DeleteMeterResult,
  gridOffset,
  hourOffset,
  isAfter,
  type JobDelivery,
  matchesQuery,
  MAX_STATS_TASKS,
  meterPage,
  parseTaskCursor,
  ReadingsRefused,
  taskCursor,
  type TaskEventListener,
  taskPage,
  type Unsubscribe,
} from "./broker.ts";
import { createLiveSubscription, type LiveSubscription } from "./live_subscription.ts";
import { createRedisWebhookStore } from "./redis_webhook_store.ts";
import type { ReadingSeries } from "../domain/series.ts";
import { isFinal, type Task, type TaskEvent, type TaskStatus } from "../domain/task.ts";
import { meterKey, type MeterRef } from "../domain/meter.ts";
import { createRedisWeatherStore } from "./redis_weather_store.ts";
import { GROUP_TTL_SECONDS, type TaskGroup } from "../domain/task_group.ts";
import {
  ACK,
  CLAIM,
  COMMIT,
  CREATE,
  CREATE_GROUP,
  DELETE_METER,
  DELETE_READINGS,
  MERGE,
  READ_ALL,
  RELEASE,
  RENEW,
  STATS,
  SWEEP,
} from "./redis_scripts.ts";
import { logger } from "../logging/logging.ts";

const log = logger("broker", "redis");

/** Settings of the Redis broker. */
export interface RedisBrokerOptions {
  /** REST URL (Upstash or the gateway). */
  url: string;
  /** REST token. */
  token: string;
  /** Seconds a final task and its events are kept. */
  taskTtlSeconds: number;
  /** Events kept per task. */
  maxEventsPerTask?: number;
  /** Entries kept in the log of every task's events (`XADD MAXLEN ~`). */
  maxAllEvents?: number;
  /** Quiet time after which the subscription is checked with a ping. */
  livenessMs?: number;
  /** Key prefix, for sharing one Redis between deployments. */
  keyPrefix?: string;
  /** Silence after which a consumer without jobs counts as gone (default 10 minutes). */
  deadConsumerMs?: number;
  /** Told of each command sent to Redis (a script by its name, such as `script:claim`). */
  onCommand?: RedisCommandObserver;
}

/** Told of each command sent through `@upstash/redis`, and whether it failed. */
export type RedisCommandObserver = (command: string, failed: boolean) => void;

/** The channel of a task's events. */
export function taskChannel(taskId: string): string {
  return `task_updates:${taskId}`;
}

const PATTERN = "task_updates:*";
const QUEUE_CHANNEL = "task_updates:_queue";
const GROUP = "workers";

/** Tasks looked at, at most, for one page of a filtered listing. */
const MAX_LISTING_SCAN = 2000;

/**
 * Reports each command `redis` sends (each of a pipeline's) to `observe`,
 * and with `DEBUG=true` logs it (`wattcast.broker.redis`): `EVALSHA`/`EVAL`
 * of one of `scripts` by the script's name.
 */
function observeCommands(
  redis: Redis,
  scripts: Record<string, { script: string; sha1: string }>,
  observe: RedisCommandObserver | null,
): void {
  if (!observe && !log.isEnabledFor("debug")) return;
  const nameOf = (command: unknown[]): string => {
    const verb = String(command[0] ?? "unknown").toLowerCase();
    if (verb !== "evalsha" && verb !== "eval" && verb !== "evalsha_ro" && verb !== "eval_ro") {
      return verb;
    }
    const body = String(command[1]);
    for (const [name, script] of Object.entries(scripts)) {
      if (script.sha1 === body || script.script === body) return `script:${name}`;
    }
    return verb;
  };
  redis.use(async (request, next) => {
    const body = request.body;
    const commands = Array.isArray(body)
      ? (Array.isArray(body[0]) ? body as unknown[][] : [body])
      : [[request.path?.[0] ?? "unknown"]];
    const names = commands.map(nameOf);
    const started = performance.now();
    let failed = true;
    try {
      const response = await next(request);
      failed = Boolean((response as { error?: unknown }).error);
      return response;
    } finally {
      for (const name of names) observe?.(name, failed);
      if (log.isEnabledFor("debug")) {
        const ms = Math.round((performance.now() - started) * 10) / 10;
        const what = names.length === 1 ? names[0] : `pipeline of ${names.join(", ")}`;
        log.debug(`redis ${what} ${failed ? "failed after" : "in"} ${ms}ms`, {
          commands: names,
          duration_ms: ms,
          failed,
        });
      }
    }
  });
}

/** Creates the Redis broker and checks that Redis answers. */
export async function createRedisBroker(options: RedisBrokerOptions): Promise<Broker> {
  const prefix = options.keyPrefix ?? "wattcast:";
  const maxEvents = options.maxEventsPerTask ?? 1000;
  const maxAll = String(options.maxAllEvents ?? 50_000);
  const redis = new Redis({
    url: options.url,
    token: options.token,
    automaticDeserialization: false,
    enableTelemetry: false,
  });
  const scripts = {
    create: redis.createScript<[number, string]>(CREATE),
    createGroup: redis.createScript<[(number | string)[], (number | string)[]]>(CREATE_GROUP),
    commit: redis.createScript<[number, string?, string?]>(COMMIT),
    claim: redis.createScript<[string, string, number] | null>(CLAIM),
    renew: redis.createScript<number>(RENEW),
    release: redis.createScript<number>(RELEASE),
    ack: redis.createScript<number>(ACK),
    merge: redis.createScript<[string, number]>(MERGE),
    sweep: redis.createScript<number>(SWEEP),
    readAll: redis.createScript<[string, string, [string, string[]][]]>(READ_ALL),
    deleteReadings: redis.createScript<number>(DELETE_READINGS),
    deleteMeter: redis.createScript<[number, number | string, number?]>(DELETE_METER),
    stats: redis.createScript<(number | string | null)[]>(STATS),
  };
  observeCommands(redis, scripts, options.onCommand ?? null);
  const key = {
    task: (id: string) => `${prefix}task:${id}`,
    events: (id: string) => `${prefix}task:${id}:events`,
    allEvents: `${prefix}events`,
    active: (meter: MeterRef) => `${prefix}meter:${meterKey(meter)}:active`,
    jobs: `${prefix}jobs`,
    lanes: `${prefix}jobs:lanes`,
    groupJobs: `${prefix}jobs:group:`,
    group: (id: string) => `${prefix}group:${id}`,
    /** Every task by creation time (a sorted set; expired ones leave it when listed). */
    tasks: `${prefix}tasks`,
    /** Every meter with readings, by key (a sorted set of equal scores: in key order). */
    meters: `${prefix}meters`,
    readings: (meter: Parameters<Broker["getReadings"]>[0]) =>
      `${prefix}readings:${meterKey(meter)}`,
    model: (meter: Parameters<Broker["getReadings"]>[0]) => `${prefix}model:${meterKey(meter)}`,
  };

  const deadConsumerMs = options.deadConsumerMs ?? 10 * 60_000;
  let nextSweep = 0;
  // The job group, made once (XGROUP CREATE fails harmlessly when it exists).
  let groupReady: Promise<void> | null = null;
  const ensureGroup = () =>
    groupReady ??= redis.xgroup(key.jobs, {
      type: "CREATE",
      group: GROUP,
      id: "0",
      options: { MKSTREAM: true },
    }).then(() => {}, (error) => {
      if (!String(error).includes("BUSYGROUP")) {
        groupReady = null;
        throw error;
      }
    });

  // Meters stored before the index existed are added to it once per process.
  let indexedMeters: Promise<void> | null = null;
  const indexMeters = async () => {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, {
        match: `${prefix}readings:*`,
        count: 500,
      }) as [string, string[]];
      cursor = String(next);
      const members = keys.map((k) => k.slice(`${prefix}readings:`.length));
      if (members.length) {
        await redis.exec(["ZADD", key.meters, ...members.flatMap((m) => ["0", m])]);
      }
    } while (cursor !== "0");
  };

  const listeners = new Set<TaskEventListener>();
  const jobListeners = new Set<() => void>();
  let live: LiveSubscription | null = null;

  function feed(): Promise<void> {
    live ??= createLiveSubscription(redis, {
      pattern: PATTERN,
      pingChannel: `task_updates:_ping:${crypto.randomUUID()}`,
      livenessMs: options.livenessMs ?? 5000,
      onMessage(channel, message) {
        if (channel === QUEUE_CHANNEL) {
          for (const listener of jobListeners) listener();
          return;
        }
        let event: TaskEvent;
        try {
          event = JSON.parse(message);
        } catch {
          return; // not ours
        }
        for (const listener of listeners) {
          try {
            listener.onEvent(event);
          } catch (error) {
            log.error("A task event listener failed: {error}", { error });
          }
        }
      },
      onResync() {
        for (const listener of listeners) listener.onResync?.();
        for (const listener of jobListeners) listener();
      },
    });
    return live.ready;
  }

  /** Adds a listener once the feed is live; undoes it if the feed cannot start. */
  async function join<T>(set: Set<T>, listener: T): Promise<Unsubscribe> {
    set.add(listener);
    try {
      await feed();
    } catch (error) {
      set.delete(listener);
      throw error;
    }
    return () => set.delete(listener);
  }

  const parseEvent = (id: string, json: string): TaskEvent => ({ id, task: JSON.parse(json) });

  await redis.ping();

  return {
    kind: "redis",
    weather: createRedisWeatherStore(redis, prefix),
    location: options.url,
    webhooks: createRedisWebhookStore(redis, prefix),

    async ping() {
      await redis.ping();
    },

    async createTask(task, job): Promise<CreateTaskResult> {
      const json = JSON.stringify(task);
      const [created, value] = await scripts.create.exec(
        [
          key.active(task),
          key.task(task.task_id),
          key.events(task.task_id),
          key.jobs,
          key.tasks,
          key.allEvents,
        ],
        [
          task.task_id,
          json,
          task.status,
          JSON.stringify(job),
          String(maxEvents),
          taskChannel(task.task_id),
          QUEUE_CHANNEL,
          prefix,
          String(Date.parse(task.created_at)),
          maxAll,
        ],
      );
      return Number(created) === 1
        ? { created: true, event: { id: value, task: JSON.parse(json) } }
        : { created: false, activeTaskId: value };
    },

    async createTaskGroup(group, entries): Promise<CreateGroupResult> {
      const { tasks: _, ...meta } = group;
      const head = JSON.stringify({ ...meta, tasks: [] }).slice(0, -2); // up to "tasks":[
      const keys = [
        key.tasks,
        key.allEvents,
        key.lanes,
        key.groupJobs + group.group_id,
        key.group(group.group_id),
      ];
      const args = [
        prefix,
        String(maxEvents),
        maxAll,
        QUEUE_CHANNEL,
        group.group_id,
        head,
        String(GROUP_TTL_SECONDS),
        String(entries.length),
      ];
      const jsons = entries.map(({ task }) => JSON.stringify(task));
      entries.forEach(({ task, job }, i) => {
        keys.push(key.active(task), key.task(task.task_id), key.events(task.task_id));
        args.push(
          task.task_id,
          jsons[i],
          task.status,
          JSON.stringify({ ...job, group_id: group.group_id }),
          taskChannel(task.task_id),
          String(Date.parse(task.created_at)),
          JSON.stringify({
            task_id: task.task_id,
            meter_type: task.meter_type,
            meter_id: task.meter_id,
          }),
        );
      });
      const [created, skipped] = await scripts.createGroup.exec(keys, args);
      const result: CreateGroupResult = { created: [], skipped: [] };
      for (let i = 0; i < created.length; i += 2) {
        result.created.push({
          id: String(created[i + 1]),
          task: JSON.parse(jsons[Number(created[i]) - 1]),
        });
      }
      for (let i = 0; i < skipped.length; i += 2) {
        const { task } = entries[Number(skipped[i]) - 1];
        result.skipped.push({
          meter: { meter_type: task.meter_type, meter_id: task.meter_id },
          activeTaskId: String(skipped[i + 1]),
        });
      }
      return result;
    },

    async getTaskGroup(groupId) {
      const json = await redis.exec<string | null>(["GET", key.group(groupId)]);
      return json ? JSON.parse(json) as TaskGroup : null;
    },

    async commitTask(task, expectedEventId): Promise<CommitResult> {
      const json = JSON.stringify(task);
      const [ok, id, currentJson] = await scripts.commit.exec(
        [key.task(task.task_id), key.events(task.task_id), key.active(task), key.allEvents],
        [
          expectedEventId,
          json,
          task.status,
          isFinal(task.status) ? "1" : "0",
          String(options.taskTtlSeconds),
          taskChannel(task.task_id),
          String(maxEvents),
          task.task_id,
          maxAll,
        ],
      );
      if (Number(ok) === 1) return { committed: true, event: { id: id!, task: JSON.parse(json) } };
      return {
        committed: false,
        current: id && currentJson ? parseEvent(id, currentJson) : null,
      };
    },

    async getTask(taskId) {
      const [id, json] = await redis.hmget(key.task(taskId), "id", "task") as unknown as [
        string | null,
        string | null,
      ];
      return id && json ? parseEvent(id, json) : null;
    },

    async readEvents(taskId, afterId) {
      const entries = await redis.exec<[string, string[]][]>([
        "XRANGE",
        key.events(taskId),
        `(${afterId}`,
        "+",
      ]);
      return (entries ?? []).map(([id, fields]) => parseEvent(id, fields[1]));
    },

    async readAllEvents(after, limit) {
      const [head, keptFrom, entries] = await scripts.readAll.exec([key.allEvents], [
        after ?? "",
        String(limit),
      ]);
      // Older entries were trimmed: a position before the oldest kept may
      // have missed some (at the very boundary, conservatively so).
      const gap = after !== null &&
        (compareEventIds(after, keptFrom) < 0 || compareEventIds(after, head) > 0);
      const events = (entries ?? []).map(([seq, fields]) => {
        const field = (name: string) => fields[fields.indexOf(name) + 1];
        return { ...parseEvent(field("id"), field("task")), seq };
      });
      return { events, head, gap };
    },

    subscribe(listener) {
      return join(listeners, listener);
    },

    async claimJob(consumer, leaseMs): Promise<JobDelivery | null> {
      const claimArgs = [GROUP, consumer, String(leaseMs), key.groupJobs];
      let claimed;
      try {
        await ensureGroup();
        claimed = await scripts.claim.exec([key.jobs, key.lanes], claimArgs);
      } catch (error) {
        if (!String(error).includes("NOGROUP")) throw error;
        groupReady = null; // the queue was deleted: make it again
        await ensureGroup();
        claimed = await scripts.claim.exec([key.jobs, key.lanes], claimArgs);
      }
      if (Date.now() >= nextSweep) {
        nextSweep = Date.now() + Math.min(deadConsumerMs, 60_000);
        // Not awaited: upkeep must not delay the job just claimed.
        scripts.sweep.exec([key.jobs], [GROUP, String(deadConsumerMs)]).catch((error) =>
          log.error("Could not remove departed workers from the job queue: {error}", { error })
        );
      }
      if (!claimed) return null;
      const [id, job, attempt] = claimed;
      return { id, job: JSON.parse(job), attempt: Number(attempt) };
    },

    async renewLease(delivery, consumer) {
      const renewed = await scripts.renew.exec(
        [key.jobs],
        [GROUP, consumer, delivery.id, String(delivery.attempt)],
      );
      return Number(renewed) === 1;
    },

    async releaseJob(delivery, consumer) {
      await scripts.release.exec(
        [key.jobs],
        [GROUP, consumer, delivery.id, String(delivery.attempt), QUEUE_CHANNEL],
      );
    },

    async ackJob(delivery) {
      await scripts.ack.exec([key.jobs], [GROUP, delivery.id]);
    },

    onJobQueued(listener) {
      return join(jobListeners, listener);
    },

    async getReadings(meter) {
      const flat = await redis.exec<string[]>(["HGETALL", key.readings(meter)]);
      if (!flat?.length) return null;
      const pairs: [number, number][] = [];
      for (let i = 0; i < flat.length; i += 2) pairs.push([Number(flat[i]), Number(flat[i + 1])]);
      pairs.sort((a, b) => a[0] - b[0]);
      return {
        timestamps: pairs.map((p) => p[0]),
        values: pairs.map((p) => p[1]),
      } as ReadingSeries;
    },

    async listTasks(query) {
      const after = query.after === null ? null : parseTaskCursor(query.after);
      const max = after ? String(after.createdMs) : "+inf";
      // One past the page tells whether there is a next page.
      const found: Task[] = [];
      const expired: string[] = [];
      let lastLooked: Task | null = null;
      let offset = 0;
      let end = false;
      // Filters apply to the tasks: read slices until the page is full, and
      // look at no more than MAX_LISTING_SCAN tasks for one page.
      while (found.length <= query.limit && offset < MAX_LISTING_SCAN && !end) {
        const slice = await redis.exec([
          "ZRANGE",
          key.tasks,
          max,
          "-inf",
          "BYSCORE",
          "REV",
          "LIMIT",
          String(offset),
          "200",
        ]) as string[];
        end = slice.length < 200;
        if (slice.length === 0) break;
        offset += slice.length;
        const pipeline = redis.pipeline();
        for (const id of slice) pipeline.hget(key.task(id), "task");
        const rows = await pipeline.exec() as (string | null)[];
        for (let i = 0; i < rows.length && found.length <= query.limit; i++) {
          const id = slice[i];
          const json = rows[i];
          if (json === null) {
            expired.push(id);
            continue;
          }
          const task = JSON.parse(json) as Task;
          if (after && !isAfter(task, after)) continue;
          lastLooked = task;
          if (matchesQuery(task, query)) found.push(task);
        }
      }
      if (expired.length) await redis.exec(["ZREM", key.tasks, ...expired]);
      // A scan stopped early goes on after the last task it looked at.
      return taskPage(found, query.limit, end || !lastLooked ? null : taskCursor(lastLooked));
    },

    async listMeters(query) {
      const after = query.after === null ? null : checkMeterCursor(query.after);
      if (!indexedMeters) indexedMeters = indexMeters();
      await indexedMeters;
      const prefix = query.meterType ? `${query.meterType}/` : "";
      const from = after !== null && after > prefix ? `(${after}` : prefix ? `[${prefix}` : "-";
      const keys = await redis.exec([
        "ZRANGE",
        key.meters,
        from,
        prefix ? `(${prefix.slice(0, -1)}0` : "+", // "0" follows "/" in byte order
        "BYLEX",
        "LIMIT",
        "0",
        String(query.limit + 1),
      ]) as string[];
      return meterPage(keys, { ...query, after: null });
    },

    async countReadings(meter) {
      return Number(await redis.exec(["HLEN", key.readings(meter)]));
    },

    async mergeReadings(meter, series, limits = {}) {
      if (series.timestamps.length === 0) return { added: 0, replaced: 0 };
      const offset = gridOffset(series.timestamps);
      if (offset === null) {
        throw new ReadingsRefused("off_grid", hourOffset(series.timestamps[0]) / 60_000);
      }
      const args = [String(offset), String(limits.maxReadings ?? 0), meterKey(meter)];
      series.timestamps.forEach((t, i) => args.push(String(t), String(series.values[i])));
      // One script: the grid, the limit and the merge in one atomic step.
      const [outcome, value] = await scripts.merge.exec([key.readings(meter), key.meters], args);
      if (outcome === "off_grid") throw new ReadingsRefused("off_grid", Number(value) / 60_000);
      if (outcome === "too_many") throw new ReadingsRefused("too_many_readings", Number(value));
      const added = Number(value);
      return { added, replaced: series.timestamps.length - added };
    },

    async deleteReadings(meter, from, to) {
      const bound = (ms: number) => String(Math.max(-8.64e15, Math.min(8.64e15, Math.trunc(ms))));
      return Number(
        await scripts.deleteReadings.exec([key.readings(meter), key.meters], [
          bound(from),
          bound(to),
          meterKey(meter),
        ]),
      );
    },

    async deleteMeter(meter): Promise<DeleteMeterResult> {
      const [deleted, value, model] = await scripts.deleteMeter.exec(
        [key.active(meter), key.readings(meter), key.model(meter), key.meters],
        [meterKey(meter), prefix],
      );
      if (Number(deleted) !== 1) return { deleted: false, activeTaskId: String(value) };
      return { deleted: true, readings: Number(value), model: Number(model) > 0 };
    },

    async putModel(meter, model) {
      await redis.exec([
        "HSET",
        key.model(meter),
        "trained_at",
        model.trainedAt,
        "json",
        model.json,
        "weights",
        encodeBase64(model.weights),
      ]);
    },

    async getModel(meter) {
      const [trainedAt, json, weights] = await redis.hmget(
        key.model(meter),
        "trained_at",
        "json",
        "weights",
      ) as unknown as (
        | string
        | null
      )[];
      if (!trainedAt || !json || weights === null) return null;
      return { trainedAt, json, weights: decodeBase64(weights) };
    },

    async getModelJson(meter) {
      const [trainedAt, json] = await redis.hmget(
        key.model(meter),
        "trained_at",
        "json",
      ) as unknown as (
        | string
        | null
      )[];
      return trainedAt && json ? { trainedAt, json } : null;
    },

    async modelTrainedAt(meter) {
      return await redis.hget<string>(key.model(meter), "trained_at") ?? null;
    },

    async stats() {
      const [jobs, delivered, oldest, oldestGroup, ...counts] = await scripts.stats.exec(
        [key.jobs, key.tasks, key.lanes],
        [GROUP, prefix, String(MAX_STATS_TASKS)],
      );
      const tasks: BrokerStats["tasks"] = {};
      for (let i = 0; i + 1 < counts.length; i += 2) {
        tasks[String(counts[i]) as TaskStatus] = Number(counts[i + 1]);
      }
      return {
        tasks,
        queuedJobs: Number(jobs),
        deliveredJobs: Number(delivered),
        oldestJobMs: earliest(
          typeof oldest === "string" ? eventIdMs(oldest) : null,
          typeof oldestGroup === "string" ? Date.parse(oldestGroup) : null,
        ),
      };
    },

    close() {
      listeners.clear();
      jobListeners.clear();
      live?.close();
      live = null;
      return Promise.resolve();
    },
  };
}

/** The earlier of two times, either of which may be unknown. */
function earliest(a: number | null, b: number | null): number | null {
  if (a === null || Number.isNaN(a)) return b === null || Number.isNaN(b) ? null : b;
  return b === null || Number.isNaN(b) ? a : Math.min(a, b);
}
