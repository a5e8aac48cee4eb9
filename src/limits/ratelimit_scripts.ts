/**
 * The Lua scripts `@upstash/ratelimit` sends for the limiter this project
 * uses (`fixedWindow`), read from the library itself when this module loads,
 * so the gateway's script policy follows the pinned version without a copy
 * of the text. The library does not export its scripts: a recording client
 * takes one `limit()` call, answers its `EVALSHA` with `NOSCRIPT`, and keeps
 * the script of the `EVAL` that follows, as a real client would see it.
 *
 * @module
 */
import { Ratelimit } from "@upstash/ratelimit";

/** How `redis_rate_limiter.ts` builds its limiter; the scripts recorded are those this one sends. */
export function fixedWindowLimiter(limit: number, windowSeconds: number) {
  return Ratelimit.fixedWindow(limit, `${windowSeconds} s`);
}

/** A script as the library sends it: its text, and the SHA-1 it first tries with `EVALSHA`. */
export interface LibraryScript {
  script: string;
  sha: string;
}

async function record(): Promise<LibraryScript[]> {
  const shas: string[] = [];
  const scripts: string[] = [];
  const recorder = {
    evalsha(sha: string) {
      shas.push(sha);
      return Promise.reject(new Error("NOSCRIPT No matching script (recording)"));
    },
    eval(script: string) {
      scripts.push(script);
      return Promise.resolve([1, 1]);
    },
    get: () => Promise.resolve(null),
    set: () => Promise.resolve("OK"),
  };
  const limiter = new Ratelimit({
    redis: recorder as unknown as ConstructorParameters<typeof Ratelimit>[0]["redis"],
    limiter: fixedWindowLimiter(1, 1),
    ephemeralCache: false,
    timeout: 0,
    analytics: false,
    enableTelemetry: false,
  });
  await limiter.limit("recording");
  if (scripts.length !== 1 || shas.length !== 1) {
    throw new Error(
      `@upstash/ratelimit sent ${shas.length} EVALSHA and ${scripts.length} EVAL for one limit(); this module expects one of each. Check the library version.`,
    );
  }
  return [{ script: scripts[0], sha: shas[0] }];
}

/** The scripts of `@upstash/ratelimit` the app runs (the fixed window's `limit`). */
export const RATELIMIT_SCRIPTS: readonly LibraryScript[] = await record();
