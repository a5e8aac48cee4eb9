/**
 * Sends notifications: turns the log of every task's events (the one the
 * all-task streams read) into deliveries, and sends the deliveries that are
 * due. Every API and worker process runs one; they share the work through
 * the broker's webhook store:
 *
 * - Following the log: each pass reads the events after the store's cursor
 *   and enqueues a delivery per event and matching target (standing
 *   subscriptions by their filter; a task's own `notify` for its final
 *   event), then moves the cursor on. A delivery's id is derived from its
 *   target and event, so two processes reading the same events enqueue it
 *   once, and a process killed before moving the cursor loses nothing: the
 *   next pass reads the same events again.
 * - Sending: due deliveries are claimed with a lease (no two processes send
 *   the same attempt at once), sent, and their outcome stored: a 2xx settles
 *   them, a `410` too (and disables the subscription), any other failure
 *   schedules the next attempt (`schedule.ts`) until the schedule is spent.
 *
 * Idle, it costs next to nothing (Upstash bills Redis by the command): the
 * log is read only when an event calls for it (`wake(event)`: a final
 * event, or any while some subscription wants every change; the server
 * calls it for every event its hub hears), at start, and when asked
 * (`wake()`: a replay, a new subscription, a feed that was interrupted);
 * sending passes run when the earliest pending delivery is due (each claim
 * says when), and at the latest every `pollMs` (deliveries another process
 * scheduled, or left behind when it died).
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { Broker } from "../broker/broker.ts";
import type { WebhookStore } from "../broker/webhook_store.ts";
import { isFinal, type TaskEvent } from "../domain/task.ts";
import {
  type DeliveryTarget,
  MAX_ATTEMPTS_KEPT,
  subscriptionTarget,
  taskTarget,
  type WebhookDelivery,
  type WebhookFormat,
} from "../domain/webhook.ts";
import { targetProblem } from "./address_guard.ts";
import { webhookRequest } from "./message.ts";
import { retryDelayMs, type RetrySchedule } from "./schedule.ts";
import { sendWebhook } from "./send.ts";

/** How an attempt ended, as counted by the metrics. */
export type AttemptOutcome = "delivered" | "retry" | "failed" | "gone" | "refused";

/** What the dispatcher needs. */
export interface DispatcherOptions {
  broker: Broker;
  /** The key of per-task notifications (`WEBHOOK_SECRET`); null: they go unsigned (slack only). */
  secret: string | null;
  schedule: RetrySchedule;
  /** Send to private addresses too (`WEBHOOK_ALLOW_PRIVATE`). */
  allowPrivate: boolean;
  /** Milliseconds an attempt waits for an answer. */
  timeoutMs: number;
  /** Milliseconds between passes at most, with nothing due that this process knows of. */
  pollMs: number;
  /** Called once per attempt with its outcome (the metrics). */
  onAttempt?(outcome: AttemptOutcome): void;
  /** Where a pass that failed is reported. */
  warn?(message: string): void;
}

/** A running dispatcher. */
export interface Dispatcher {
  /** Follows the log from now on (the first start of all reads from the log's head). */
  start(): Promise<void>;
  /**
   * Runs a pass soon. With the task event that called for it: the log is
   * read when the event can lead to a delivery; without: always.
   */
  wake(event?: TaskEvent): void;
  /** Stops after the pass in flight. */
  stop(): Promise<void>;
}

/** Deliveries claimed per pass, at most. */
const CLAIM_BATCH = 10;
/** Events read from the log per read. */
const LOG_PAGE = 200;
/** How long the list of subscriptions is trusted to decide whether an event needs the log read. */
const SUBSCRIPTIONS_FRESH_MS = 10_000;

/** The `webhook-id` of an event's delivery to a target: the same wherever it is computed. */
export function deliveryId(target: DeliveryTarget, event: TaskEvent): string {
  const digest = createHash("sha256").update(`${target}|${event.task.task_id}|${event.id}`)
    .digest("hex");
  return `msg_${digest.slice(0, 32)}`;
}

