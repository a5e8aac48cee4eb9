/**
 * The task tracker: the only place that changes a task. It owns the state
 * machine, keeps progress from going down, ignores reports from a stale
 * attempt, and stores every change through the broker as one event
 * (compare-and-set, retried on conflict, so several processes can report on
 * one task safely).
 *
 * @module
 */
import type { Broker } from "../broker/broker.ts";
import {
  canMove,
  type ErrorDetails,
  isFinal,
  type Task,
  type TaskEvent,
  type TaskResult,
  type TaskStatus,
  type TrainingMetrics,
  type TrainingOptions,
} from "../domain/task.ts";
import type { MeterRef } from "../domain/meter.ts";
import type { TaskGroup } from "../domain/task_group.ts";

/** A change to a task, as reported by the job that runs it. */
export interface TaskChange {
  /** The new status. */
  status: TaskStatus;
  /** Human message; a default per status when omitted. */
  message?: string;
  /** New progress; ignored when lower than the current one. */
  progress?: number;
  /** Latest training metrics. */
  metrics?: TrainingMetrics | null;
  /** ISO time the task is expected to finish, or null when unknown. */
  estimated_completion?: string | null;
  /** The result, with `SUCCESS`. */
  result?: TaskResult;
  /** One-line message, with `FAILURE`. */
  error?: string;
  /** What happened, with `FAILURE`. */
  error_details?: ErrorDetails;
  /** The job attempt reporting; reports from an older attempt are ignored. */
  attempt?: number;
}

/** Outcome of creating a task. */
export type CreateOutcome =
  | { created: true; task: Task }
  | { created: false; activeTaskId: string };

/** Outcome of creating a group: the group (null when nothing was created), its tasks, the busy meters. */
export interface CreateGroupOutcome {
  group: TaskGroup | null;
  created: Task[];
  skipped: { meter: MeterRef; activeTaskId: string }[];
}

/** Outcome of a cancellation request. */
export type CancelOutcome =
  | { outcome: "cancelled"; task: Task }
  | { outcome: "already_final"; task: Task }
  | { outcome: "unknown" };

/** Owns every change to every task. */
export interface TaskTracker {
  /** Creates a `PENDING` task and queues its job, unless the meter is busy. */
  /**
   * Creates a task and queues its job; `requestedBy` names who asked, when
   * known; `taskId` is its id when chosen beforehand (a notify target stored
   * under it first).
   */
  create(
    meter: MeterRef,
    options: TrainingOptions,
    requestedBy?: string,
    taskId?: string,
  ): Promise<CreateOutcome>;
  /**
   * Creates one task per meter in a new group, in one step, and queues
   * their jobs; meters with an active task are skipped.
   */
  createGroup(
    meters: readonly MeterRef[],
    options: TrainingOptions,
    requestedBy?: string,
  ): Promise<CreateGroupOutcome>;
  /** The task's current state and event id, or null if unknown. */
  get(taskId: string): Promise<TaskEvent | null>;
  /**
   * Applies a change. Returns the new state, or null when the task is
   * unknown, already final, or now run by a newer attempt: the reporter
   * should stop.
   *
   * @throws {Error} when the move is not allowed by the state machine.
   */
  update(taskId: string, change: TaskChange): Promise<Task | null>;
  /** Cancels a task that is not final. */
  cancel(taskId: string): Promise<CancelOutcome>;
}

/** The message a status gets when the reporter gives none. */
export const DEFAULT_MESSAGES: Record<TaskStatus, string> = {
  PENDING: "Queued for training",
  FETCHING_DATA: "Fetching readings",
  PREPROCESSING: "Preparing features",
  TRAINING_MODEL: "Training model",
  SAVING_MODEL: "Saving model",
  RETRYING: "Retrying",
  SUCCESS: "Model trained",
  FAILURE: "Training failed",
  CANCELLED: "Cancelled by request",
};

const MAX_CONFLICTS = 50;

/** Tasks whose last committed event a tracker remembers, to skip a read per update. */
const CACHE_SIZE = 1000;

