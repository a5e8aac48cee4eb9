/**
 * Stream tokens: what a browser's `EventSource`, which cannot send an
 * `Authorization` header, puts in the URL (`?token=`). Each is narrow and
 * short-lived: read-only, for named tasks (or the holder's all-task
 * stream, within its meters), accepted only on the stream endpoints, and
 * signed (HS256, `jose`) with a key of the service's own, with an audience
 * of its own, so neither an identity provider's token nor a stream token
 * passes for the other.
 *
 * A task's token lasts until `afterEndSeconds` after the task ends (the
 * stream route checks that against the task), and never past `exp`.
 *
 * @module
 */
import { jwtVerify, SignJWT } from "jose";
import type { Principal } from "../domain/principal.ts";
import { TokenRefused } from "./jwt.ts";

const AUDIENCE = "wattcast:stream";

/** What a stream token allows. */
export interface StreamGrant {
  /** The tasks it may stream; null for the holder's all-task stream. */
  taskIds: string[] | null;
  /** The holder's meter restriction, carried over. */
  meters: string[] | null;
  /** The holder's name, for logs. */
  name: string;
  /** Seconds after a task ends that the token still opens its stream. */
  afterEndSeconds: number;
  /** When it stops opening streams at the latest. */
  expiresAt: Date;
}

/** A verified stream token's principal, with how long after a task's end it holds. */
export interface StreamPrincipal extends Principal {
  via: "stream_token";
  afterEndSeconds: number;
}

/** Mints and checks stream tokens with one key. */
export interface StreamTokens {
  mint(grant: StreamGrant): Promise<string>;
  /** @throws {TokenRefused} */
  verify(token: string): Promise<StreamPrincipal>;
}

/** Creates the minter and checker; `key` is at least 32 random bytes, shared by every instance. */
export function createStreamTokens(key: Uint8Array): StreamTokens {
  if (key.byteLength < 32) throw new RangeError("A stream token key needs at least 32 bytes.");
  return {
    mint(grant) {
      return new SignJWT({
        scope: "read",
        task_ids: grant.taskIds,
        meters: grant.meters,
        after_end: grant.afterEndSeconds,
      })
        .setProtectedHeader({ alg: "HS256", typ: "stream+jwt" })
        .setSubject(grant.name)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(Math.floor(grant.expiresAt.getTime() / 1000))
        .sign(key);
    },

    async verify(token) {
      let payload;
      try {
        ({ payload } = await jwtVerify(token, key, {
          algorithms: ["HS256"],
          audience: AUDIENCE,
          typ: "stream+jwt",
        }));
      } catch (error) {
        const expired = (error as { code?: string }).code === "ERR_JWT_EXPIRED";
        throw new TokenRefused(
          expired
            ? "The stream token has expired: mint a new one with POST /auth/stream-token (or start the task again)."
            : "The stream token is not one this service issued.",
        );
      }
      const taskIds = payload.task_ids;
      const meters = payload.meters;
      return {
        name: String(payload.sub ?? "stream token"),
        via: "stream_token",
        scopes: new Set(["read"]),
        meters: Array.isArray(meters) ? meters.map(String) : null,
        taskIds: Array.isArray(taskIds) ? taskIds.map(String) : null,
        afterEndSeconds: Number(payload.after_end ?? 0),
      };
    },
  };
}
