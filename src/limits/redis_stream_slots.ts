/**
 * Stream slots in Redis, shared by every API instance: per key a sorted set
 * `{prefix}streams:{key}` of slot ids scored by expiry in Redis's clock.
 * Taking a slot is one script (`ACQUIRE_SLOT`: drop expired slots, count,
 * add under the cap), so two instances cannot both take the last one; the
 * set itself expires with its newest slot. The REST gateway runs these
 * scripts by default.
 *
 * When Redis cannot be reached, a stream is let through uncounted
 * (`unavailable: true`).
 *
 * @module
 */
import { Redis } from "@upstash/redis";
import { ACQUIRE_SLOT, RENEW_SLOT } from "./stream_slot_scripts.ts";
import {
  DEFAULT_SLOT_TTL_MS,
  heldSlot,
  type SlotStore,
  type StreamSlotOptions,
  type StreamSlots,
  untrackedSlot,
} from "./stream_slots.ts";

/** Options of the Redis slots. */
export interface RedisStreamSlotOptions extends StreamSlotOptions {
  /** The REST endpoint (Upstash, or the gateway) and its token. */
  url: string;
  token: string;
  /** Prefix of every key (default `wattcast:`, as the broker's). */
  keyPrefix?: string;
}

/** Creates the Redis slots. */
export function createRedisStreamSlots(options: RedisStreamSlotOptions): StreamSlots {
  const prefix = options.keyPrefix ?? "wattcast:";
  const ttlMs = options.ttlMs ?? DEFAULT_SLOT_TTL_MS;
  const redis = new Redis({
    url: options.url,
    token: options.token,
    enableTelemetry: false,
    automaticDeserialization: false,
    retry: { retries: 1, backoff: () => 50 },
  });
  const acquireScript = redis.createScript<[number, number, number?]>(ACQUIRE_SLOT);
  const renewScript = redis.createScript<number>(RENEW_SLOT);
  const setKey = (key: string) => `${prefix}streams:${key}`;
  const heartbeats = new Set<() => void>();
  const store: SlotStore = {
    async renew(key, id, ttl) {
      return (await renewScript.exec([setKey(key)], [id, String(ttl)])) === 1;
    },
    async release(key, id) {
      await redis.zrem(setKey(key), id);
    },
  };
  const uncounted = (unavailable: boolean) => ({
    acquired: true,
    slot: untrackedSlot(),
    held: 0,
    limit: options.limit,
    retryAfterSeconds: 0,
    unavailable,
  });
  return {
    limit: options.limit,
    async acquire(key) {
      if (options.limit <= 0) return uncounted(false);
      const id = crypto.randomUUID();
      let reply;
      try {
        reply = await acquireScript.exec(
          [setKey(key)],
          [id, String(options.limit), String(ttlMs)],
        );
      } catch {
        return uncounted(true);
      }
      const [taken, held, firstExpiresInMs] = reply.map(Number);
      if (taken !== 1) {
        return {
          acquired: false,
          slot: null,
          held,
          limit: options.limit,
          retryAfterSeconds: Math.max(1, Math.ceil((firstExpiresInMs ?? ttlMs) / 1000)),
          unavailable: false,
        };
      }
      return {
        acquired: true,
        slot: heldSlot(store, key, id, ttlMs, heartbeats),
        held,
        limit: options.limit,
        retryAfterSeconds: 0,
        unavailable: false,
      };
    },
    async held(key) {
      // Counted in Redis's clock, as the scripts do: expired slots not counted.
      const [seconds, micros] = await redis.time();
      const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
      return Number(await redis.zcount(setKey(key), `(${now}`, "+inf"));
    },
    close() {
      for (const stop of heartbeats) stop();
      heartbeats.clear();
      return Promise.resolve();
    },
  };
}
