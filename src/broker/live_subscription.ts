/**
 * One pattern subscription through `@upstash/redis`, kept alive. The
 * client's subscriber says nothing when its stream ends (a gateway or Redis
 * restart, a dropped connection), so this checks the feed end to end: when
 * nothing has arrived for `livenessMs`, it publishes a ping on a channel the
 * pattern matches; if the ping does not come back by the next check, the
 * subscription is re-established and `onResync` tells readers to catch up
 * from the log.
 *
 * @module
 */
import type { Redis } from "@upstash/redis";
import { logger } from "../logging/logging.ts";

const log = logger("broker", "redis");

/** Settings of a live subscription. */
export interface LiveSubscriptionOptions {
  /** The pattern, such as `task_updates:*`. */
  pattern: string;
  /** A channel matched by the pattern, for liveness pings. */
  pingChannel: string;
  /** Quiet time after which the feed is checked with a ping. */
  livenessMs: number;
  /** Every message but pings. */
  onMessage(channel: string, message: string): void;
  /** The feed was re-established: messages may have been missed. */
  onResync(): void;
}

/** A subscription that repairs itself. */
export interface LiveSubscription {
  /** Resolves once the first subscription is confirmed. */
  ready: Promise<void>;
  /** Times the subscription was re-established. */
  reconnects(): number;
  /** Unsubscribes and stops checking. */
  close(): void;
}

type Subscriber = ReturnType<Redis["psubscribe"]>;

/** Subscribes to `pattern` and keeps the subscription alive. */
export function createLiveSubscription(
  redis: Redis,
  options: LiveSubscriptionOptions,
): LiveSubscription {
  const ready = Promise.withResolvers<void>();
  let subscriber: Subscriber | null = null;
  let confirmed = false;
  let closed = false;
  let reconnects = 0;
  let lastHeard = performance.now();
  let pingSent: string | null = null;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  function connect(isReconnect: boolean): void {
    if (closed) return;
    confirmed = false;
    pingSent = null;
    const sub = redis.psubscribe<string>([options.pattern]);
    subscriber = sub;
    sub.on("psubscribe", () => {
      if (sub !== subscriber) return;
      confirmed = true;
      lastHeard = performance.now();
      if (isReconnect) {
        log.warn(
          `Redis subscription to ${options.pattern} restored; catching up from the event logs.`,
        );
        options.onResync();
      }
      ready.resolve();
    });
    sub.on("pmessage", ({ channel, message }) => {
      if (sub !== subscriber) return;
      lastHeard = performance.now();
      if (channel === options.pingChannel) {
        if (String(message) === pingSent) pingSent = null;
        return;
      }
      options.onMessage(channel, String(message));
    });
    sub.on("error", () => {
      if (sub !== subscriber || closed) return;
      // The subscribe request itself failed (the client already retried):
      // try again shortly.
      clearTimeout(retryTimer);
      retryTimer = setTimeout(() => reconnect(), options.livenessMs);
    });
  }

  function reconnect(): void {
    if (closed) return;
    if (confirmed) {
      log.warn(
        `Redis subscription to ${options.pattern} went quiet and missed a ping; re-subscribing.`,
      );
    }
    reconnects++;
    const old = subscriber;
    subscriber = null;
    old?.unsubscribe().catch(() => {});
    connect(true);
  }

  const check = setInterval(() => {
    if (closed) return;
    if (!confirmed || pingSent !== null) {
      // Not confirmed within a period, or the last ping never came back.
      reconnect();
      return;
    }
    if (performance.now() - lastHeard >= options.livenessMs) {
      const nonce = crypto.randomUUID();
      pingSent = nonce;
      redis.publish(options.pingChannel, nonce).catch(() => {});
    }
  }, options.livenessMs);

  connect(false);

  return {
    ready: ready.promise,
    reconnects: () => reconnects,
    close() {
      closed = true;
      clearInterval(check);
      clearTimeout(retryTimer);
      subscriber?.unsubscribe().catch(() => {});
      subscriber = null;
      ready.reject(new Error("The subscription was closed before it was confirmed."));
      ready.promise.catch(() => {});
    },
  };
}
