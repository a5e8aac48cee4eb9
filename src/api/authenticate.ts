/**
 * The authentication middleware: off until configured (see
 * `src/auth/authenticator.ts`), then every route but the public ones
 * (`route_scopes.ts`) needs `Authorization: Bearer <API key or JWT>`, or on
 * a stream endpoint `?token=<stream token>`. It answers `401` (no or bad
 * credentials, with `WWW-Authenticate`) or `403` (a valid principal without
 * the route's scope, or a stream token for other tasks), and records the
 * principal for the routes' meter checks (`access.ts`).
 *
 * A stream token for tasks opens only those tasks' streams, and only until
 * its `after_end` seconds after each has ended: a reconnect later is a
 * `401`, while a stream already open carries on to its end.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import type { Authenticator } from "../auth/authenticator.ts";
import { TokenRefused } from "../auth/jwt.ts";
import type { StreamPrincipal } from "../auth/stream_tokens.ts";
import type { Principal } from "../domain/principal.ts";
import { isFinal, type Task } from "../domain/task.ts";
import { setPrincipal } from "./access.ts";
import { ApiError } from "./errors.ts";
import { isPublic, isStreamPath, scopeFor } from "./route_scopes.ts";
import { taskIds } from "./request_schemas.ts";

/** What the middleware needs. */
export interface AuthenticateDeps {
  auth: Authenticator;
  /** A task's current state (for a stream token's tasks); null when unknown. */
  taskOf(taskId: string): Promise<Task | null>;
}

const REALM = 'Bearer realm="wattcast"';

function unauthorized(code: string, message: string, bad: boolean): ApiError {
  return new ApiError(401, code, message, null, {
    "WWW-Authenticate": bad ? `${REALM}, error="invalid_token"` : REALM,
  });
}

/** Builds the middleware. */
export function authenticate(deps: AuthenticateDeps): MiddlewareHandler {
  return async (c, next) => {
    const method = c.req.method;
    const path = c.req.path;
    if (isPublic(method, path) || !await deps.auth.enabled()) return await next();

    const stream = isStreamPath(path);
    const header = c.req.header("Authorization");
    const queryToken = c.req.query("token");
    let principal: Principal;
    try {
      if (header !== undefined) {
        const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
        if (!match) {
          throw new TokenRefused(
            "The Authorization header should be Bearer followed by an API key or a JWT.",
          );
        }
        principal = await deps.auth.bearer(match[1]);
      } else if (queryToken !== undefined) {
        if (!stream) {
          throw unauthorized(
            "token_not_accepted_here",
            `A ?token= stream token opens only the stream endpoints (/trainmodel/stream…, /trainmodel/events), not ${method} ${path}: send Authorization: Bearer <API key or JWT> instead.`,
            true,
          );
        }
        principal = await deps.auth.streamToken(queryToken);
      } else {
        throw unauthorized(
          "unauthorized",
          `${method} ${path} needs credentials: send Authorization: Bearer <API key or JWT>${
            stream ? ", or ?token=<stream token> from POST /auth/stream-token" : ""
          }.`,
          false,
        );
      }
    } catch (error) {
      if (!(error instanceof TokenRefused)) throw error;
      const expired = /expired/.test(error.reason);
      throw unauthorized(
        expired && queryToken !== undefined && header === undefined
          ? "stream_token_expired"
          : "invalid_credentials",
        error.reason,
        true,
      );
    }

    const scope = scopeFor(method, path);
    if (!principal.scopes.has(scope)) {
      throw new ApiError(
        403,
        "forbidden_scope",
        `${method} ${path} needs the ${scope} scope; ${principal.name} has ${
          [...principal.scopes].join(", ") || "none"
        }. Use a key or token with ${scope}.`,
      );
    }
    if (principal.via === "stream_token") {
      await checkStreamGrant(principal as StreamPrincipal, requestedTasks(path, c.req.query()));
    }
    setPrincipal(c, principal);
    await next();
  };

  async function checkStreamGrant(principal: StreamPrincipal, wanted: string[] | null) {
    const granted = principal.taskIds ?? null;
    if (granted === null) return; // the holder's all-task grant, within its meters
    const outside = wanted === null
      ? ["(every task)"]
      : wanted.filter((id) => !granted.includes(id));
    if (outside.length) {
      throw new ApiError(
        403,
        "forbidden_task",
        `This stream token opens only the streams of ${granted.join(", ")}, not ${
          outside.join(", ").slice(0, 300)
        }. Mint one for those tasks with POST /auth/stream-token.`,
      );
    }
    for (const id of wanted!) {
      const task = await deps.taskOf(id);
      if (!task || !isFinal(task.status)) continue;
      const until = Date.parse(task.updated_at) + principal.afterEndSeconds * 1000;
      if (Date.now() > until) {
        throw unauthorized(
          "stream_token_expired",
          `The stream token for task ${id} expired ${principal.afterEndSeconds} seconds after the task ended: mint a new one with POST /auth/stream-token.`,
          true,
        );
      }
    }
  }
}

/** The tasks a stream request names; null for the all-task stream. */
function requestedTasks(path: string, query: Record<string, string>): string[] | null {
  const single = /^\/trainmodel\/stream\/([^/]+)\/?$/.exec(path);
  if (single) {
    try {
      return [decodeURIComponent(single[1])];
    } catch {
      return [single[1]];
    }
  }
  if (/^\/trainmodel\/stream\/?$/.test(path)) {
    return taskIds(query.task_ids);
  }
  return null;
}
