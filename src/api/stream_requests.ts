/**
 * What every event stream endpoint reads from its request the same way:
 * the kinds of event asked for (`?events=`), and the answer when the
 * process already holds its maximum of streams.
 *
 * @module
 */
import { ApiError, validationError } from "./errors.ts";
import { EVENT_KINDS, type EventKind } from "./task_stream.ts";

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

/** The kinds of event `?events=` asks for (every kind without it); a 422 naming an unknown one. */
export function eventKinds(value: string | undefined): ReadonlySet<EventKind> {
  if (value === undefined) return new Set(EVENT_KINDS);
  const asked = value.split(",").map((kind) => kind.trim()).filter(Boolean);
  const unknown = asked.filter((kind) => !(EVENT_KINDS as readonly string[]).includes(kind));
  if (unknown.length || asked.length === 0) {
    throw validationError([{
      field: "events",
      message: `${
        unknown.length ? `${unknown.join(", ")} is not a kind of event; ` : ""
      }use one or more of ${EVENT_KINDS.join(", ")}, separated by commas`,
    }]);
  }
  return new Set(asked as EventKind[]);
}
