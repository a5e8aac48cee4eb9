/**
 * When a failed delivery is tried again: the Standard Webhooks schedule by
 * default (the first attempt at once, then after 5 s, 5 min, 30 min, 2 h,
 * 5 h, 10 h and 10 h), each delay spread by up to a tenth either way so
 * that deliveries that failed together do not all come back together.
 * `WEBHOOK_RETRY_SCHEDULE` replaces it (tests use fractions of a second).
 *
 * @module
 */

/** The delays after each failed attempt, in milliseconds. */
export type RetrySchedule = readonly number[];

/** The default schedule, as `WEBHOOK_RETRY_SCHEDULE` would write it. */
export const DEFAULT_RETRY_SCHEDULE = "5s,5m,30m,2h,5h,10h,10h";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Reads a schedule: delays separated by commas, each a number with a unit
 * (`ms`, `s`, `m`, `h`; seconds when none), at most 20, each at most a day.
 *
 * @throws {Error} naming the delay that cannot be read.
 */
export function parseRetrySchedule(text: string): RetrySchedule {
  const parts = text.split(",").map((p) => p.trim()).filter(Boolean);
  if (parts.length > 20) throw new Error("has more than 20 delays");
  return parts.map((part) => {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(part);
    const ms = match ? Number(match[1]) * UNIT_MS[match[2] ?? "s"] : NaN;
    if (!(ms >= 0 && ms <= 86_400_000)) {
      throw new Error(
        `"${part}" is not a delay: write numbers with a unit (ms, s, m, h) up to a day, separated by commas, such as ${DEFAULT_RETRY_SCHEDULE}`,
      );
    }
    return Math.round(ms);
  });
}

/**
 * The delay before the next attempt after `retries` failed ones in a row
 * (from 1), or null when the schedule is spent. `random` in [0, 1) spreads
 * it by up to 10 % either way.
 */
export function retryDelayMs(
  schedule: RetrySchedule,
  retries: number,
  random: () => number = Math.random,
): number | null {
  const base = schedule[retries - 1];
  if (base === undefined) return null;
  return Math.round(base * (0.9 + 0.2 * random()));
}
