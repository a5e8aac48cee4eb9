/**
 * Event ids in Redis stream form `<ms>-<seq>`: increasing, comparable, and
 * the same ids `XADD` hands out, so `Last-Event-ID` maps onto `XRANGE`.
 *
 * @module
 */

const PATTERN = /^(\d{1,15})-(\d{1,15})$/;

/** True when `id` has the `<ms>-<seq>` form. */
export function isEventId(id: string): boolean {
  return PATTERN.test(id);
}

/** Orders two event ids: negative when `a` comes first, 0 when equal. */
export function compareEventIds(a: string, b: string): number {
  if (a === b) return 0;
  const ad = a.indexOf("-");
  const bd = b.indexOf("-");
  return Number(a.slice(0, ad)) - Number(b.slice(0, bd)) ||
    Number(a.slice(ad + 1)) - Number(b.slice(bd + 1));
}

/**
 * Hands out increasing event ids the way Redis does for one stream: the
 * current millisecond, or the last id's millisecond with the next sequence
 * number when the clock has not moved on (or went back).
 */
export function createEventIdGenerator(
  now: () => number = Date.now,
): () => string {
  let lastMs = 0;
  let seq = 0;
  return () => {
    const ms = now();
    if (ms > lastMs) {
      lastMs = ms;
      seq = 0;
    } else {
      seq++;
    }
    return `${lastMs}-${seq}`;
  };
}

/** The time (epoch ms) in an event or stream id (`<ms>-<seq>`). */
export function eventIdMs(id: string): number {
  return Number(id.slice(0, id.indexOf("-")));
}
