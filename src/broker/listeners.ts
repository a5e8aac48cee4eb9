/**
 * In-process listeners (of the embedded brokers, and the event hub's
 * watchers): each is called in turn, and one that throws is logged without
 * keeping the others from hearing.
 *
 * @module
 */
import { logger } from "../logging/logging.ts";

const log = logger("broker");

/** Calls `call` for every listener; a throwing listener is logged as `what` and skipped. */
export function callEach<L>(
  listeners: Iterable<L>,
  call: (listener: L) => void,
  what: string,
): void {
  for (const listener of listeners) {
    try {
      call(listener);
    } catch (error) {
      log.error(`${what} failed: {error}`, { error });
    }
  }
}
