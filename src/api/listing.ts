/**
 * What the listings share: the page size, and cursors that are opaque to
 * clients (base64url of the broker's own cursor), refused with a `400` when
 * they were not handed out here.
 *
 * @module
 */
import { BadCursor } from "../broker/broker.ts";
import { decodeBase64Url, encodeBase64Url } from "../util/base64.ts";
import { ApiError, validationError } from "./errors.ts";

/** Items per page when `limit` is not given, and at most. */
export const PAGE = { default: 50, max: 200 } as const;

/** `limit` from the query string; a 422 when it is not a whole number in range. */
export function pageLimit(value: string | undefined): number {
  if (value === undefined) return PAGE.default;
  const limit = Number(value);
  if (!/^\d+$/.test(value) || limit < 1 || limit > PAGE.max) {
    throw validationError([{
      field: "limit",
      message: `must be a whole number, 1 to ${PAGE.max}`,
    }]);
  }
  return limit;
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
