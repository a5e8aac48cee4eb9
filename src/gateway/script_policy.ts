/**
 * Which Lua scripts the gateway runs. Redis runs one script at a time and
 * nothing else meanwhile: one `while true do end` holds every client of the
 * server until it is killed. So by default (`project`) the gateway runs only
 * the project's own scripts (`PROJECT_SCRIPTS`: the Redis broker's in
 * `src/broker/redis_scripts.ts`, `redis_weather_scripts.ts` and
 * `redis_webhook_scripts.ts`, the stream slots' in
 * `src/limits/stream_slot_scripts.ts`, and the `@upstash/ratelimit` scripts
 * the rate limiter sends, read from the library in
 * `src/limits/ratelimit_scripts.ts`), recognised by their SHA-1 as the
 * client sent them, whether as `EVAL` or `EVALSHA`, and refuses other
 * scripts and Redis functions. `any` runs every script: Redis never stops
 * one by itself; past `busy-reply-threshold` it answers other clients BUSY
 * and accepts `SCRIPT KILL`, which the gateway sends on a connection of its
 * own (`gateway.ts`) so it reaches Redis (a script that has written cannot
 * be killed).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { REDIS_SCRIPTS } from "../broker/redis_scripts.ts";
import { WEATHER_SCRIPTS } from "../broker/redis_weather_scripts.ts";
import { WEBHOOK_SCRIPTS } from "../broker/redis_webhook_scripts.ts";
import { RATELIMIT_SCRIPTS } from "../limits/ratelimit_scripts.ts";
import { STREAM_SLOT_SCRIPTS } from "../limits/stream_slot_scripts.ts";
import { type RedisCommand, RefusedCommand } from "./commands.ts";

/** `project`: only the Redis broker's scripts; `any`: every script. */
export type ScriptPolicy = "project" | "any";

/** The SHA-1 of a script, as Redis names it. */
export function scriptSha(script: string): string {
  return createHash("sha1").update(script).digest("hex");
}

/** The scripts the project runs: the broker's, the stream slots', and `@upstash/ratelimit`'s. */
export const PROJECT_SCRIPTS: readonly string[] = [
  ...REDIS_SCRIPTS,
  ...WEATHER_SCRIPTS,
  ...WEBHOOK_SCRIPTS,
  ...STREAM_SLOT_SCRIPTS,
  ...RATELIMIT_SCRIPTS.map((s) => s.script),
];

/** The SHA-1s of the project's scripts. */
export const PROJECT_SCRIPT_SHAS: ReadonlySet<string> = new Set(PROJECT_SCRIPTS.map(scriptSha));

/**
 * Refuses a script or function call the policy does not allow.
 *
 * @throws {RefusedCommand} naming the script's SHA-1 and what to do.
 */
export function checkScript(
  command: RedisCommand,
  policy: ScriptPolicy,
  allowed: ReadonlySet<string> = PROJECT_SCRIPT_SHAS,
): void {
  if (policy === "any") return;
  const name = command[0].toUpperCase();
  let sha: string | null = null;
  if (name === "EVAL" || name === "EVAL_RO") sha = scriptSha(command[1] ?? "");
  else if (name === "EVALSHA" || name === "EVALSHA_RO") sha = (command[1] ?? "").toLowerCase();
  else if (
    name === "FCALL" || name === "FCALL_RO" ||
    (name === "FUNCTION" && ["LOAD", "RESTORE"].includes(command[1]?.toUpperCase() ?? ""))
  ) {
    throw new RefusedCommand(
      `ERR ${name} is not run by this gateway: Redis functions could hold the server for every client. Set GATEWAY_SCRIPTS=any on the gateway to allow them.`,
    );
  }
  if (sha !== null && !allowed.has(sha)) {
    throw new RefusedCommand(
      `ERR script ${sha} is not one of this gateway's Wattcast scripts, and it runs only those (a script holds Redis for every client while it runs). If the client is a Wattcast of another version, deploy the gateway from the same version; to allow any script, set GATEWAY_SCRIPTS=any on the gateway.`,
    );
  }
}
