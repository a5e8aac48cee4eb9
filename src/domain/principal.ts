/**
 * Who is asking, once authenticated: a name, scopes, and optionally the
 * meters it is restricted to. The vocabulary every layer shares; how a
 * principal is proved (API key, JWT, stream token) is in `src/auth/`.
 *
 * @module
 */
import type { MeterRef } from "./meter.ts";

/** What a principal may do. */
export const SCOPES = ["read", "train", "admin"] as const;

/** One scope: `read` (status, streams, listings, summaries, forecasts), `train` (start and cancel tasks, upload readings), `admin` (delete meters, manage keys and webhooks). */
export type Scope = typeof SCOPES[number];

/** An authenticated caller. */
export interface Principal {
  /** Who: an API key's name, a JWT's `sub`; shown in logs, never a secret. */
  name: string;
  /** How it proved itself. */
  via: "api_key" | "jwt" | "stream_token" | "anonymous";
  scopes: ReadonlySet<Scope>;
  /** Meter id patterns (`*` a wildcard) it is restricted to; null for every meter. */
  meters: readonly string[] | null;
  /** For a stream token: the only tasks it may stream (null: its all-task stream). */
  taskIds?: readonly string[] | null;
}

/** Everyone, when authentication is off. */
export const ANONYMOUS: Principal = {
  name: "anonymous",
  via: "anonymous",
  scopes: new Set(SCOPES),
  meters: null,
};

/** True when `id` matches `pattern`, where `*` stands for any run of characters. */
export function matchesPattern(pattern: string, id: string): boolean {
  const parts = pattern.split("*");
  if (parts.length === 1) return pattern === id;
  if (!id.startsWith(parts[0]) || !id.endsWith(parts.at(-1)!)) return false;
  let at = parts[0].length;
  const end = id.length - parts.at(-1)!.length;
  for (const part of parts.slice(1, -1)) {
    const found = id.indexOf(part, at);
    if (found < 0 || found + part.length > end) return false;
    at = found + part.length;
  }
  return at <= end;
}

/** True when the principal may see or touch this meter. */
export function mayUseMeter(principal: Principal, meter: Pick<MeterRef, "meter_id">): boolean {
  return principal.meters === null ||
    principal.meters.some((pattern) => matchesPattern(pattern, meter.meter_id));
}

/** Reads a comma- or space-separated list of scopes; null when one is not a scope. */
export function parseScopes(text: string): Set<Scope> | null {
  const words = text.split(/[\s,]+/).filter(Boolean);
  if (!words.every((w) => (SCOPES as readonly string[]).includes(w))) return null;
  return new Set(words as Scope[]);
}
