/**
 * A route's body limit: past `maxBytes`, a `413 body_too_large` in the one
 * error shape, naming the limit and what to send instead. Hono's
 * `bodyLimit` stops reading at the limit (and trusts a `Content-Length`
 * over it), so an oversized body is never read whole or parsed.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ApiError } from "./errors.ts";

/** The middleware refusing bodies over `maxBytes`; `advice` says what to send instead. */
export function limitBody(maxBytes: number, advice: string): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new ApiError(
        413,
        "body_too_large",
        `The request body is over ${sizeInWords(maxBytes)}; ${advice}`,
      );
    },
  });
}

/** A size as people write it: `16 MiB`, `64 KiB`, `300 bytes`. */
export function sizeInWords(bytes: number): string {
  const mib = 1024 * 1024;
  if (bytes >= mib && bytes % mib === 0) return `${bytes / mib} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}
