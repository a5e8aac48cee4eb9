/**
 * Counts and times every call into a broker, in one place: a wrapper with
 * the same port, so the services, the tracker and the workers are not
 * edited to be measured. `/metrics` shows the figures by operation (the
 * port's method, such as `claimJob`), with the calls that threw.
 *
 * @module
 */
import type { Broker } from "./broker.ts";

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
      let failed = true;
      try {
        const result = await (broker[name] as (...a: unknown[]) => unknown)(...args);
        failed = false;
        return result;
      } finally {
        observe(name, (performance.now() - started) / 1000, failed);
      }
    };
  }
  return wrapped as unknown as Broker;
}
