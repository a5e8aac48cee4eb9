/**
 * `POST /auth/stream-token`: mints a stream token, what a browser's
 * `EventSource` (which cannot send an `Authorization` header) puts in a
 * stream's URL as `?token=`. For named tasks, or without `task_ids` for the
 * caller's all-task stream (the dashboard); read-only, within the caller's
 * meters, accepted only on the stream endpoints.
 *
 * @module
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { StreamTokens } from "../auth/stream_tokens.ts";
import type { TaskEvent } from "../domain/task.ts";
import { checkMeter, principalOf } from "./access.ts";
import { ApiError, fieldProblems, validationError } from "./errors.ts";
import { errorResponses, jsonContent, validationHook } from "./openapi.ts";
import { MAX_STREAM_TASKS } from "./multi_stream.ts";
import { TASK_ID_PATTERN } from "./request_schemas.ts";
import { limitBody } from "./body_limit.ts";
import { parseJsonBody } from "./json_body.ts";

/** Largest body of `POST /auth/stream-token`: room for the most task ids a stream follows. */
const MAX_TOKEN_BODY_BYTES = 16 * 1024;

/** How long stream tokens hold. */
export interface StreamTokenTimes {
  /** Seconds after a task ends that its token still opens the task's stream. */
  afterEndSeconds: number;
  /** Seconds a token holds at most, whatever its tasks do. */
  maxSeconds: number;
}

/** What the route needs. */
export interface AuthRoutesDeps {
  tokens: StreamTokens;
  /** A task's state; null when unknown. */
  taskOf(taskId: string): Promise<TaskEvent | null>;
  times: StreamTokenTimes;
}

const requestSchema = z.strictObject({
  task_ids: z.array(z.string().regex(TASK_ID_PATTERN, "must be a task id (a UUID)"))
    .min(1).max(MAX_STREAM_TASKS).optional().meta({
      description: `1 to ${MAX_STREAM_TASKS} tasks; leave out for the caller's all-task stream`,
    }),
}).meta({ id: "StreamTokenRequest" });

/** A minted token and where it opens. */
export const streamTokenSchema = z.object({
  token: z.string().meta({ description: "Put in the stream's URL as `?token=`" }),
  expires_at: z.string().meta({ description: "ISO 8601; a task's token also ends when it does" }),
  task_ids: z.array(z.string()).nullable().meta({
    description: "The tasks it opens; null for the all-task stream",
  }),
  stream_url: z.string().meta({ description: "A stream URL with the token in it" }),
}).meta({ id: "StreamToken" });

/** `POST /auth/stream-token`. */
export const streamTokenRoute = createRoute({
  method: "post",
  path: "/stream-token",
  tags: ["auth"],
  summary: "Mint a stream token for a browser's EventSource",
  description:
    "Only when authentication is on. The token is read-only, limited to the caller's meters, and opens only the stream endpoints (`?token=`).",
  request: { body: { required: false, content: jsonContent(requestSchema) } },
  responses: {
    201: { description: "The token", content: jsonContent(streamTokenSchema) },
    ...errorResponses({
      404: "A task is unknown or expired (`task_not_found`)",
      413: "The body is over 16 KiB (`body_too_large`)",
      422: "A bad body (`validation_failed`): not JSON, a key given twice, a bad task id",
    }),
  },
});

/** Mints a token for the caller; `taskIds` null for its all-task stream. */
export async function mintFor(
  deps: Pick<AuthRoutesDeps, "tokens" | "times">,
  name: string,
  meters: readonly string[] | null,
  taskIds: string[] | null,
): Promise<z.infer<typeof streamTokenSchema>> {
  const seconds = taskIds === null ? deps.times.afterEndSeconds : deps.times.maxSeconds;
  const expiresAt = new Date(Math.floor(Date.now() / 1000 + seconds) * 1000);
  const token = await deps.tokens.mint({
    taskIds,
    meters: meters === null ? null : [...meters],
    name,
    afterEndSeconds: deps.times.afterEndSeconds,
    expiresAt,
  });
  const path = taskIds === null
    ? "/trainmodel/events"
    : taskIds.length === 1
    ? `/trainmodel/stream/${taskIds[0]}`
    : `/trainmodel/stream?task_ids=${taskIds.join(",")}`;
  return {
    token,
    expires_at: expiresAt.toISOString(),
    task_ids: taskIds,
    stream_url: `${path}${path.includes("?") ? "&" : "?"}token=${token}`,
  };
}

/** Builds the `/auth` routes. */
export function createAuthRoutes(deps: AuthRoutesDeps): OpenAPIHono {
  const routes = new OpenAPIHono({ strict: false, defaultHook: validationHook });
  routes.openAPIRegistry.registerPath(streamTokenRoute);
  routes.post(
    "/stream-token",
    limitBody(MAX_TOKEN_BODY_BYTES, `a token request names at most ${MAX_STREAM_TASKS} tasks.`),
  );
  routes.post("/stream-token", async (c) => {
    const text = await c.req.text();
    // Strict: a key given twice is named, not settled by whichever came last.
    const body: unknown = text.trim() ? parseJsonBody(text, '{"task_ids": []}') : {};
    const parsed = requestSchema.safeParse(body);
    if (!parsed.success) throw validationError(fieldProblems(parsed.error));
    const principal = principalOf(c);
    const taskIds = parsed.data.task_ids ?? null;
    for (const id of taskIds ?? []) {
      const current = await deps.taskOf(id);
      if (!current) {
        throw new ApiError(404, "task_not_found", `Training task ${id} is unknown or expired.`);
      }
      checkMeter(c, current.task);
    }
    return c.json(
      await mintFor(deps, principal.name, principal.meters, taskIds && [...new Set(taskIds)]),
      201,
    );
  });
  return routes;
}
