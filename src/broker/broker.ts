/**
 * The broker port: everything the API, the tracker and the workers share.
 * Task records, each task's event log, live notifications of new events,
 * the job queue and the meters' readings.
 *
 * The semantics are written so that Redis can honour them:
 * - event ids are `<ms>-<seq>` and increase within a task (`XADD` ids);
 * - a task record changes only by compare-and-set on its last event id,
 *   and each change appends one event and notifies subscribers;
 * - a final task (and its events) expires `taskTtlSeconds` after it ends;
 * - jobs are delivered at least once: a delivery not renewed for as long
 *   as a claimant's lease (`XAUTOCLAIM` min-idle) is handed to that
 *   claimant with its attempt number increased. Workers share one lease
 *   length (`JOB_LEASE_SECONDS`).
 * - the queue is fair between groups: a claim takes a single task's job
 *   (oldest first) before any group's, and groups take turns, one job each
 *   (round-robin, a new group joining at the end of the round).
 *
 * @module
 */
import { HOUR_MS, type ReadingSeries } from "../domain/series.ts";
import { meterKey, type MeterRef, type MeterType } from "../domain/meter.ts";
import type { Task, TaskEvent, TaskStatus, TrainingJob } from "../domain/task.ts";
import type { WeatherStore } from "./weather_store.ts";
import type { WebhookStore } from "./webhook_store.ts";
import type { TaskGroup } from "../domain/task_group.ts";

/** Outcome of creating a task. */
export type CreateTaskResult =
  | { created: true; event: TaskEvent }
  | { created: false; activeTaskId: string };

/** A task to create in a group, with its job. */
export interface GroupEntry {
  task: Task;
  job: TrainingJob;
}

/**
 * Outcome of creating a group: the tasks created (in the order given), and
 * the meters skipped because they already had an active task.
 */
export interface CreateGroupResult {
  created: TaskEvent[];
  skipped: { meter: MeterRef; activeTaskId: string }[];
}

/** Outcome of a compare-and-set on a task record. */
export type CommitResult =
  | { committed: true; event: TaskEvent }
  | { committed: false; current: TaskEvent | null };

/** Receives every task event the broker publishes. */
export interface TaskEventListener {
  /** Called once per committed event, in commit order for each task. */
  onEvent(event: TaskEvent): void;
  /**
   * Called when the live feed was interrupted and resumed: events may have
   * been missed, so readers catch up from the log.
   */
  onResync?(): void;
}

/** A job handed to one worker, until acknowledged or its lease runs out. */
export interface JobDelivery {
  /** Identifies this job in the queue. */
  id: string;
  /** The job itself. */
  job: TrainingJob;
  /** 1 for the first delivery, increased each time the job is reclaimed. */
  attempt: number;
}

/** What a merge of readings did. */
export interface ReadingsMerge {
  /** Readings for hours not stored before. */
  added: number;
  /** Readings that replaced a stored value. */
  replaced: number;
}

/** What deleting a meter did, or the task that kept it. */
export type DeleteMeterResult =
  | { deleted: true; readings: number; model: boolean }
  | { deleted: false; activeTaskId: string };

/** What a merge may not do; checked in the same atomic step as the merge. */
export interface MergeLimits {
  /** Readings the meter may hold after the merge, at most. */
  maxReadings?: number;
}

/**
 * A merge refused whole (nothing was stored): the meter would hold more
 * than `maxReadings`, or the readings are not on the meter's hourly grid
 * (every reading of a meter falls at the same minute of the hour).
 */
export class ReadingsRefused extends Error {
  /** Creates the refusal; `detail` is the count it would reach, or the grid's minute. */
  constructor(readonly reason: "too_many_readings" | "off_grid", readonly detail: number) {
    super(
      reason === "too_many_readings"
        ? `The meter would hold ${detail} readings, over its limit.`
        : `The readings are not on the meter's hourly grid (its readings fall at minute ${detail} of each hour).`,
    );
    this.name = "ReadingsRefused";
  }
}

