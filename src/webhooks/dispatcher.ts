/**
 * Sends notifications: every API and worker process runs one dispatcher,
 * and they share the work through the broker's webhook store. A pass reads
 * the log into deliveries when needed (`follow_log.ts`), then claims the
 * due deliveries with a lease (no two processes make the same attempt at
 * once) and makes their attempts (`attempt.ts`).
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
import type { Broker } from "../broker/broker.ts";
import type { WebhookStore } from "../broker/webhook_store.ts";
import { isFinal, type TaskEvent } from "../domain/task.ts";
import type { WebhookDelivery } from "../domain/webhook.ts";
import { attemptDelivery, type AttemptOutcome } from "./attempt.ts";
import { followLog } from "./follow_log.ts";
import type { RetrySchedule } from "./schedule.ts";
import { logger } from "../logging/logging.ts";

const log = logger("webhooks");

export type { AttemptOutcome } from "./attempt.ts";
export { deliveryId } from "./follow_log.ts";

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
/** How long the list of subscriptions is trusted to decide whether an event needs the log read. */
const SUBSCRIPTIONS_FRESH_MS = 10_000;

/** Creates the dispatcher of one process. */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const store: WebhookStore = options.broker.webhooks;
  const consumer = `sender-${crypto.randomUUID()}`;
  const leaseMs = options.timeoutMs + 30_000;
  const warn = options.warn ?? ((message) => log.warn("{warning}", { warning: message }));
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = true;
  /** Aborts the attempts in flight when the dispatcher stops. */
  let stopping = new AbortController();
  let needsFollow = true;
  let known: { at: number; anyAll: boolean } | null = null;
  /** Retry times this process set in the current pass. */
  let retriesAt: number[] = [];

  async function attempt(d: WebhookDelivery): Promise<void> {
    const { after, outcome } = await attemptDelivery(d, {
      ...options,
      store,
      cancel: stopping.signal,
    });
    // Cut short by a stop: not an attempt to count. The claim runs out (or,
    // in embedded mode, is released at the next start) and it is made again.
    if (stopping.signal.aborted) return;
    if (after.state === "pending" && after.next_attempt_at !== null) {
      retriesAt.push(after.next_attempt_at);
    }
    if (await store.finishAttempt(after, consumer)) options.onAttempt?.(outcome);
  }

  /** One pass: the log when needed, then every due delivery; resolves to when the next is due. */
  async function pass(): Promise<number | null> {
    if (needsFollow) {
      needsFollow = false;
      try {
        const { anyAll, gap } = await followLog(options.broker);
        known = { at: Date.now(), anyAll };
        if (gap) {
          warn(
            "Some task events were gone from the log of every task's events (it keeps the newest ones only) before webhook deliveries were made from them: their notifications were not sent. Keep an API or worker process running so that they are read as they happen.",
          );
        }
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
      stopping = new AbortController();
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
      stopping.abort();
      await running;
    },
  };
}
