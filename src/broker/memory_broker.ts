/**
 * The in-memory broker: the embedded mode's broker, for one process with
 * nothing else installed. It honours the same port semantics as the Redis
 * broker and passes the same conformance suite.
 *
 * @module
 */
import {
  type Broker,
  type BrokerStats,
  type CommitResult,
  type CreateGroupResult,
  type CreateTaskResult,
  type DeleteMeterResult,
  gridOffset,
  hourOffset,
  isAfter,
  type JobDelivery,
  matchesQuery,
  type MergeLimits,
  meterPage,
  newestFirst,
  parseTaskCursor,
  ReadingsRefused,
  type StoredModel,
  type TaskEventListener,
  taskPage,
  type Unsubscribe,
} from "./broker.ts";
import { compareEventIds, createEventIdGenerator, eventIdMs } from "./event_id.ts";
import { callEach } from "./listeners.ts";
import { createMemoryWebhookStore } from "./memory_webhook_store.ts";
import type { ReadingSeries } from "../domain/series.ts";
import { isFinal, type Task, type TaskEvent } from "../domain/task.ts";
import { meterKey, type MeterRef } from "../domain/meter.ts";
import { GROUP_TTL_SECONDS, type TaskGroup } from "../domain/task_group.ts";

/** Options of the in-memory broker. */
export interface MemoryBrokerOptions {
  /** Seconds a final task and its events are kept. */
  taskTtlSeconds: number;
  /** Events kept per task; older ones are trimmed (like `XADD MAXLEN`). */
  maxEventsPerTask?: number;
  /** Events kept in the log of every task's events (for all-task streams); older ones are trimmed. */
  maxAllEvents?: number;
  /** Clock, for tests. */
  now?: () => number;
}

interface TaskEntry {
  events: TaskEvent[];
  expiresAt: number | null;
}

interface Lease {
  delivery: JobDelivery;
  consumer: string;
  /** When the lease was last taken or renewed (0 once released). */
  renewedAt: number;
}