/** The minute-of-hour offset (ms) shared by every reading, or null when they differ. */
export function gridOffset(timestamps: readonly number[]): number | null {
  if (timestamps.length === 0) return null;
  const offset = hourOffset(timestamps[0]);
  for (const t of timestamps) if (hourOffset(t) !== offset) return null;
  return offset;
}

/** Where in its hour a timestamp falls, in milliseconds. */
export function hourOffset(t: number): number {
  return ((t % HOUR_MS) + HOUR_MS) % HOUR_MS;
}

/** Cancels a subscription. Calling it more than once is harmless. */
export type Unsubscribe = () => void;

/** What a listing of tasks asks for: newest first, a page at a time. */
export interface TaskListQuery {
  /** Tasks on the page, at most. */
  limit: number;
  /** The previous page's `next`; null for the newest tasks. */
  after: string | null;
  /** Only tasks with one of these statuses. */
  status?: readonly TaskStatus[];
  meterType?: MeterType;
  meterId?: string;
}

/** A page of tasks, and where the next one starts (null: none after it). */
export interface TaskPage {
  tasks: Task[];
  next: string | null;
}

/** What a listing of meters asks for: in order of type and id, a page at a time. */
export interface MeterListQuery {
  limit: number;
  /** The previous page's `next`; null for the first page. */
  after: string | null;
  meterType?: MeterType;
}

/** A page of meters with readings, and where the next one starts. */
export interface MeterPage {
  meters: MeterRef[];
  next: string | null;
}

/** A listing cursor that this broker did not hand out. */
export class BadCursor extends Error {
  /** Creates the error. */
  constructor() {
    super("The cursor is not one this service handed out.");
    this.name = "BadCursor";
  }
}

/** A task's place in the newest-first order: creation time, then id. */
export interface TaskPosition {
  createdMs: number;
  taskId: string;
}

/** The cursor after a task, as every broker writes it. */
export function taskCursor(task: Task): string {
  return `${Date.parse(task.created_at)}.${task.task_id}`;
}

/**
 * A page of `found` (tasks in order, up to one past `limit`) and the cursor
 * after it: null when nothing is past the page, unless the listing stopped
 * looking early (`stoppedAt`, the cursor to go on from).
 */
export function taskPage(found: Task[], limit: number, stoppedAt: string | null = null): TaskPage {
  const tasks = found.slice(0, limit);
  return { tasks, next: found.length > limit ? taskCursor(tasks.at(-1)!) : stoppedAt };
}

/** Reads a task cursor. @throws {BadCursor} */
export function parseTaskCursor(cursor: string): TaskPosition {
  const match = /^(\d{1,15})\.([0-9a-f-]{36})$/.exec(cursor);
  if (!match) throw new BadCursor();
  return { createdMs: Number(match[1]), taskId: match[2] };
}

/** True when `task` comes after `position` in the newest-first order. */
export function isAfter(task: Task, position: TaskPosition): boolean {
  const created = Date.parse(task.created_at);
  return created < position.createdMs ||
    (created === position.createdMs && task.task_id < position.taskId);
}

/** Newest first: creation time, then id, both descending. */
export function newestFirst(a: Task, b: Task): number {
  return Date.parse(b.created_at) - Date.parse(a.created_at) ||
    (a.task_id < b.task_id ? 1 : a.task_id > b.task_id ? -1 : 0);
}

/** True when `task` passes the query's filters. */
export function matchesQuery(task: Task, query: TaskListQuery): boolean {
  return (!query.status || query.status.includes(task.status)) &&
    (!query.meterType || task.meter_type === query.meterType) &&
    (!query.meterId || task.meter_id === query.meterId);
}