/** Creates the dispatcher of one process. */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const store: WebhookStore = options.broker.webhooks;
  const consumer = `sender-${crypto.randomUUID()}`;
  const leaseMs = options.timeoutMs + 30_000;
  const warn = options.warn ?? ((message) => console.warn(message));
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = true;
  let needsFollow = true;
  let known: { at: number; anyAll: boolean } | null = null;
  /** Retry times this process set in the current pass. */
  let retriesAt: number[] = [];

  function pending(
    target: DeliveryTarget,
    url: string,
    format: WebhookFormat,
    event: TaskEvent,
  ): WebhookDelivery {
    return {
      id: deliveryId(target, event),
      target,
      url,
      format,
      task_id: event.task.task_id,
      event_id: event.id,
      task_status: event.task.status,
      payload: JSON.stringify(event.task),
      created_at: new Date().toISOString(),
      state: "pending",
      attempts: 0,
      retries: 0,
      manual: false,
      next_attempt_at: Date.now(),
      claimed_by: null,
      history: [],
    };
  }

  /** Enqueues the deliveries of the events after the cursor, and moves it on. */
  async function follow(): Promise<void> {
    let cursor = await store.getCursor();
    if (cursor === null) {
      // The first start ever: from now on, not the whole history.
      await store.advanceCursor((await options.broker.readAllEvents(null, 1)).head);
      return;
    }
    const subscriptions = (await store.listSubscriptions()).filter((s) => !s.disabled_at);
    known = { at: Date.now(), anyAll: subscriptions.some((s) => s.events === "all") };
    for (;;) {
      const page = await options.broker.readAllEvents(cursor, LOG_PAGE);
      for (const event of page.events) {
        const final = isFinal(event.task.status);
        for (const s of subscriptions) {
          if (s.events === "all" || final) {
            await store.enqueue(pending(subscriptionTarget(s.id), s.url, s.format, event));
          }
        }
        if (final) {
          const notify = await store.getTaskNotify(event.task.task_id);
          if (notify) {
            await store.enqueue(
              pending(taskTarget(notify.task_id), notify.url, notify.format, event),
            );
          }
        }
      }
      const last = page.events.at(-1)?.seq;
      if (last) {
        await store.advanceCursor(last);
        cursor = last;
      }
      if (page.events.length < LOG_PAGE) return;
    }
  }

  /** The key a delivery is signed with, or why it cannot be sent at all. */
  async function keyFor(d: WebhookDelivery): Promise<{ secret: string | null } | { stop: string }> {
    if (d.target.startsWith("task:")) {
      return options.secret || d.format === "slack"
        ? { secret: options.secret }
        : { stop: "WEBHOOK_SECRET is not set: per-task notifications cannot be signed" };
    }
    const subscription = await store.getSubscription(d.target.slice("subscription:".length));
    if (!subscription) return { stop: "the subscription was deleted" };
    if (subscription.disabled_at) {
      return { stop: `the subscription is disabled (${subscription.disabled_reason})` };
    }
    return { secret: subscription.secret };
  }

  async function attempt(d: WebhookDelivery): Promise<void> {
    const at = new Date();
    const key = await keyFor(d);
    let status: number | null = null;
    let error: string | null;
    let durationMs = 0;
    let refused = false;
    if ("stop" in key) error = key.stop;
    else {
      const problem = options.allowPrivate ? null : await targetProblem(d.url);
      if (problem) {
        refused = true;
        error = `Not sent: the URL ${problem}`;
      } else {
        const outcome = await sendWebhook(
          d.url,
          webhookRequest(d, key.secret, at),
          options.timeoutMs,
        );
        ({ status, error, durationMs } = outcome);
      }
    }
    const attempts = d.attempts + 1;
    const history = [
      ...d.history,
      {
        attempt: attempts,
        at: at.toISOString(),
        status_code: status,
        error,
        duration_ms: durationMs,
      },
    ].slice(-MAX_ATTEMPTS_KEPT);
    const after: WebhookDelivery = { ...d, attempts, history, claimed_by: null };
    let outcome: AttemptOutcome;
    if (error === null) {
      Object.assign(after, { state: "delivered", next_attempt_at: null });
      outcome = "delivered";
    } else if (status === 410) {
      Object.assign(after, { state: "gone", next_attempt_at: null });
      outcome = "gone";
      if (d.target.startsWith("subscription:")) {
        await store.disableSubscription(
          d.target.slice("subscription:".length),
          at.toISOString(),
          `the receiver answered 410 Gone to delivery ${d.id}`,
        );
      }
    } else {
      const delay = "stop" in key || d.manual
        ? null
        : retryDelayMs(options.schedule, d.retries + 1);
      if (delay === null) {
        Object.assign(after, { state: "failed", next_attempt_at: null });
        outcome = "failed";
      } else {
        Object.assign(after, { retries: d.retries + 1, next_attempt_at: Date.now() + delay });
        retriesAt.push(after.next_attempt_at!);
        outcome = "retry";
      }
      if (refused) outcome = "refused";
    }
    if (await store.finishAttempt(after, consumer)) options.onAttempt?.(outcome);
  }

  /** One pass: the log when needed, then every due delivery; resolves to when the next is due. */
  async function pass(): Promise<number | null> {
    if (needsFollow) {
      needsFollow = false;
      try {
        await follow();
      } catch (error) {
        needsFollow = true;
        throw error;
      }
    }
    retriesAt = [];
    for (;;) {
      const { claimed, nextDueAt } = await store.claimDue(
        consumer,
        Date.now(),
        leaseMs,
        CLAIM_BATCH,
      );
      await Promise.all(claimed.map(attempt));
      if (claimed.length < CLAIM_BATCH || stopped) {
        const times = [...retriesAt, ...(nextDueAt === null ? [] : [nextDueAt])];
        return times.length ? Math.min(...times) : null;
      }
    }
  }

  function schedule(ms: number): void {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(run, Math.max(0, ms));
  }

  function run(): void {
    if (running) {
      again = true;
      return;
    }
    let nextDueAt: number | null = null;
    running = pass()
      .then((next) => void (nextDueAt = next))
      .catch((error) =>
        warn(`Webhook delivery pass failed (tried again in ${options.pollMs} ms): ${error}`)
      )
      .finally(() => {
        running = null;
        if (again && !stopped) {
          again = false;
          run();
        } else {
          const untilDue = nextDueAt === null ? options.pollMs : nextDueAt - Date.now();
          schedule(Math.min(options.pollMs, untilDue));
        }
      });
  }

  return {
    async start() {
      stopped = false;
      run();
      await running;
    },
    wake(event) {
      if (stopped) return;
      if (event) {
        const fresh = known !== null && Date.now() - known.at < SUBSCRIPTIONS_FRESH_MS;
        if (!isFinal(event.task.status) && fresh && !known!.anyAll) return;
      } else known = null;
      needsFollow = true;
      run();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
