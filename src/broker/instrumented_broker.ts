/**
 * Counts and times every call into a broker, in one place: a wrapper with
 * the same port, so the services, the tracker and the workers are not
 * edited to be measured. `/metrics` shows the figures by operation (the
 * port's method, such as `claimJob`; the webhook and weather stores' as
 * `webhooks.claimDue` and `weather.meterSite`), with the calls that threw; with `DEBUG=true`
 * each call is a debug line (`wattcast.broker`).
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
  const wrapped = instrumentMethods(broker, broker.kind, "", observe);
  // The stores' calls too, as `webhooks.claimDue`, `weather.meterSite` and so on.
  for (const store of ["webhooks", "weather"] as const) {
    Object.defineProperty(wrapped, store, {
      value: instrumentMethods(broker[store], broker.kind, `${store}.`, observe),
      enumerable: true,
    });
  }
  return wrapped as unknown as Broker;
}

/** `target`'s methods, each reported as `{prefix}{name}`; its other properties read through. */
function instrumentMethods<T extends object>(
  target: T,
  kind: string,
  prefix: string,
  observe: BrokerCallObserver,
): Record<string, unknown> {
  const wrapped: Record<string, unknown> = {};
  for (const name of Object.keys(target) as (keyof T & string)[]) {
    const value = target[name];
    if (typeof value !== "function") {
      Object.defineProperty(wrapped, name, {
        get: () => target[name],
        enumerable: true,
        configurable: true,
      });
      continue;
    }
    const operation = `${prefix}${name}`;
    wrapped[name] = async (...args: unknown[]) => {
      const started = performance.now();
      let failure: unknown = null;
      try {
        return await (target[name] as (...a: unknown[]) => unknown).apply(target, args);
      } catch (error) {
        failure = error;
        throw error;
      } finally {
        const seconds = (performance.now() - started) / 1000;
        observe(operation, seconds, failure !== null);
        if (log.isEnabledFor("debug")) debugLine(kind, operation, seconds, failure);
      }
    };
  }
  return wrapped;
}

/** One broker call as a debug line: `sqlite claimJob 0.4ms`, with the error of a failed one. */
function debugLine(kind: string, operation: string, seconds: number, failure: unknown): void {
  const ms = Math.round(seconds * 10_000) / 10;
  const fields = { broker: kind, operation, duration_ms: ms };
  if (failure === null) log.debug("{broker} {operation} {duration_ms}ms", fields);
  else {
    log.debug("{broker} {operation} failed after {duration_ms}ms: {error}", {
      ...fields,
      error: failure,
    });
  }
}