/** Checks a meter cursor (a meter key, `type/id`). @throws {BadCursor} */
export function checkMeterCursor(cursor: string): string {
  if (!/^[a-z]{1,20}\/[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(cursor)) throw new BadCursor();
  return cursor;
}

/** A slice of the log of every task's events. */
export interface AllEventsPage {
  /** Events after the position asked for, in commit order, each with its `seq`. */
  events: TaskEvent[];
  /** The newest position in the log now (`0-0` when it is empty). */
  head: string;
  /**
   * True when events after the position asked for are no longer in the log
   * (trimmed, or expired with their tasks), or the position is not one of
   * this log's: a reader cannot resume from it without a gap.
   */
  gap: boolean;
}

/** What `/metrics` reads from the broker at each scrape. */
export interface BrokerStats {
  /** Tasks not expired, by status (statuses with none are left out). */
  tasks: Partial<Record<TaskStatus, number>>;
  /** Jobs in the queue, not yet acknowledged: waiting or handed to a worker. */
  queuedJobs: number;
  /** Of those, the ones delivered to a worker (being trained, or handed back for another attempt). */
  deliveredJobs: number;
  /** When the oldest job in the queue was queued (epoch ms), or null when it is empty. */
  oldestJobMs: number | null;
}

/**
 * Tasks the Redis broker looks at, at most, when counting them by status
 * (the newest): its script reads each one's status (1.6–1.8 ms of Redis
 * time with 1,000 tasks, 19–64 ms with 10,000), and Redis runs nothing
 * else meanwhile.
 */
export const MAX_STATS_TASKS = 2_000;

/** The port every broker implementation honours. */
export interface Broker {
  /** Which implementation this is, for health reports. */
  readonly kind: "memory" | "sqlite" | "redis";
  /** Where the data lives, for health reports: the database file, Redis's URL, or null in memory. */
  readonly location: string | null;
  /** Sites' outdoor temperatures and meters' sites, kept where the readings are. */
  readonly weather: WeatherStore;
  /** Webhook subscriptions and pending deliveries, kept with everything else (`webhook_store.ts`). */
  readonly webhooks: WebhookStore;

  /** Checks the broker answers; throws when it does not. */
  ping(): Promise<void>;

  /**
   * Creates a task and queues its job, atomically, unless the meter already
   * has a task that is not final.
   */
  createTask(task: Task, job: TrainingJob): Promise<CreateTaskResult>;

  /**
   * Creates a group's tasks and queues their jobs, and stores the group
   * with the tasks created, all in one atomic step. A meter that already
   * has a task that is not final is skipped. When every meter is skipped,
   * nothing is stored. `group.tasks` is ignored: the broker fills it.
   */
  createTaskGroup(group: TaskGroup, entries: readonly GroupEntry[]): Promise<CreateGroupResult>;

  /** A group and its tasks' ids, or null if unknown or expired (`GROUP_TTL_SECONDS`). */
  getTaskGroup(groupId: string): Promise<TaskGroup | null>;

  /**
   * Stores `task` as the task's new state if its last event id is still
   * `expectedEventId`; appends it to the log and notifies subscribers.
   * A final state releases the meter and starts the expiry clock.
   */
  commitTask(task: Task, expectedEventId: string): Promise<CommitResult>;

  /** The task's current state and its event id, or null if unknown or expired. */
  getTask(taskId: string): Promise<TaskEvent | null>;

  /** The task's events with ids after `afterId`, oldest first. */
  readEvents(taskId: string, afterId: string): Promise<TaskEvent[]>;

  /**
   * Every task's events after position `after` of the log of all events
   * (`seq`), oldest first, at most `limit`; `after` null reads only the head.
   */
  readAllEvents(after: string | null, limit: number): Promise<AllEventsPage>;

  /**
   * Tasks known and not expired, newest first (by `created_at`, then id),
   * filtered, a page at a time.
   *
   * @throws {BadCursor} when `query.after` was not handed out by a listing.
   */
  listTasks(query: TaskListQuery): Promise<TaskPage>;

  /** Subscribes to every task's events; resolves once the feed is live. */
  subscribe(listener: TaskEventListener): Promise<Unsubscribe>;

  /**
   * Claims for `consumer` a job not renewed for `leaseMs` (its owner is
   * gone), or else the next queued job: the oldest single task's, or else
   * the next group's in turn.
   */
  claimJob(consumer: string, leaseMs: number): Promise<JobDelivery | null>;

  /** Renews a delivery's lease; false if the job was reclaimed or acknowledged. */
  renewLease(delivery: JobDelivery, consumer: string): Promise<boolean>;

  /**
   * Hands a delivery back unfinished: the next claim (by any worker) takes
   * it at once, as its next attempt.
   */
  releaseJob(delivery: JobDelivery, consumer: string): Promise<void>;

  /** Marks a delivery done: the job leaves the queue. */
  ackJob(delivery: JobDelivery): Promise<void>;

  /** Calls `listener` whenever a job is queued; resolves once live. */
  onJobQueued(listener: () => void): Promise<Unsubscribe>;

  /** The meter's readings, or null if it has none. */
  getReadings(meter: MeterRef): Promise<ReadingSeries | null>;

  /**
   * Meters that have readings, ordered by type then id, a page at a time.
   *
   * @throws {BadCursor} when `query.after` is not a meter key.
   */
  listMeters(query: MeterListQuery): Promise<MeterPage>;

  /** How many readings the meter has, without reading them (`HLEN`). */
  countReadings(meter: MeterRef): Promise<number>;

  /**
   * Merges readings into the meter's, by timestamp, atomically: a reading
   * for a stored hour replaces it. Returns how many were new and replaced.
   * In the same atomic step, the readings must share the meter's hourly
   * grid and the meter may not exceed `limits.maxReadings`.
   *
   * @throws {ReadingsRefused} when either check fails; nothing is stored.
   */
  mergeReadings(
    meter: MeterRef,
    series: ReadingSeries,
    limits?: MergeLimits,
  ): Promise<ReadingsMerge>;

  /**
   * Removes the meter's readings at `from` or later and before `to` (epoch
   * ms), atomically; returns how many were removed. A meter left with no
   * readings leaves the listing of meters.
   */
  deleteReadings(meter: MeterRef, from: number, to: number): Promise<number>;

  /**
   * Removes the meter's readings and its model, in one atomic step, unless
   * the meter has a task that is not final (then nothing is removed).
   */
  deleteMeter(meter: MeterRef): Promise<DeleteMeterResult>;

  /** Stores a meter's trained model, replacing the previous one. */
  putModel(meter: MeterRef, model: StoredModel): Promise<void>;

  /** The meter's trained model, or null. */
  getModel(meter: MeterRef): Promise<StoredModel | null>;

  /** The meter's model document (`model.json`) without its weights, or null. */
  getModelJson(meter: MeterRef): Promise<Omit<StoredModel, "weights"> | null>;

  /** When the meter's model was trained, without loading it; null if none. */
  modelTrainedAt(meter: MeterRef): Promise<string | null>;

  /**
   * Tasks by status and the job queue's depth and oldest job, for metrics:
   * cheap (one command on Redis), read at each scrape.
   */
  stats(): Promise<BrokerStats>;

  /** Releases connections and listeners. */
  close(): Promise<void>;
}

/** A trained model as the broker keeps it: TensorFlow.js layers format. */
export interface StoredModel {
  /** ISO time it was trained. */
  trainedAt: string;
  /** The `model.json` document (topology, weights manifest, metadata). */
  json: string;
  /** `weights.bin`. */
  weights: Uint8Array;
}

/** The meter a meter key (`type/id`) names. */
export function meterOfKey(key: string): MeterRef {
  const slash = key.indexOf("/");
  return { meter_type: key.slice(0, slash) as MeterType, meter_id: key.slice(slash + 1) };
}

/** One page of a sorted list of meter keys, after `query.after`, of `query.meterType`. */
export function meterPage(sortedKeys: readonly string[], query: MeterListQuery): MeterPage {
  const after = query.after === null ? null : checkMeterCursor(query.after);
  const keys = sortedKeys.filter((key) =>
    (after === null || key > after) && (!query.meterType || key.startsWith(`${query.meterType}/`))
  );
  const page = keys.slice(0, query.limit);
  return {
    meters: page.map(meterOfKey),
    next: keys.length > query.limit ? meterKey(meterOfKey(page.at(-1)!)) : null,
  };
}
