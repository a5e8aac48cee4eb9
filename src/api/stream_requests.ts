/**
 * The answer every event stream endpoint gives when the process already
 * holds its maximum of streams.
 *
 * @module
 */
import { ApiError } from "./errors.ts";

/** The `503` when this process holds its maximum of `max` streams. */
export function tooManyStreams(max: number): ApiError {
  return new ApiError(
    503,
    "too_many_streams",
    `This server holds its maximum of ${max} event streams. Reconnect in a few seconds (EventSource does so on its own), or to another API instance.`,
    null,
    { "Retry-After": "5" },
  );
}
