/**
 * The SQLite broker: the broker port in one database file, for a single
 * Wattcast process that keeps its tasks, job queue, readings and models
 * across restarts without Redis. It uses Deno's built-in `node:sqlite`.
 *
 * Layout (schema version {@link SCHEMA_VERSION}, marked with
 * `PRAGMA application_id` {@link APPLICATION_ID}, "WATT"):
 * - `tasks`: one row per task: its last event id (`last_ms`, `last_seq`),
 *   the task JSON, `final`, `event_count` and `expires_at` (set when it ends);
 * - `events`: the event logs, keyed (task_id, ms, seq), so a log reads in id
 *   order; trimmed to `maxEventsPerTask` per task, like `XADD MAXLEN`.
 *   One id generator serves every task, so `(ms, seq)` (indexed) is also the
 *   log of every task's events in commit order; `events_trimmed` holds the
 *   newest id ever trimmed or expired from it, so a reader from before it
 *   is told of the gap;
 * - `jobs`: the queue in `seq` order. A row with no `consumer` is queued;
 *   with one, it is leased since `renewed_at`, and a NULL `renewed_at` means
 *   released: claimable at once, as the next attempt. A job of a group has
 *   the group's id in its JSON (`$.group_id`);
 * - `job_lanes`: one row per group with queued jobs; `turn` orders the
 *   round of turns between groups (a group served, or new, gets the next
 *   turn number: it goes to the end of the round);
 * - `task_groups`: one row per group (its JSON, with its tasks' ids), until
 *   `expires_at`;
 * - `readings`: (meter_key, ts) → value, WITHOUT ROWID so a meter's readings
 *   are stored together, in time order;
 * - `models`: one row per meter, the weights BLOB last so that reading
 *   `trained_at` or `json` never touches the weights' pages;
 * - `site_temperatures`, `meter_sites`, `site_calendars`: the weather store
 *   (`sqlite_weather_store.ts`, which creates them when missing).
 *
 * Why it is built this way:
 * - One process owns the file (`sqlite_file.ts`). Subscribers are told of
 *   commits in process, so a second process on the same file would miss
 *   events; it is refused at open instead. Because no one else can hold a
 *   lease, every lease found in the file at open belongs to a process that
 *   is gone (killed while training): it is released, so the job is retried
 *   at once rather than after its lease runs out.
 * - Each port operation is one transaction; subscribers are told only after
 *   it commits, so they never hear of a change that was rolled back.
 *
 * @module
 */
import type { DatabaseSync, SQLOutputValue, StatementSync } from "node:sqlite";
import { resolve } from "node:path";
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
  type JobDelivery,
  matchesQuery,
  type MergeLimits,
  type MeterPage,
  meterPage,
  parseTaskCursor,
  type ReadingsMerge,
  ReadingsRefused,
  type StoredModel,
  type TaskEventListener,
  type TaskPage,
  taskPage,
  type Unsubscribe,
} from "./broker.ts";
import { compareEventIds, createEventIdGenerator, eventIdMs } from "./event_id.ts";
import type { ReadingSeries } from "../domain/series.ts";
import { isFinal, type Task, type TaskEvent, type TaskStatus } from "../domain/task.ts";
import { meterKey, type MeterRef } from "../domain/meter.ts";
import { GROUP_TTL_SECONDS } from "../domain/task_group.ts";
import { callEach } from "./listeners.ts";
import { createSqliteWebhookStore } from "./sqlite_webhook_store.ts";
import { openDatabaseFile, transaction } from "./sqlite_file.ts";
import type { WebhookStore } from "./webhook_store.ts";
import { logger } from "../logging/logging.ts";

const log = logger("broker", "sqlite");
import { createSqliteWeatherStore } from "./sqlite_weather_store.ts";

export { StoreOpenError } from "./sqlite_file.ts";

/** Marks a file as Wattcast's (`PRAGMA application_id`): "WATT" in ASCII. */
export const APPLICATION_ID = 0x57415454;

/** The schema this code writes (`PRAGMA user_version`). */
export const SCHEMA_VERSION = 1;

