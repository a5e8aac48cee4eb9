/**
 * One Server-Sent Events frame: a `data:` line holding a value as JSON, an
 * `id:` line when the event has one, and the blank line that ends it.
 * `JSON.stringify` escapes line breaks, so the data is always one line and
 * no value can end a frame early or forge another.
 *
 * @module
 */

const encoder = new TextEncoder();

/** Encodes `value` as one SSE event, with `id` when given. */
export function sseFrame(value: unknown, id?: string): Uint8Array {
  return encoder.encode(
    `data: ${JSON.stringify(value)}\n${id === undefined ? "" : `id: ${id}\n`}\n`,
  );
}

/**
 * A frame with only a `retry:` field: the milliseconds an `EventSource`
 * waits before it reconnects, from then on. No event is dispatched.
 */
export function sseRetryFrame(ms: number): Uint8Array {
  return encoder.encode(`retry: ${Math.max(0, Math.round(ms))}\n\n`);
}
