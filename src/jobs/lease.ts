/**
 * Keeps a claimed job's lease alive while it runs: renews it every third of
 * the lease, and says so when the lease is lost (the job was reclaimed by
 * another worker, or acknowledged), so the job stops.
 *
 * @module
 */
import type { Broker, JobDelivery } from "../broker/broker.ts";
import { logger } from "../logging/logging.ts";

const log = logger("jobs");

/** What to keep alive, and what to do when it is lost. */
export interface LeaseOptions {
  broker: Broker;
  delivery: JobDelivery;
  consumer: string;
  leaseMs: number;
  /** Called once the broker says the lease is no longer ours. */
  onLost(): void;
}

/** Renews the lease until the returned function is called. */
export function keepLease(options: LeaseOptions): () => void {
  const { broker, delivery, consumer } = options;
  const timer = setInterval(async () => {
    try {
      if (!await broker.renewLease(delivery, consumer)) options.onLost();
    } catch (error) {
      // A broker blip: the next renewal tries again, well within the lease.
      log.error(`Could not renew the lease of task ${delivery.job.task_id}: {error}`, { error });
    }
  }, Math.max(50, options.leaseMs / 3));
  return () => clearInterval(timer);
}
