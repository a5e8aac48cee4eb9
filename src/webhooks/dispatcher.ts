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

/** Attempts in flight at once in one process, at most. */
const MAX_IN_FLIGHT = 10;
/**
 * Attempts in flight at once at one receiver (scheme, host and port), at
 * most: a receiver that never answers holds two places, not every one.
 * Its other claimed deliveries wait their turn in the process.
 */
const MAX_PER_RECEIVER = 2;
/** Claimed deliveries waiting for their receiver's turn, at most (then no more are claimed). */
const MAX_WAITING = 100;
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

  /** Reads the log into deliveries (`follow_log.ts`). */
  async function follow(): Promise<void> {
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

  /** Resolves when `wake()` or `stop()` asks the pass in flight to look again. */
  let kick: () => void = () => {};
  const kicked = () => new Promise<void>((resolve) => kick = resolve);

  /**
   * One pass: the log when needed, then every due delivery, up to
   * `MAX_IN_FLIGHT` attempts at once and `MAX_PER_RECEIVER` at one
   * receiver (the others wait their turn), claiming more as places free up
   * (or as `wake()` says there is more); resolves to when the next delivery
   * is due. A delivery that waited so long its claim may run out before
   * its attempt ends is left to be claimed again.
   */
  async function pass(): Promise<number | null> {
    retriesAt = [];
    const inFlight = new Set<Promise<void>>();
    const busy = new Map<string, number>();
    const waiting = new Map<string, { delivery: WebhookDelivery; claimedAt: number }[]>();
    let waitingCount = 0;
    let exhausted = false;
    let nextDueAt: number | null = null;

    const launch = (delivery: WebhookDelivery, receiver: string) => {
      busy.set(receiver, (busy.get(receiver) ?? 0) + 1);
      const running: Promise<void> = attempt(delivery)
        .catch((error) => warn(`Webhook delivery ${delivery.id} could not be recorded: ${error}`))
        .finally(() => {
          inFlight.delete(running);
          busy.set(receiver, (busy.get(receiver) ?? 1) - 1);
          startWaiting(receiver);
        });
      inFlight.add(running);
    };
    /** Starts the receiver's waiting deliveries while it has places, dropping stale claims. */
    const startWaiting = (receiver: string) => {
      const queue = waiting.get(receiver) ?? [];
      while (queue.length && (busy.get(receiver) ?? 0) < MAX_PER_RECEIVER && !stopped) {
        const { delivery, claimedAt } = queue.shift()!;
        waitingCount--;
        if (stale(claimedAt)) retriesAt.push(claimedAt + leaseMs);
        else launch(delivery, receiver);
      }
      if (!queue.length) waiting.delete(receiver);
    };
    const stale = (claimedAt: number) => Date.now() - claimedAt > leaseMs - options.timeoutMs;
    /** Forgets waiting deliveries whose claims may run out first (claimed again later). */
    const dropStale = () => {
      for (const [receiver, queue] of waiting) {
        const kept = queue.filter((w) => !stale(w.claimedAt));
        for (const w of queue) if (stale(w.claimedAt)) retriesAt.push(w.claimedAt + leaseMs);
        waitingCount -= queue.length - kept.length;
        if (kept.length) waiting.set(receiver, kept);
        else waiting.delete(receiver);
      }
    };

    for (;;) {
      if (needsFollow && !stopped) {
        await follow();
        exhausted = false;
      }
      dropStale();
      const room = Math.min(MAX_IN_FLIGHT - inFlight.size, MAX_WAITING - waitingCount);
      if (!exhausted && room > 0 && !stopped) {
        const claimedAt = Date.now();
        const claim = await store.claimDue(consumer, claimedAt, leaseMs, room);
        nextDueAt = claim.nextDueAt;
        exhausted = claim.claimed.length < room;
        for (const delivery of claim.claimed) {
          const receiver = receiverOf(delivery.url);
          if ((busy.get(receiver) ?? 0) < MAX_PER_RECEIVER) launch(delivery, receiver);
          else {
            waiting.set(receiver, [...(waiting.get(receiver) ?? []), { delivery, claimedAt }]);
            waitingCount++;
          }
        }
        continue;
      }
      if (stopped) {
        // Left claimed: the claims run out (or, in embedded mode, are released at the next start).
        waiting.clear();
        waitingCount = 0;
      }
      const idle = inFlight.size === 0 && waitingCount === 0;
      if (idle && (exhausted || stopped) && !(needsFollow && !stopped)) break;
      // An attempt ending frees a place (claimed again above unless nothing more was due); a
      // wake() may bring new deliveries (the log is read again above).
      await Promise.race([...inFlight, kicked()]);
    }
    const times = [...retriesAt, ...(nextDueAt === null ? [] : [nextDueAt])];
    return times.length ? Math.min(...times) : null;
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
      kick();
      run();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      stopping.abort();
      kick();
      await running;
    },
  };
}

/** The receiver a delivery goes to: its URL's scheme, host and port. */
function receiverOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
