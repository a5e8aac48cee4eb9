/**
 * Broker calls that ride out a Redis or gateway restart: retried with
 * exponential backoff (about 20 s in all) while the failure looks like the
 * transport or Redis being away, and reported as `BrokerTrouble` when it
 * lasts, so the failure policy can tell "the broker was away" from "the job
 * itself failed".
 *
 * @module
 */
import { TrainingError } from "../training/errors.ts";

/** A broker call that kept failing for transport reasons. */
export class BrokerTrouble extends Error {
  /** Creates the error; the message says which call failed and why. */
  constructor(message: string) {
    super(message);
    this.name = "BrokerTrouble";
  }
}

/** Retries after the first failure, before giving up. */
const RETRIES = 7;

/** Runs a broker call, retrying transient failures with backoff. */
export async function durably<T>(
  what: string,
  fn: () => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  for (let attempt = 0;; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!isTransient(error) || attempt >= RETRIES || signal?.aborted) {
        throw isTransient(error) ? new BrokerTrouble(`${what} failed: ${error}`) : error;
      }
      await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** attempt, 5000)));
    }
  }
}

/** Failures of the transport or of Redis being away, worth retrying. */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof TrainingError || error.message.includes("cannot move from")) return false;
  return /fetch|network|connect|ECONN|EPIPE|socket|closed|reset|timed? ?out|LOADING|Unable to parse response|Connection is closed|gateway|Stream isn't writeable/i
    .test(`${error.name} ${error.message}`);
}