/** Creates the task tracker on top of a broker. */
export function createTracker(
  broker: Broker,
  now: () => Date = () => new Date(),
): TaskTracker {
  function apply(current: Task, change: TaskChange): Task {
    const final = isFinal(change.status);
    const requested = change.status === "SUCCESS"
      ? 100
      : Math.round(change.progress ?? current.progress);
    return {
      ...current,
      status: change.status,
      progress: Math.min(100, Math.max(current.progress, requested, 0)),
      message: change.message ?? change.error ??
        DEFAULT_MESSAGES[change.status],
      updated_at: now().toISOString(),
      estimated_completion: final
        ? null
        : change.estimated_completion !== undefined
        ? change.estimated_completion
        : current.estimated_completion,
      metrics: change.metrics !== undefined ? change.metrics : current.metrics,
      result: change.result ?? current.result,
      error: change.error ?? current.error,
      error_details: change.error_details ?? current.error_details,
      attempt: Math.max(current.attempt, change.attempt ?? current.attempt),
    };
  }

  // The last event this tracker committed per task: the next update
  // compare-and-sets against it without reading first (one Redis command
  // per report instead of two); a conflict returns the real current state.
  const lastCommitted = new Map<string, TaskEvent>();
  function remember(event: TaskEvent): void {
    lastCommitted.delete(event.task.task_id);
    if (isFinal(event.task.status)) return;
    lastCommitted.set(event.task.task_id, event);
    if (lastCommitted.size > CACHE_SIZE) {
      lastCommitted.delete(lastCommitted.keys().next().value!);
    }
  }

  async function mutate(
    taskId: string,
    decide: (current: TaskEvent) => Task | null,
  ): Promise<{ current: TaskEvent | null; next: Task | null }> {
    let current = lastCommitted.get(taskId) ?? await broker.getTask(taskId);
    let fresh = !lastCommitted.has(taskId);
    for (let i = 0; i < MAX_CONFLICTS; i++) {
      if (!current) return { current: null, next: null };
      const next = decide(current);
      if (!next) {
        if (fresh) return { current, next: null };
        // Decided on remembered state: check it against the broker first.
        current = await broker.getTask(taskId);
        fresh = true;
        continue;
      }
      const result = await broker.commitTask(next, current.id);
      if (result.committed) {
        remember(result.event);
        return { current: result.event, next };
      }
      lastCommitted.delete(taskId);
      current = result.current;
      fresh = true;
    }
    throw new Error(
      `Task ${taskId} kept changing under ${MAX_CONFLICTS} updates in a row; try again.`,
    );
  }

  function newTask(
    meter: MeterRef,
    options: TrainingOptions,
    at: string,
    requestedBy?: string,
    groupId?: string,
    taskId: string = crypto.randomUUID(),
  ): Task {
    return {
      task_id: taskId,
      status: "PENDING",
      progress: 0,
      message: DEFAULT_MESSAGES.PENDING,
      updated_at: at,
      estimated_completion: null,
      result: null,
      error: null,
      error_details: null,
      meter_id: meter.meter_id,
      meter_type: meter.meter_type,
      created_at: at,
      attempt: 1,
      options,
      metrics: null,
      ...(requestedBy === undefined ? {} : { requested_by: requestedBy }),
      ...(groupId === undefined ? {} : { group_id: groupId }),
    };
  }

  const jobOf = (task: Task) => ({
    task_id: task.task_id,
    meter_id: task.meter_id,
    meter_type: task.meter_type,
    options: task.options,
    ...(task.group_id === undefined ? {} : { group_id: task.group_id }),
  });

  return {
    async create(meter, options, requestedBy, taskId) {
      const task = newTask(meter, options, now().toISOString(), requestedBy, undefined, taskId);
      const result = await broker.createTask(task, jobOf(task));
      if (!result.created) return result;
      remember(result.event);
      return { created: true, task: result.event.task };
    },

    async createGroup(meters, options, requestedBy) {
      const at = now().toISOString();
      const group: TaskGroup = {
        group_id: crypto.randomUUID(),
        created_at: at,
        ...(requestedBy === undefined ? {} : { requested_by: requestedBy }),
        tasks: [],
      };
      const entries = meters.map((meter) => {
        const task = newTask(meter, options, at, requestedBy, group.group_id);
        return { task, job: jobOf(task) };
      });
      const result = await broker.createTaskGroup(group, entries);
      result.created.forEach(remember);
      // The group as stored, from what was created: its tasks exist now, so
      // the answer must not hang on one more read of the broker.
      const tasks = result.created.map(({ task }) => ({
        task_id: task.task_id,
        meter_type: task.meter_type,
        meter_id: task.meter_id,
      }));
      return {
        group: result.created.length ? { ...group, tasks } : null,
        created: result.created.map((event) => event.task),
        skipped: result.skipped,
      };
    },

    get(taskId) {
      return broker.getTask(taskId);
    },

    async update(taskId, change) {
      const { next } = await mutate(taskId, ({ task }) => {
        if (isFinal(task.status)) return null;
        if (change.attempt !== undefined && change.attempt < task.attempt) {
          return null;
        }
        if (!canMove(task.status, change.status)) {
          throw new Error(
            `Task ${taskId} cannot move from ${task.status} to ${change.status}.`,
          );
        }
        return apply(task, change);
      });
      return next;
    },

    async cancel(taskId) {
      const { current, next } = await mutate(
        taskId,
        ({ task }) => isFinal(task.status) ? null : apply(task, { status: "CANCELLED" }),
      );
      if (next) return { outcome: "cancelled", task: next };
      if (current) return { outcome: "already_final", task: current.task };
      return { outcome: "unknown" };
    },
  };
}
