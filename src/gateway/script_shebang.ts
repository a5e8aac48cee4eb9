/**
 * Runs scripts whose shebang names flags this Redis does not know.
 *
 * `@upstash/ratelimit` (2.1 and later) starts every script with
 * `#!lua flags=allow-key-locking`, a flag of Upstash's own server; a plain
 * `redis-server` refuses the script ("Unexpected flag in script shebang").
 * The gateway forwards such a script with the flags Redis 7.0 knows
 * (`no-writes`, `allow-oom`, `allow-stale`, `no-cluster`,
 * `allow-cross-slot-keys`) and drops the others: `#!lua flags=allow-key-locking`
 * becomes `#!lua`, a script that may write, which is what a script without
 * `no-writes` is anyway. (`allow-key-locking` lets Upstash run scripts on
 * different keys at once; Redis runs one script at a time regardless.)
 *
 * The client names the script by the SHA-1 of the text it sent; Redis names
 * the rewritten one by another. So `EVALSHA` of the original SHA is sent as
 * `EVALSHA` of the rewritten one, `SCRIPT LOAD` answers the original SHA, and
 * `SCRIPT EXISTS` asks about the rewritten ones: the client library's
 * EVALSHA-then-EVAL-on-NOSCRIPT fallback works as against Upstash. The map
 * holds the scripts seen since the gateway started and those it is given at
 * start; after a restart, a first `EVALSHA` gets `NOSCRIPT` and the client's
 * `EVAL` teaches the map again.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { RedisCommand } from "./commands.ts";

/** The shebang flags redis-server 7.0 accepts. */
export const REDIS_SCRIPT_FLAGS: ReadonlySet<string> = new Set([
  "no-writes",
  "allow-oom",
  "allow-stale",
  "no-cluster",
  "allow-cross-slot-keys",
]);

const SHEBANG = /^#!(\S*)([^\n]*)/;

function sha1(text: string): string {
  return createHash("sha1").update(text).digest("hex");
}

/**
 * The script with the flags Redis does not know dropped from its shebang
 * line; the same string when there is nothing to drop (no shebang, or only
 * known flags).
 */
export function rewriteShebang(script: string): string {
  const match = SHEBANG.exec(script);
  if (!match) return script;
  const [line, engine, rest] = match;
  const options = rest.trim().split(/\s+/).filter(Boolean);
  let changed = false;
  const kept = options.map((option) => {
    if (!option.startsWith("flags=")) return option;
    const flags = option.slice("flags=".length).split(",").filter(Boolean);
    const known = flags.filter((flag) => REDIS_SCRIPT_FLAGS.has(flag));
    if (known.length === flags.length) return option;
    changed = true;
    return known.length ? `flags=${known.join(",")}` : null;
  }).filter((option): option is string => option !== null);
  if (!changed) return script;
  return `#!${[engine, ...kept].join(" ")}${script.slice(line.length)}`;
}

/** A command as the gateway forwards it, and how to turn Redis's reply back. */
export interface Forwarded {
  command: RedisCommand;
  /** The reply as the client expects it. */
  reply(value: unknown): unknown;
}

/** Rewrites script commands for Redis, remembering which SHA-1 stands for which. */
export interface ScriptShebangs {
  /** The command to send in place of the client's. */
  forward(command: RedisCommand): Forwarded;
  /** Scripts whose rewritten form is known (for tests and the start-up log). */
  known(): number;
}

/** Rewritten scripts remembered at most. */
const MAX_KNOWN = 10_000;

const same = (value: unknown) => value;

/** Creates the rewriter, knowing `scripts` from the start. */
export function createScriptShebangs(scripts: readonly string[] = []): ScriptShebangs {
  /** Original SHA-1 → rewritten SHA-1, only for scripts that were rewritten. */
  const rewritten = new Map<string, string>();
  const learn = (script: string): string => {
    const forwarded = rewriteShebang(script);
    if (forwarded !== script) {
      // Bounded: with GATEWAY_SCRIPTS=any a client could send scripts without end.
      // A forgotten one is learned again from the client's EVAL after NOSCRIPT.
      if (rewritten.size >= MAX_KNOWN) rewritten.delete(rewritten.keys().next().value!);
      rewritten.set(sha1(script), sha1(forwarded));
    }
    return forwarded;
  };
  for (const script of scripts) learn(script);
  const bySha = (sha: string) => rewritten.get(sha.toLowerCase()) ?? sha;

  return {
    forward(command) {
      const name = command[0].toUpperCase();
      if ((name === "EVAL" || name === "EVAL_RO") && command.length > 1) {
        const [head, script, ...rest] = command;
        return { command: [head, learn(script), ...rest], reply: same };
      }
      if ((name === "EVALSHA" || name === "EVALSHA_RO") && command.length > 1) {
        const [head, sha, ...rest] = command;
        return { command: [head, bySha(sha), ...rest], reply: same };
      }
      if (name === "SCRIPT" && command.length > 2) {
        const sub = command[1].toUpperCase();
        if (sub === "LOAD") {
          const script = command[2];
          const forwarded = learn(script);
          if (forwarded === script) return { command, reply: same };
          const sha = sha1(script);
          return {
            command: [command[0], command[1], forwarded, ...command.slice(3)],
            // Redis answers the rewritten script's SHA-1; the client expects its own.
            reply: (value) => (value instanceof Error ? value : sha),
          };
        }
        if (sub === "EXISTS") {
          const [head, verb, ...shas] = command;
          return { command: [head, verb, ...shas.map(bySha)], reply: same };
        }
      }
      return { command, reply: same };
    },
    known: () => rewritten.size,
  };
}
