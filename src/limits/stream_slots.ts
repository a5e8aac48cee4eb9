/**
 * The cap on event streams one principal holds open at once (default 20,
 * `STREAM_LIMIT_PER_PRINCIPAL`). Each open stream holds a slot; the slot is
 * renewed by its holder while the stream is open (a heartbeat every third of
 * its lifetime) and released when the stream closes. A slot that is not
 * renewed expires after `ttlMs`, so an API instance that crashes does not
 * leak its slots: they come free within a minute by default.
 *
 * Two implementations pass one conformance suite
 * (`stream_slots_conformance.ts`): in process (`memory_stream_slots.ts`) and
 * in Redis, shared by every API instance (`redis_stream_slots.ts`: a sorted
 * set per principal, slot ids scored by expiry).
 *
 * When Redis cannot be reached, opening a stream is let through
 * (`unavailable: true`, no slot counted): streams are reads, and fail open.
 *
 * @module
 */

/** Open streams per principal when nothing is configured. */
export const DEFAULT_STREAM_LIMIT = 20;

/** Milliseconds a slot lives without renewal, by default. */
export const DEFAULT_SLOT_TTL_MS = 60_000;

/** Settings of the stream slots. */
export interface StreamSlotOptions {
  /** Slots one key may hold at once; 0 for no cap. */
  limit: number;
  /** Milliseconds a slot lives without renewal (default 60,000); renewed every third of it. */
  ttlMs?: number;
}

/** A held slot: one open stream. */
export interface StreamSlot {
  readonly id: string;
  /** Extends the slot now (the heartbeat does this on its own); false once released. */
  renew(): Promise<boolean>;
  /** Gives the slot back and stops its heartbeat; safe to call more than once. */
  release(): Promise<void>;
}

/** The answer to a request for a slot. */
export interface SlotResult {
  /** Go ahead and open the stream; release `slot` when it closes. */
  acquired: boolean;
  /** The slot, when acquired (a no-op slot when nothing is counted: no cap, or store unreachable). */
  slot: StreamSlot | null;
  /** Slots the key holds now, this one included when acquired. */
  held: number;
  /** The cap (0: none). */
  limit: number;
  /** When refused, whole seconds until the oldest slot expires at the latest (at least 1). */
  retryAfterSeconds: number;
  /** The store could not be reached; the stream is let through uncounted. */
  unavailable: boolean;
}

/** Counts open streams per key. */
export interface StreamSlots {
  readonly limit: number;
  /** Takes a slot for `key` (a principal's name; the client address without authentication). */
  acquire(key: string): Promise<SlotResult>;
  /** Slots `key` holds now (expired ones not counted). */
  held(key: string): Promise<number>;
  /**
   * Stops every heartbeat, without releasing: slots still held expire after
   * their lifetime, as after a crash. Release slots as their streams close.
   */
  close(): Promise<void>;
}

/** A slot that counts nothing. */
export function untrackedSlot(): StreamSlot {
  let released = false;
  return {
    id: crypto.randomUUID(),
    renew: () => Promise.resolve(!released),
    release() {
      released = true;
      return Promise.resolve();
    },
  };
}

/** How a held slot is kept alive and given back, in its store. */
export interface SlotStore {
  renew(key: string, id: string, ttlMs: number): Promise<boolean>;
  release(key: string, id: string): Promise<void>;
}

/**
 * The slot `id`, taken in the store, as its holder sees it: it renews itself every third of `ttlMs` until released (or until
 * `heartbeats` is cleared by `close()`). A renewal in flight is awaited
 * before the release, so it cannot bring the slot back.
 */
export function heldSlot(
  store: SlotStore,
  key: string,
  id: string,
  ttlMs: number,
  heartbeats: Set<() => void>,
): StreamSlot {
  let released = false;
  let renewing: Promise<boolean> = Promise.resolve(true);
  const renew = () => {
    if (released) return Promise.resolve(false);
    renewing = renewing.then(() => released ? false : store.renew(key, id, ttlMs)).catch(() =>
      false
    );
    return renewing;
  };
  const timer = setInterval(() => void renew(), Math.max(10, Math.floor(ttlMs / 3)));
  Deno.unrefTimer(timer);
  const stop = () => clearInterval(timer);
  heartbeats.add(stop);
  return {
    id,
    renew,
    async release() {
      if (released) return;
      released = true;
      stop();
      heartbeats.delete(stop);
      await renewing;
      await store.release(key, id).catch(() => {}); // unreachable: it expires on its own
    },
  };
}
