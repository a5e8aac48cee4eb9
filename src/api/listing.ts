/**
 * What the listings share: the page size, and cursors that are opaque to
 * clients (base64url of the broker's own cursor), refused with a `400` when
 * they were not handed out here.
 *
 * @module
 */
import { z } from "zod";
import { BadCursor } from "../broker/broker.ts";
import { decodeBase64Url, encodeBase64Url } from "../util/base64.ts";
import { ApiError } from "./errors.ts";
import { problemCheck } from "./request_schemas.ts";

/** Items per page when `limit` is not given, and at most. */
export const PAGE = { default: 50, max: 200 } as const;

/** What is wrong with a `limit` value, in words; null when it is fine. */
export function pageLimitProblem(value: string): string | null {
  const limit = Number(value);
  if (/^\d+$/.test(value) && limit >= 1 && limit <= PAGE.max) return null;
  return `must be a whole number, 1 to ${PAGE.max}`;
}

/** `?limit=&cursor=` of a listing (the cursor is checked when the page is read). */
export const pageQuerySchema = z.object({
  limit: z.string().check(problemCheck(pageLimitProblem)).optional().meta({
    description: "Items per page",
    type: "integer",
    minimum: 1,
    maximum: PAGE.max,
    default: PAGE.default,
  }),
  cursor: z.string().optional().meta({
    description:
      "The `next_cursor` of the previous page, as it is; a cursor not handed out here is a 400",
  }),
});

/** `limit` from a query string checked by `pageQuerySchema`. */
export function pageLimit(value: string | undefined): number {
  return value === undefined ? PAGE.default : Number(value);
}

/** The broker's cursor inside a client's `cursor`; null without one. */
export function openCursor(value: string | undefined): string | null {
  if (value === undefined || value === "") return null;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(decodeBase64Url(value));
  } catch {
    throw badCursor();
  }
}

/** A client's `cursor` for the broker's; null stays null (no next page). */
export function sealCursor(cursor: string | null): string | null {
  if (cursor === null) return null;
  return encodeBase64Url(new TextEncoder().encode(cursor));
}

/** Runs a listing, turning a cursor the broker does not know into a `400`. */
export async function listing<T>(list: () => Promise<T>): Promise<T> {
  try {
    return await list();
  } catch (error) {
    if (error instanceof BadCursor) throw badCursor();
    throw error;
  }
}

function badCursor(): ApiError {
  return new ApiError(
    400,
    "bad_cursor",
    "The cursor is not one this listing handed out. Start again without it, and pass on the next_cursor of each page as it is.",
  );
}

/** Broker reads a listing makes at most for one page when some items are left out. */
const FILL_READS = 10;

/**
 * A page of the items `keep` lets through (those a meter-restricted caller
 * may see): reads on until `limit` items are kept or the listing ends, each
 * read asking only for the items still missing, so the broker's cursor after
 * the last read is exact. After `FILL_READS` reads the page may be short;
 * `next` still goes on from there.
 */
export async function keptPage<T>(
  read: (after: string | null, limit: number) => Promise<{ items: T[]; next: string | null }>,
  keep: (item: T) => boolean,
  limit: number,
  after: string | null,
): Promise<{ items: T[]; next: string | null }> {
  const items: T[] = [];
  let next = after;
  for (let reads = 0; reads < FILL_READS; reads++) {
    const page = await listing(() => read(next, limit - items.length));
    items.push(...page.items.filter(keep));
    next = page.next;
    if (next === null || items.length >= limit) break;
  }
  return { items, next };
}
