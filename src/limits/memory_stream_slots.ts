/**
 * Stream slots in process, for embedded mode: per key, slot ids with their
 * expiry. Expired slots are dropped when the key is next asked about, and a
 * key with no slots left is forgotten.
 *
 * @module
 */
import {
  DEFAULT_SLOT_TTL_MS,
  heldSlot,
  type SlotStore,
  type StreamSlotOptions,
  type StreamSlots,
  untrackedSlot,
} from "./stream_slots.ts";

/** Slots of every key: key → slot id → expiry (epoch ms). Shareable between instances. */
export type MemorySlotTable = Map<string, Map<string, number>>;

/** Creates the in-process slots, on `table` (a new one unless given). */
export function createMemoryStreamSlots(
  options: StreamSlotOptions & { table?: MemorySlotTable },
): StreamSlots {
  const table: MemorySlotTable = options.table ?? new Map();
  const ttlMs = options.ttlMs ?? DEFAULT_SLOT_TTL_MS;
  const heartbeats = new Set<() => void>();
  const live = (key: string): Map<string, number> | undefined => {
    const slots = table.get(key);
    if (!slots) return undefined;
    const now = Date.now();
    for (const [id, expiry] of slots) if (expiry <= now) slots.delete(id);
    if (slots.size === 0) table.delete(key);
    return slots.size ? slots : undefined;
  };
  const store: SlotStore = {
    renew(key, id, ttl) {
      const slots = live(key) ?? new Map<string, number>();
      const held = slots.has(id);
      slots.set(id, Date.now() + ttl); // an expired slot whose stream is open counts again
      table.set(key, slots);
      return Promise.resolve(held);
    },
    release(key, id) {
      const slots = table.get(key);
      slots?.delete(id);
      if (slots?.size === 0) table.delete(key);
      return Promise.resolve();
    },
  };
  return {
    limit: options.limit,
    acquire(key) {
      if (options.limit <= 0) {
        return Promise.resolve({
          acquired: true,
          slot: untrackedSlot(),
          held: 0,
          limit: 0,
          retryAfterSeconds: 0,
          unavailable: false,
        });
      }
      const slots = live(key) ?? new Map<string, number>();
      if (slots.size >= options.limit) {
        const first = Math.min(...slots.values());
        return Promise.resolve({
          acquired: false,
          slot: null,
          held: slots.size,
          limit: options.limit,
          retryAfterSeconds: Math.max(1, Math.ceil((first - Date.now()) / 1000)),
          unavailable: false,
        });
      }
      const id = crypto.randomUUID();
      slots.set(id, Date.now() + ttlMs);
      const slot = heldSlot(store, key, id, ttlMs, heartbeats);
      table.set(key, slots);
      return Promise.resolve({
        acquired: true,
        slot,
        held: slots.size,
        limit: options.limit,
        retryAfterSeconds: 0,
        unavailable: false,
      });
    },
    held: (key) => Promise.resolve(live(key)?.size ?? 0),
    close() {
      for (const stop of heartbeats) stop();
      heartbeats.clear();
      return Promise.resolve();
    },
  };
}