/** Creates an in-memory broker. */
export function createMemoryBroker(options: MemoryBrokerOptions): Broker {
  const now = options.now ?? Date.now;
  const maxEvents = options.maxEventsPerTask ?? 1000;
  const nextId = createEventIdGenerator(now);
  const maxAll = options.maxAllEvents ?? 10_000;
  // The log of every task's events: ids come from one generator, so they
  // order every task's events in commit order and serve as their `seq`.
  const allLog: TaskEvent[] = [];
  let trimmedThrough = "0-0";
  const tasks = new Map<string, TaskEntry>();
  const activeByMeter = new Map<string, string>();
  // Single tasks' jobs, oldest first; groups' jobs per group, the map's
  // order being the round of turns (a group served moves to its end).
  const pending: JobDelivery[] = [];
  const lanes = new Map<string, JobDelivery[]>();
  const groups = new Map<string, { group: TaskGroup; expiresAt: number }>();
  const leases = new Map<string, Lease>();
  const listeners = new Set<TaskEventListener>();
  const jobListeners = new Set<() => void>();
  const readings = new Map<string, Map<number, number>>();
  const models = new Map<string, StoredModel>();
  let lastSweep = 0;

  const clone = <T>(value: T): T => structuredClone(value);

  function live(taskId: string): TaskEntry | undefined {
    const entry = tasks.get(taskId);
    if (entry?.expiresAt !== null && entry && entry.expiresAt <= now()) {
      tasks.delete(taskId);
      return undefined;
    }
    return entry;
  }

  function sweep(): void {
    const t = now();
    if (t - lastSweep < 10_000) return;
    lastSweep = t;
    for (const [id, entry] of tasks) {
      if (entry.expiresAt !== null && entry.expiresAt <= t) tasks.delete(id);
    }
    for (const [id, kept] of groups) if (kept.expiresAt <= t) groups.delete(id);
  }

  /** The meter's active task id, if it has one. */
  function activeTask(key: string): string | undefined {
    const holder = activeByMeter.get(key);
    if (holder === undefined) return undefined;
    const last = live(holder)?.events.at(-1);
    return last && !isFinal(last.task.status) ? holder : undefined;
  }

  /** The next group's job in turn, moving that group to the end of the round. */
  function nextGroupJob(): JobDelivery | undefined {
    for (const [groupId, jobs] of lanes) {
      lanes.delete(groupId);
      const job = jobs.shift();
      if (jobs.length) lanes.set(groupId, jobs);
      if (job) return job;
    }
    return undefined;
  }

  function append(entry: TaskEntry, task: Task): TaskEvent {
    const event = { id: nextId(), task: clone(task) };
    entry.events.push(event);
    if (entry.events.length > maxEvents) {
      entry.events.splice(0, entry.events.length - maxEvents);
    }
    allLog.push({ ...event, seq: event.id });
    if (allLog.length > maxAll) {
      trimmedThrough = allLog[allLog.length - maxAll - 1].id;
      allLog.splice(0, allLog.length - maxAll);
    }
    if (isFinal(task.status)) {
      entry.expiresAt = now() + options.taskTtlSeconds * 1000;
      const key = meterKey(task);
      if (activeByMeter.get(key) === task.task_id) activeByMeter.delete(key);
    }
    callEach(
      listeners,
      (listener) => listener.onEvent({ ...clone(event), seq: event.id }),
      "A task event listener",
    );
    return clone(event);
  }

  function notifyJobQueued(): void {
    callEach(jobListeners, (listener) => listener(), "A job listener");
  }

  return {
    kind: "memory",
    location: null,
    webhooks: createMemoryWebhookStore(now),

    ping(): Promise<void> {
      return Promise.resolve();
    },

    // deno-lint-ignore require-await -- async: a bad cursor is a rejection, as in every broker
    async listTasks(query) {
      const after = query.after === null ? null : parseTaskCursor(query.after);
      const found: Task[] = [];
      for (const id of [...tasks.keys()]) {
        const entry = live(id);
        const task = entry?.events.at(-1)?.task;
        if (task && matchesQuery(task, query) && (!after || isAfter(task, after))) {
          found.push(task);
        }
      }
      found.sort(newestFirst);
      const page = taskPage(found, query.limit);
      return { ...page, tasks: page.tasks.map(clone) };
    },

    // deno-lint-ignore require-await -- async: a bad cursor is a rejection, as in every broker
    async listMeters(query) {
      const keys = [...readings].filter(([, stored]) => stored.size > 0).map(([key]) => key);
      return meterPage(keys.sort(), query);
    },

    createTask(task, job): Promise<CreateTaskResult> {
      sweep();
      const key = meterKey(task);
      const holder = activeTask(key);
      if (holder !== undefined) return Promise.resolve({ created: false, activeTaskId: holder });
      activeByMeter.set(key, task.task_id);
      const entry: TaskEntry = { events: [], expiresAt: null };
      tasks.set(task.task_id, entry);
      const event = append(entry, task);
      pending.push({ id: nextId(), job: clone(job), attempt: 1 });
      notifyJobQueued();
      return Promise.resolve({ created: true, event });
    },

    createTaskGroup(group, entries): Promise<CreateGroupResult> {
      sweep();
      const result: CreateGroupResult = { created: [], skipped: [] };
      const jobs: JobDelivery[] = [];
      for (const { task, job } of entries) {
        const key = meterKey(task);
        const holder = activeTask(key);
        if (holder !== undefined) {
          result.skipped.push({
            meter: { meter_type: task.meter_type, meter_id: task.meter_id },
            activeTaskId: holder,
          });
          continue;
        }
        activeByMeter.set(key, task.task_id);
        const entry: TaskEntry = { events: [], expiresAt: null };
        tasks.set(task.task_id, entry);
        result.created.push(append(entry, task));
        jobs.push({ id: nextId(), job: clone({ ...job, group_id: group.group_id }), attempt: 1 });
      }
      if (!result.created.length) return Promise.resolve(result);
      const members = result.created.map(({ task }) => ({
        task_id: task.task_id,
        meter_type: task.meter_type,
        meter_id: task.meter_id,
      }));
      groups.set(group.group_id, {
        group: clone({ ...group, tasks: members }),
        expiresAt: now() + GROUP_TTL_SECONDS * 1000,
      });
      lanes.set(group.group_id, jobs);
      notifyJobQueued();
      return Promise.resolve(result);
    },

    getTaskGroup(groupId) {
      const kept = groups.get(groupId);
      if (!kept || kept.expiresAt <= now()) return Promise.resolve(null);
      return Promise.resolve(clone(kept.group));
    },

    commitTask(task, expectedEventId): Promise<CommitResult> {
      const entry = live(task.task_id);
      const last = entry?.events.at(-1);
      if (!entry || !last || last.id !== expectedEventId) {
        return Promise.resolve({
          committed: false,
          current: last ? clone(last) : null,
        });
      }
      if (isFinal(last.task.status)) {
        return Promise.resolve({ committed: false, current: clone(last) });
      }
      return Promise.resolve({ committed: true, event: append(entry, task) });
    },

    getTask(taskId) {
      const last = live(taskId)?.events.at(-1);
      return Promise.resolve(last ? clone(last) : null);
    },

    readEvents(taskId, afterId) {
      const events = live(taskId)?.events ?? [];
      return Promise.resolve(
        clone(events.filter((e) => compareEventIds(e.id, afterId) > 0)),
      );
    },

    readAllEvents(after, limit) {
      const head = allLog.at(-1)?.id ?? trimmedThrough;
      if (after === null) return Promise.resolve({ events: [], head, gap: false });
      const gap = compareEventIds(after, trimmedThrough) < 0 || compareEventIds(after, head) > 0;
      let lo = 0;
      let hi = allLog.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (compareEventIds(allLog[mid].id, after) <= 0) lo = mid + 1;
        else hi = mid;
      }
      return Promise.resolve({ events: clone(allLog.slice(lo, lo + limit)), head, gap });
    },

    subscribe(listener): Promise<Unsubscribe> {
      listeners.add(listener);
      return Promise.resolve(() => listeners.delete(listener));
    },

    claimJob(consumer, leaseMs) {
      const t = now();
      let delivery: JobDelivery | undefined;
      for (const [id, lease] of leases) {
        if (t - lease.renewedAt >= leaseMs) {
          leases.delete(id);
          delivery = {
            ...lease.delivery,
            attempt: lease.delivery.attempt + 1,
          };
          break;
        }
      }
      delivery ??= pending.shift() ?? nextGroupJob();
      if (!delivery) return Promise.resolve(null);
      leases.set(delivery.id, { delivery, consumer, renewedAt: t });
      return Promise.resolve(clone(delivery));
    },

    renewLease(delivery, consumer) {
      const lease = leases.get(delivery.id);
      if (
        !lease || lease.consumer !== consumer ||
        lease.delivery.attempt !== delivery.attempt
      ) {
        return Promise.resolve(false);
      }
      lease.renewedAt = now();
      return Promise.resolve(true);
    },

    releaseJob(delivery, consumer) {
      const lease = leases.get(delivery.id);
      if (lease?.consumer === consumer && lease.delivery.attempt === delivery.attempt) {
        lease.renewedAt = 0;
        notifyJobQueued();
      }
      return Promise.resolve();
    },

    ackJob(delivery) {
      leases.delete(delivery.id);
      return Promise.resolve();
    },

    onJobQueued(listener): Promise<Unsubscribe> {
      jobListeners.add(listener);
      return Promise.resolve(() => jobListeners.delete(listener));
    },

    getReadings(meter: MeterRef) {
      const stored = readings.get(meterKey(meter));
      if (!stored?.size) return Promise.resolve(null);
      const timestamps = [...stored.keys()].sort((a, b) => a - b);
      return Promise.resolve({ timestamps, values: timestamps.map((t) => stored.get(t)!) });
    },

    countReadings(meter: MeterRef) {
      return Promise.resolve(readings.get(meterKey(meter))?.size ?? 0);
    },

    mergeReadings(meter: MeterRef, series: ReadingSeries, limits: MergeLimits = {}) {
      const key = meterKey(meter);
      const stored = readings.get(key) ?? new Map<number, number>();
      // Synchronous: the checks and the merge are one step.
      const offset = gridOffset(series.timestamps);
      const storedOffset = stored.size ? hourOffset(stored.keys().next().value!) : null;
      if (series.timestamps.length && (offset === null || (storedOffset ?? offset) !== offset)) {
        return Promise.reject(
          new ReadingsRefused(
            "off_grid",
            (storedOffset ?? hourOffset(series.timestamps[0])) / 60_000,
          ),
        );
      }
      const added = new Set(series.timestamps.filter((t) => !stored.has(t))).size;
      if (limits.maxReadings !== undefined && stored.size + added > limits.maxReadings) {
        return Promise.reject(new ReadingsRefused("too_many_readings", stored.size + added));
      }
      readings.set(key, stored);
      series.timestamps.forEach((t, i) => stored.set(t, series.values[i]));
      return Promise.resolve({ added, replaced: series.timestamps.length - added });
    },

    deleteReadings(meter: MeterRef, from: number, to: number) {
      const key = meterKey(meter);
      const stored = readings.get(key);
      let removed = 0;
      for (const t of [...(stored?.keys() ?? [])]) {
        if (t >= from && t < to) removed += stored!.delete(t) ? 1 : 0;
      }
      if (stored?.size === 0) readings.delete(key);
      return Promise.resolve(removed);
    },

    deleteMeter(meter: MeterRef): Promise<DeleteMeterResult> {
      sweep();
      const key = meterKey(meter);
      const holder = activeTask(key);
      if (holder !== undefined) return Promise.resolve({ deleted: false, activeTaskId: holder });
      const count = readings.get(key)?.size ?? 0;
      readings.delete(key);
      return Promise.resolve({ deleted: true, readings: count, model: models.delete(key) });
    },

    putModel(meter, model) {
      models.set(meterKey(meter), { ...model, weights: model.weights.slice() });
      return Promise.resolve();
    },

    getModel(meter) {
      const model = models.get(meterKey(meter));
      return Promise.resolve(model ? { ...model, weights: model.weights.slice() } : null);
    },

    getModelJson(meter) {
      const model = models.get(meterKey(meter));
      return Promise.resolve(model ? { trainedAt: model.trainedAt, json: model.json } : null);
    },

    modelTrainedAt(meter) {
      return Promise.resolve(models.get(meterKey(meter))?.trainedAt ?? null);
    },

    stats() {
      const counts: BrokerStats["tasks"] = {};
      for (const id of tasks.keys()) {
        const status = live(id)?.events.at(-1)?.task.status;
        if (status) counts[status] = (counts[status] ?? 0) + 1;
      }
      const waiting = [...pending, ...[...lanes.values()].flat()];
      const ids = [...waiting.map((d) => d.id), ...leases.keys()].map(eventIdMs);
      return Promise.resolve({
        tasks: counts,
        queuedJobs: waiting.length + leases.size,
        deliveredJobs: leases.size,
        oldestJobMs: ids.length ? ids.reduce((a, b) => Math.min(a, b)) : null,
      });
    },

    close() {
      listeners.clear();
      jobListeners.clear();
      return Promise.resolve();
    },
  };
}
