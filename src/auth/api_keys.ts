/**
 * API keys: `wk_<id>_<secret>`, shown once when created and stored only as
 * a SHA-256 hash with a name, scopes and an optional meter restriction.
 * The id finds the record without scanning; the hash comparison is
 * constant-time. A key holds 192 random bits, so a fast hash is enough:
 * there is nothing to guess that a slow one would protect.
 *
 * @module
 */
import { timingSafeEqual } from "node:crypto";
import type { Principal, Scope } from "../domain/principal.ts";
import { encodeBase64Url } from "../util/base64.ts";

/** One key as configured: never the key itself. */
export interface ApiKeyRecord {
  /** Public part of the key, 8 hex digits: names it in listings and logs. */
  id: string;
  name: string;
  /** SHA-256 of the whole key, hex. */
  hash: string;
  scopes: Scope[];
  /** Meter id patterns it is restricted to; null for every meter. */
  meters: string[] | null;
  created_at: string;
}

const KEY = /^wk_([0-9a-f]{8})_([A-Za-z0-9_-]{32})$/;

/** SHA-256 of a key, hex. */
export async function hashKey(key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Makes a new key: the plain key (show it once) and the record to store. */
export async function createApiKey(
  options: { name: string; scopes: Scope[]; meters: string[] | null },
  now = new Date(),
): Promise<{ key: string; record: ApiKeyRecord }> {
  const id = [...crypto.getRandomValues(new Uint8Array(4))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  const key = `wk_${id}_${encodeBase64Url(crypto.getRandomValues(new Uint8Array(24)))}`;
  return {
    key,
    record: {
      id,
      name: options.name,
      hash: await hashKey(key),
      scopes: options.scopes,
      meters: options.meters,
      created_at: now.toISOString(),
    },
  };
}

/** True when `text` has the shape of an API key (so it is not tried as a JWT). */
export function looksLikeApiKey(text: string): boolean {
  return text.startsWith("wk_");
}

/** The principal of a presented key; null when no record matches it. */
export async function verifyApiKey(
  lookup: (id: string) => Promise<ApiKeyRecord | undefined> | ApiKeyRecord | undefined,
  presented: string,
): Promise<Principal | null> {
  const match = KEY.exec(presented);
  const record = match ? await lookup(match[1]) : undefined;
  const given = new TextEncoder().encode(await hashKey(presented));
  const stored = new TextEncoder().encode(record?.hash ?? "0".repeat(64));
  if (!timingSafeEqual(given, stored) || !record) return null;
  return {
    name: record.name,
    via: "api_key",
    scopes: new Set(record.scopes),
    meters: record.meters,
  };
}

/** Checks records read from configuration; the first problem, in words, or null. */
export function apiKeyRecordProblem(value: unknown): string | null {
  if (typeof value !== "object" || value === null) return "is not an object";
  const r = value as Record<string, unknown>;
  if (typeof r.id !== "string" || !/^[0-9a-f]{8}$/.test(r.id)) return "has no 8-hex-digit id";
  if (typeof r.name !== "string" || r.name.length === 0) return `${r.id} has no name`;
  if (typeof r.hash !== "string" || !/^[0-9a-f]{64}$/.test(r.hash)) {
    return `${r.id} has no SHA-256 hash (64 hex digits)`;
  }
  if (!Array.isArray(r.scopes) || !r.scopes.every((s) => ["read", "train", "admin"].includes(s))) {
    return `${r.id}'s scopes are not a list of read, train, admin`;
  }
  if (
    r.meters !== null &&
    !(Array.isArray(r.meters) && r.meters.every((m) => typeof m === "string" && m.length > 0))
  ) {
    return `${r.id}'s meters are neither null nor a list of id patterns`;
  }
  return null;
}
