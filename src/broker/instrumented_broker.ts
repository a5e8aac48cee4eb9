/**
 * Counts and times every call into a broker, in one place: a wrapper with
 * the same port, so the services, the tracker and the workers are not
 * edited to be measured. `/metrics` shows the figures by operation (the
 * port's method, such as `claimJob`), with the calls that threw; with
 * `DEBUG=true` each call is a debug line (`wattcast.broker`).
 *
 * @module
 */
import type { Broker } from "./broker.ts";
import { logger } from "../logging/logging.ts";

const log = logger("broker");

/** Told of each finished broker call. */
export type BrokerCallObserver = (operation: string, seconds: number, failed: boolean) => void;

/** `broker` with each method call reported to `observe` once it settles. */
export function instrumentBroker(broker: Broker, observe: BrokerCallObserver): Broker {
  const wrapped: Record<string, unknown> = {};
  for (const name of Object.keys(broker) as (keyof Broker)[]) {
    const value = broker[name];
    if (typeof value !== "function") {
      Object.defineProperty(wrapped, name, { get: () => broker[name], enumerable: true });
      continue;
    }
    wrapped[name] = async (...args: unknown[]) => {
      const started = performance.now();
      let failure: unknown = null;
      try {
        return await (broker[name] as (...a: unknown[]) => unknown)(...args);
      } catch (error) {
        failure = error;
        throw error;
      } finally {
        const seconds = (performance.now() - started) / 1000;
        observe(name, seconds, failure !== null);
        if (log.isEnabledFor("debug")) debugLine(broker.kind, name, seconds, failure);
      }
    };
  }
  return wrapped as unknown as Broker;
}

/** One broker call as a debug line: `sqlite claimJob 0.4ms`, with the error of a failed one. */
function debugLine(kind: string, operation: string, seconds: number, failure: unknown): void {
  const ms = Math.round(seconds * 10_000) / 10;
  const fields = { broker: kind, operation, duration_ms: ms };
  if (failure === null) log.debug(`${kind} ${operation} ${ms}ms`, fields);
  else {log.debug(`${kind} ${operation} failed after ${ms}ms: {error}`, {
      ...fields,
      error: failure,
    });}
}