/** Options of the SQLite broker. */
export interface SqliteBrokerOptions {
  /** The database file, e.g. `./data/wattcast.db`; its directory is created when missing. */
  path: string;
  /** Seconds a final task and its events are kept. */
  taskTtlSeconds: number;
  /** Events kept per task; older ones are trimmed (like `XADD MAXLEN`). */
  maxEventsPerTask?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/** How often expired tasks are deleted from the file. */
const PURGE_INTERVAL_MS = 60_000;
/** Readings per multi-row INSERT: one call into SQLite per 500 readings. */
const READINGS_PER_INSERT = 500;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS tasks (
  task_id TEXT PRIMARY KEY,
  meter_key TEXT NOT NULL,
  final INTEGER NOT NULL,
  last_ms INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  event_count INTEGER NOT NULL,
  task TEXT NOT NULL,
  expires_at INTEGER
);
CREATE INDEX IF NOT EXISTS tasks_active ON tasks (meter_key) WHERE final = 0;
CREATE INDEX IF NOT EXISTS tasks_expiry ON tasks (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS tasks_newest ON tasks (json_extract(task, '$.created_at') DESC, task_id DESC);
CREATE TABLE IF NOT EXISTS events (
  task_id TEXT NOT NULL,
  ms INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  task TEXT NOT NULL,
  PRIMARY KEY (task_id, ms, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_order ON events (ms, seq);
CREATE TABLE IF NOT EXISTS events_trimmed (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  ms INTEGER NOT NULL,
  seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  job TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  consumer TEXT,
  renewed_at INTEGER,
  claim_order INTEGER
);
CREATE TABLE IF NOT EXISTS job_lanes (
  group_id TEXT PRIMARY KEY,
  turn INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS task_groups (
  group_id TEXT PRIMARY KEY,
  json TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS readings (
  meter_key TEXT NOT NULL,
  ts INTEGER NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (meter_key, ts)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS models (
  meter_key TEXT PRIMARY KEY,
  trained_at TEXT NOT NULL,
  json TEXT NOT NULL,
  weights BLOB NOT NULL
);`;

type Row = Record<string, SQLOutputValue>;

/**
 * Opens (or creates) the SQLite broker's file and holds it exclusively
 * until `close()`. Throws {@link StoreOpenError} when the file is in use by
 * another process, damaged, another program's, or from a newer Wattcast;
 * such a file is left unchanged.
 */
export function openSqliteBroker(options: SqliteBrokerOptions): Broker {
  const path = resolve(options.path);
  const now = options.now ?? Date.now;
  const maxEvents = options.maxEventsPerTask ?? 1000;
  const ttlMs = options.taskTtlSeconds * 1000;

  const db = openDatabaseFile({
    path,
    applicationId: APPLICATION_ID,
    schemaVersion: SCHEMA_VERSION,
    schema: SCHEMA,
  });
  let webhooks: WebhookStore;
  try {
    transaction(db, () => {
      // This process holds the file alone, so every lease in it belongs to
      // a process that is gone: hand those jobs out again at once.
      db.exec("UPDATE jobs SET renewed_at = NULL WHERE consumer IS NOT NULL");
    });
    purgeExpired(db, now());
    webhooks = createSqliteWebhookStore(db, now);
  } catch (error) {
    db.close();
    throw error;
  }

  const floor = largestStoredMs(db) + 1;
  const nextId = createEventIdGenerator(() => Math.max(now(), floor));
  const listeners = new Set<TaskEventListener>();
  const jobListeners = new Set<() => void>();
  let closed = false;

  const sql = {
    ping: db.prepare("SELECT 1"),
    activeTask: db.prepare("SELECT task_id FROM tasks WHERE meter_key = ? AND final = 0 LIMIT 1"),
    liveTask: db.prepare(
      `SELECT last_ms, last_seq, final, task FROM tasks
       WHERE task_id = ? AND (expires_at IS NULL OR expires_at > ?)`,
    ),
    deleteEvents: db.prepare("DELETE FROM events WHERE task_id = ?"),
    insertTask: db.prepare(
      `INSERT OR REPLACE INTO tasks
       (task_id, meter_key, final, last_ms, last_seq, event_count, task, expires_at)
       VALUES (?, ?, ?, ?, ?, 1, ?, ?)`,
    ),
    updateTask: db.prepare(
      `UPDATE tasks SET final = ?, last_ms = ?, last_seq = ?, event_count = event_count + 1,
       task = ?, expires_at = ? WHERE task_id = ? RETURNING event_count`,
    ),
    insertEvent: db.prepare("INSERT INTO events (task_id, ms, seq, task) VALUES (?, ?, ?, ?)"),
    trimEvents: db.prepare(
      `DELETE FROM events WHERE task_id = ?1 AND (ms, seq) IN
       (SELECT ms, seq FROM events WHERE task_id = ?1 ORDER BY ms, seq LIMIT ?2)`,
    ),
    nthOldestEvent: db.prepare(
      "SELECT ms, seq FROM events WHERE task_id = ? ORDER BY ms, seq LIMIT 1 OFFSET ?",
    ),
    allEventsAfter: db.prepare(
      `SELECT ms, seq, task FROM events WHERE (ms, seq) > (?, ?) ORDER BY ms, seq LIMIT ?`,
    ),
    newestEvent: db.prepare("SELECT ms, seq FROM events ORDER BY ms DESC, seq DESC LIMIT 1"),
    trimmed: db.prepare("SELECT ms, seq FROM events_trimmed"),
    setEventCount: db.prepare("UPDATE tasks SET event_count = ? WHERE task_id = ?"),
    readEvents: db.prepare(
      `SELECT ms, seq, task FROM events
       WHERE task_id = ?1 AND (ms > ?2 OR (ms = ?2 AND seq > ?3)) ORDER BY ms, seq`,
    ),
    insertJob: db.prepare("INSERT INTO jobs (id, job, attempt) VALUES (?, ?, 1)"),
    staleJob: db.prepare(
      `SELECT seq, id, job, attempt FROM jobs
       WHERE consumer IS NOT NULL AND (renewed_at IS NULL OR renewed_at <= ?)
       ORDER BY claim_order LIMIT 1`,
    ),
    queuedJob: db.prepare(
      `SELECT seq, id, job, attempt FROM jobs
       WHERE consumer IS NULL AND json_extract(job, '$.group_id') IS NULL ORDER BY seq LIMIT 1`,
    ),
    // The oldest queued job of the group whose turn it is.
    groupJob: db.prepare(
      `SELECT j.seq, j.id, j.job, j.attempt, l.group_id FROM job_lanes l
       JOIN jobs j ON j.consumer IS NULL AND json_extract(j.job, '$.group_id') = l.group_id
       ORDER BY l.turn, j.seq LIMIT 1`,
    ),
    queuedInLane: db.prepare(
      `SELECT count(*) AS n FROM jobs WHERE consumer IS NULL
       AND json_extract(job, '$.group_id') = ?`,
    ),
    nextTurn: db.prepare(
      `INSERT INTO job_lanes (group_id, turn)
       VALUES (?1, (SELECT coalesce(max(turn), 0) + 1 FROM job_lanes))
       ON CONFLICT (group_id) DO UPDATE SET turn = excluded.turn`,
    ),
    dropLane: db.prepare("DELETE FROM job_lanes WHERE group_id = ?"),
    // Lanes left without queued jobs (their jobs all cancelled and acked elsewhere).
    dropEmptyLanes: db.prepare(
      `DELETE FROM job_lanes WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE consumer IS NULL
       AND json_extract(job, '$.group_id') = job_lanes.group_id)`,
    ),
    insertGroup: db.prepare(
      "INSERT OR REPLACE INTO task_groups (group_id, json, expires_at) VALUES (?, ?, ?)",
    ),
    group: db.prepare("SELECT json FROM task_groups WHERE group_id = ? AND expires_at > ?"),
    leaseJob: db.prepare(
      `UPDATE jobs SET attempt = ?, consumer = ?, renewed_at = ?,
       claim_order = (SELECT coalesce(max(claim_order), 0) + 1 FROM jobs) WHERE seq = ?`,
    ),
    renewLease: db.prepare(
      "UPDATE jobs SET renewed_at = ? WHERE id = ? AND consumer = ? AND attempt = ?",
    ),
    releaseJob: db.prepare(
      "UPDATE jobs SET renewed_at = NULL WHERE id = ? AND consumer = ? AND attempt = ?",
    ),
    ackJob: db.prepare("DELETE FROM jobs WHERE id = ? AND consumer IS NOT NULL"),
    taskCounts: db.prepare(
      `SELECT json_extract(task, '$.status') AS status, count(*) AS n FROM tasks
       WHERE expires_at IS NULL OR expires_at > ? GROUP BY status`,
    ),
    jobCounts: db.prepare(
      `SELECT count(*) AS jobs, count(consumer) AS delivered,
       (SELECT id FROM jobs ORDER BY seq LIMIT 1) AS oldest FROM jobs`,
    ),
    // Newest first; ?1 now, ?2/?3 the cursor's creation time and id (NULL: from the top).
    listTasks: db.prepare(
      `SELECT task FROM tasks
       WHERE (expires_at IS NULL OR expires_at > ?1)
         AND (?2 IS NULL OR json_extract(task, '$.created_at') < ?2
              OR (json_extract(task, '$.created_at') = ?2 AND task_id < ?3))
       ORDER BY json_extract(task, '$.created_at') DESC, task_id DESC LIMIT ?4`,
    ),
    // The next meter after ?1 (an index seek per meter: no scan of the readings).
    nextMeter: db.prepare(
      "SELECT meter_key FROM readings WHERE meter_key > ? ORDER BY meter_key LIMIT 1",
    ),
    countReadings: db.prepare("SELECT count(*) AS n FROM readings WHERE meter_key = ?"),
    anyReading: db.prepare("SELECT ts FROM readings WHERE meter_key = ? LIMIT 1"),
    mergeReadings: db.prepare(
      `INSERT INTO readings (meter_key, ts, value) VALUES ${
        Array(READINGS_PER_INSERT).fill("(?1, ?, ?)").join(", ")
      } ON CONFLICT (meter_key, ts) DO UPDATE SET value = excluded.value`,
    ),
    mergeReading: db.prepare(
      `INSERT INTO readings (meter_key, ts, value) VALUES (?, ?, ?)
       ON CONFLICT (meter_key, ts) DO UPDATE SET value = excluded.value`,
    ),
    readings: db.prepare("SELECT ts, value FROM readings WHERE meter_key = ? ORDER BY ts"),
    deleteReadingsBetween: db.prepare(
      "DELETE FROM readings WHERE meter_key = ? AND ts >= ? AND ts < ?",
    ),
    deleteReadings: db.prepare("DELETE FROM readings WHERE meter_key = ?"),
    deleteModel: db.prepare("DELETE FROM models WHERE meter_key = ?"),
    putModel: db.prepare(
      `INSERT INTO models (meter_key, trained_at, json, weights) VALUES (?, ?, ?, ?)
       ON CONFLICT (meter_key) DO UPDATE SET
       trained_at = excluded.trained_at, json = excluded.json, weights = excluded.weights`,
    ),
    model: db.prepare("SELECT trained_at, json, weights FROM models WHERE meter_key = ?"),
    modelJson: db.prepare("SELECT trained_at, json FROM models WHERE meter_key = ?"),
    modelTrainedAt: db.prepare("SELECT trained_at FROM models WHERE meter_key = ?"),
  } satisfies Record<string, StatementSync>;
  // Rows as [ts, value] arrays: a third faster than objects for 60,000 rows.
  // Deno 2.9 implements setReturnArrays but its node:sqlite types omit it.
  (sql.readings as StatementSync & { setReturnArrays(on: boolean): void }).setReturnArrays(true);

  const purgeTimer = setInterval(() => {
    try {
      purgeExpired(db, now());
      sql.dropEmptyLanes.run();
    } catch (error) {
      log.error(`Could not delete expired tasks from ${path}: {error}`, { error });
    }
  }, PURGE_INTERVAL_MS);
  Deno.unrefTimer(purgeTimer);

  /** Runs one port operation; a closed broker or a failed statement rejects. */
  function call<T>(work: () => T): Promise<T> {
    if (closed) {
      return Promise.reject(
        new Error(`The SQLite broker on ${path} is closed; open it again to use it.`),
      );
    }
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Appends `task` as the task's next event, trimming the log; inside a transaction. */
  function append(task: Task, json: string, isNew: boolean): TaskEvent {
    const id = nextId();
    const [ms, seq] = id.split("-").map(Number);
    const final = isFinal(task.status) ? 1 : 0;
    const expiresAt = final ? now() + ttlMs : null;
    if (isNew) {
      sql.deleteEvents.run(task.task_id);
      sql.insertTask.run(task.task_id, meterKey(task), final, ms, seq, json, expiresAt);
    } else {
      const count = sql.updateTask.get(final, ms, seq, json, expiresAt, task.task_id)!
        .event_count as number;
      if (count > maxEvents) {
        const newestTrimmed = sql.nthOldestEvent.get(task.task_id, count - maxEvents - 1);
        if (newestTrimmed) noteTrimmed(db, newestTrimmed);
        sql.trimEvents.run(task.task_id, count - maxEvents);
        sql.setEventCount.run(maxEvents, task.task_id);
      }
    }
    sql.insertEvent.run(task.task_id, ms, seq, json);
    return { id, task: JSON.parse(json) };
  }

  /** Tells every subscriber of a committed event, each with its own copy. */
  function publish(event: TaskEvent, json: string): void {
    callEach(
      listeners,
      // One generator hands out every task's ids, in commit order: they are the `seq` too.
      (listener) => listener.onEvent({ id: event.id, task: JSON.parse(json), seq: event.id }),
      "A task event listener",
    );
  }

  /** Wakes idle workers: a job can be claimed. */
  function notifyJobQueued(): void {
    callEach(jobListeners, (listener) => listener(), "A job listener");
  }

  /** The next group's oldest queued job; that group goes to the end of the round. */
  function takeTurn(): Row | undefined {
    const row = sql.groupJob.get();
    if (!row) return undefined;
    const groupId = row.group_id as string;
    // Counted before the lease is taken, so the job itself still counts.
    sql.dropLane.run(groupId);
    if ((sql.queuedInLane.get(groupId)!.n as number) > 1) sql.nextTurn.run(groupId);
    return row;
  }

  const currentEventOf = (row: Row): TaskEvent => ({
    id: `${row.last_ms}-${row.last_seq}`,
    task: JSON.parse(row.task as string),
  });

  const loggedEventOf = (row: Row): TaskEvent => ({
    id: `${row.ms}-${row.seq}`,
    task: JSON.parse(row.task as string),
  });

  const deliveryOf = (row: Row, attempt: number): JobDelivery => ({
    id: row.id as string,
    job: JSON.parse(row.job as string),
    attempt,
  });

  return {
    kind: "sqlite",
    location: path,
    weather: createSqliteWeatherStore(db),
    webhooks,

    ping() {
      return call(() => void sql.ping.get());
    },

    createTask(task, job) {
      return call((): CreateTaskResult => {
        const json = JSON.stringify(task);
        const result = transaction(db, (): CreateTaskResult => {
          const holder = sql.activeTask.get(meterKey(task));
          if (holder) return { created: false, activeTaskId: holder.task_id as string };
          const event = append(task, json, true);
          sql.insertJob.run(nextId(), JSON.stringify(job));
          return { created: true, event };
        });
        if (result.created) {
          publish(result.event, json);
          notifyJobQueued();
        }
        return result;
      });
    },

    createTaskGroup(group, entries) {
      return call((): CreateGroupResult => {
        const published: [TaskEvent, string][] = [];
        const result = transaction(db, (): CreateGroupResult => {
          const result: CreateGroupResult = { created: [], skipped: [] };
          for (const { task, job } of entries) {
            const holder = sql.activeTask.get(meterKey(task));
            if (holder) {
              result.skipped.push({
                meter: { meter_type: task.meter_type, meter_id: task.meter_id },
                activeTaskId: holder.task_id as string,
              });
              continue;
            }
            const json = JSON.stringify(task);
            const event = append(task, json, true);
            sql.insertJob.run(nextId(), JSON.stringify({ ...job, group_id: group.group_id }));
            result.created.push(event);
            published.push([event, json]);
          }
          if (!result.created.length) return result;
          const tasks = result.created.map(({ task }) => ({
            task_id: task.task_id,
            meter_type: task.meter_type,
            meter_id: task.meter_id,
          }));
          sql.insertGroup.run(
            group.group_id,
            JSON.stringify({ ...group, tasks }),
            now() + GROUP_TTL_SECONDS * 1000,
          );
          sql.nextTurn.run(group.group_id);
          return result;
        });
        for (const [event, json] of published) publish(event, json);
        if (published.length) notifyJobQueued();
        return result;
      });
    },

    getTaskGroup(groupId) {
      return call(() => {
        const row = sql.group.get(groupId, now());
        return row ? JSON.parse(row.json as string) : null;
      });
    },

    commitTask(task, expectedEventId) {
      return call((): CommitResult => {
        const json = JSON.stringify(task);
        const result = transaction(db, (): CommitResult => {
          const row = sql.liveTask.get(task.task_id, now());
          if (!row) return { committed: false, current: null };
          const current = currentEventOf(row);
          if (current.id !== expectedEventId || row.final) return { committed: false, current };
          return { committed: true, event: append(task, json, false) };
        });
        if (result.committed) publish(result.event, json);
        return result;
      });
    },

    readAllEvents(after, limit) {
      return call(() => {
        const idOf = (row: Row | undefined) => row ? `${row.ms}-${row.seq}` : "0-0";
        const trimmed = idOf(sql.trimmed.get());
        const newest = idOf(sql.newestEvent.get());
        const head = compareEventIds(newest, trimmed) >= 0 ? newest : trimmed;
        if (after === null) return { events: [], head, gap: false };
        const gap = compareEventIds(after, trimmed) < 0 || compareEventIds(after, head) > 0;
        const [ms, seq] = after.split("-").map(Number);
        const events = sql.allEventsAfter.all(ms, seq, limit).map((row) => {
          const event = loggedEventOf(row);
          return { ...event, seq: event.id };
        });
        return { events, head, gap };
      });
    },

    getTask(taskId) {
      return call(() => {
        const row = sql.liveTask.get(taskId, now());
        return row ? currentEventOf(row) : null;
      });
    },

    readEvents(taskId, afterId) {
      return call(() => {
        if (!sql.liveTask.get(taskId, now())) return [];
        // A part that is not a number binds as NULL, and no comparison with
        // NULL holds: the same answer as compareEventIds' NaN.
        const [ms, seq] = afterId.split("-").map(Number);
        return sql.readEvents.all(taskId, ms, seq).map(loggedEventOf);
      });
    },

    subscribe(listener): Promise<Unsubscribe> {
      listeners.add(listener);
      return Promise.resolve(() => listeners.delete(listener));
    },

    claimJob(consumer, leaseMs) {
      return call(() =>
        transaction(db, () => {
          const t = now();
          const stale = sql.staleJob.get(t - leaseMs);
          const row = stale ?? sql.queuedJob.get() ?? takeTurn();
          if (!row) return null;
          const attempt = (row.attempt as number) + (stale ? 1 : 0);
          sql.leaseJob.run(attempt, consumer, t, row.seq as number);
          return deliveryOf(row, attempt);
        })
      );
    },

    renewLease(delivery, consumer) {
      return call(() =>
        sql.renewLease.run(now(), delivery.id, consumer, delivery.attempt).changes > 0
      );
    },

    releaseJob(delivery, consumer) {
      return call(() => {
        const released = sql.releaseJob.run(delivery.id, consumer, delivery.attempt).changes > 0;
        if (released) notifyJobQueued();
      });
    },

    ackJob(delivery) {
      return call(() => void sql.ackJob.run(delivery.id));
    },

    onJobQueued(listener): Promise<Unsubscribe> {
      jobListeners.add(listener);
      return Promise.resolve(() => jobListeners.delete(listener));
    },

    getReadings(meter: MeterRef) {
      return call((): ReadingSeries | null => {
        const rows = sql.readings.all(meterKey(meter)) as unknown as [number, number][];
        if (rows.length === 0) return null;
        const timestamps = new Array<number>(rows.length);
        const values = new Array<number>(rows.length);
        for (let i = 0; i < rows.length; i++) [timestamps[i], values[i]] = rows[i];
        return { timestamps, values };
      });
    },

    listTasks(query) {
      return call((): TaskPage => {
        const after = query.after === null ? null : parseTaskCursor(query.after);
        const found: Task[] = [];
        let cursor = after && { at: new Date(after.createdMs).toISOString(), id: after.taskId };
        // Filters apply to the JSON: read in slices until the page is full.
        while (found.length <= query.limit) {
          const rows = sql.listTasks.all(now(), cursor?.at ?? null, cursor?.id ?? null, 200);
          for (const row of rows) {
            const task = JSON.parse(row.task as string) as Task;
            if (matchesQuery(task, query)) found.push(task);
          }
          if (rows.length < 200) break;
          const last = JSON.parse(rows.at(-1)!.task as string) as Task;
          cursor = { at: last.created_at, id: last.task_id };
        }
        return taskPage(found, query.limit);
      });
    },

    listMeters(query) {
      return call((): MeterPage => {
        const after = query.after === null ? null : checkMeterCursor(query.after);
        const prefix = query.meterType ? `${query.meterType}/` : "";
        let key = after !== null && after > prefix ? after : prefix;
        const keys: string[] = [];
        while (keys.length <= query.limit) {
          const row = sql.nextMeter.get(key);
          if (!row) break;
          key = row.meter_key as string;
          if (!key.startsWith(prefix)) break;
          keys.push(key);
        }
        return meterPage(keys, { ...query, after: null });
      });
    },

    countReadings(meter: MeterRef) {
      return call(() => sql.countReadings.get(meterKey(meter))!.n as number);
    },

    mergeReadings(meter: MeterRef, series: ReadingSeries, limits: MergeLimits = {}) {
      return call((): ReadingsMerge => {
        const key = meterKey(meter);
        checkSeries(key, series);
        const { timestamps, values } = series;
        return transaction(db, () => {
          const before = sql.countReadings.get(key)!.n as number;
          if (timestamps.length) {
            const offset = gridOffset(timestamps);
            const any = sql.anyReading.get(key)?.ts as number | undefined;
            const stored = any === undefined ? null : hourOffset(any);
            if (offset === null || (stored ?? offset) !== offset) {
              throw new ReadingsRefused("off_grid", (stored ?? hourOffset(timestamps[0])) / 60_000);
            }
          }
          const args: (string | number)[] = [key];
          let i = 0;
          for (; i + READINGS_PER_INSERT <= timestamps.length; i += READINGS_PER_INSERT) {
            for (let j = 0; j < READINGS_PER_INSERT; j++) {
              args[2 * j + 1] = timestamps[i + j];
              args[2 * j + 2] = values[i + j];
            }
            sql.mergeReadings.run(...args);
          }
          for (; i < timestamps.length; i++) sql.mergeReading.run(key, timestamps[i], values[i]);
          const after = sql.countReadings.get(key)!.n as number;
          if (limits.maxReadings !== undefined && after > limits.maxReadings) {
            throw new ReadingsRefused("too_many_readings", after); // rolls the merge back
          }
          return { added: after - before, replaced: timestamps.length - (after - before) };
        });
      });
    },

    deleteReadings(meter: MeterRef, from: number, to: number) {
      return call(() =>
        Number(
          sql.deleteReadingsBetween.run(meterKey(meter), clampTime(from), clampTime(to)).changes,
        )
      );
    },

    deleteMeter(meter: MeterRef) {
      return call(() =>
        transaction(db, (): DeleteMeterResult => {
          const key = meterKey(meter);
          const holder = sql.activeTask.get(key);
          if (holder) return { deleted: false, activeTaskId: holder.task_id as string };
          const readings = Number(sql.deleteReadings.run(key).changes);
          const model = Number(sql.deleteModel.run(key).changes) > 0;
          return { deleted: true, readings, model };
        })
      );
    },

    putModel(meter, model) {
      return call(() =>
        void sql.putModel.run(meterKey(meter), model.trainedAt, model.json, model.weights)
      );
    },

    getModel(meter) {
      return call((): StoredModel | null => {
        const row = sql.model.get(meterKey(meter));
        if (!row) return null;
        return {
          trainedAt: row.trained_at as string,
          json: row.json as string,
          weights: row.weights as Uint8Array,
        };
      });
    },

    getModelJson(meter) {
      return call(() => {
        const row = sql.modelJson.get(meterKey(meter));
        return row ? { trainedAt: row.trained_at as string, json: row.json as string } : null;
      });
    },

    modelTrainedAt(meter) {
      return call(() => (sql.modelTrainedAt.get(meterKey(meter))?.trained_at as string) ?? null);
    },

    stats() {
      return call(() => {
        const tasks: BrokerStats["tasks"] = {};
        for (const row of sql.taskCounts.all(now())) {
          tasks[row.status as TaskStatus] = Number(row.n);
        }
        const jobs = sql.jobCounts.get()!;
        return {
          tasks,
          queuedJobs: Number(jobs.jobs),
          deliveredJobs: Number(jobs.delivered),
          oldestJobMs: typeof jobs.oldest === "string" ? eventIdMs(jobs.oldest) : null,
        };
      });
    },

    close() {
      if (!closed) {
        closed = true;
        clearInterval(purgeTimer);
        listeners.clear();
        jobListeners.clear();
        db.close();
      }
      return Promise.resolve();
    },
  };
}

/** Refuses series that SQLite cannot store as given. */
function checkSeries(key: string, series: ReadingSeries): void {
  if (series.timestamps.length !== series.values.length) {
    throw new RangeError(
      `Cannot merge readings for ${key}: ${series.timestamps.length} timestamps but ${series.values.length} values. Send one value per timestamp.`,
    );
  }
  const i = series.values.findIndex(Number.isNaN);
  if (i >= 0) {
    throw new RangeError(
      `Cannot merge readings for ${key}: the value at ${
        new Date(series.timestamps[i]).toISOString()
      } is NaN. Leave missing hours out instead of sending NaN.`,
    );
  }
}

/** Deletes final tasks past their expiry, and their events. */
function purgeExpired(db: DatabaseSync, now: number): void {
  transaction(db, () => {
    const newest = db.prepare(
      `SELECT ms, seq FROM events WHERE task_id IN
       (SELECT task_id FROM tasks WHERE expires_at <= ?) ORDER BY ms DESC, seq DESC LIMIT 1`,
    ).get(now);
    if (newest) noteTrimmed(db, newest);
    db.prepare(
      "DELETE FROM events WHERE task_id IN (SELECT task_id FROM tasks WHERE expires_at <= ?)",
    ).run(now);
    db.prepare("DELETE FROM tasks WHERE expires_at <= ?").run(now);
    db.prepare("DELETE FROM task_groups WHERE expires_at <= ?").run(now);
  });
}

/**
 * Remembers that events up to `newest` (a row's `ms`, `seq`) left the log,
 * so a reader of every task's events from before it learns of the gap.
 */
function noteTrimmed(db: DatabaseSync, newest: Row): void {
  db.prepare(
    `INSERT INTO events_trimmed (one, ms, seq) VALUES (1, ?, ?)
     ON CONFLICT (one) DO UPDATE SET ms = excluded.ms, seq = excluded.seq
     WHERE (excluded.ms, excluded.seq) > (events_trimmed.ms, events_trimmed.seq)`,
  ).run(newest.ms, newest.seq);
}

/** The largest millisecond of any stored event or job id; 0 when none. */
function largestStoredMs(db: DatabaseSync): number {
  const row = db.prepare(
    `SELECT max(coalesce((SELECT max(last_ms) FROM tasks), 0),
                coalesce((SELECT ms FROM events_trimmed), 0),
                coalesce((SELECT max(CAST(substr(id, 1, instr(id, '-') - 1) AS INTEGER))
                          FROM jobs), 0)) AS ms`,
  ).get();
  return row!.ms as number;
}

/** A time as SQLite compares it: an integer within the range of JavaScript dates. */
function clampTime(ms: number): number {
  return Math.max(-8.64e15, Math.min(8.64e15, Math.trunc(ms)));
}
