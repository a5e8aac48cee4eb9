/**
 * JWTs from the team's identity provider, verified with `jose`: HS256 with
 * a shared secret, or RS256/ES256 from a JWKS URL (cached; fetched again
 * when a token names a key id it does not hold, so a key rotation is picked
 * up, at most once per cool-down). Only those algorithms are accepted, so
 * `alg: none` and algorithm confusion are refused; issuer and audience are
 * checked when configured, with a bounded clock skew.
 *
 * Claims: `sub` names the principal, the standard space-separated `scope`
 * gives its scopes (others, such as `openid`, are ignored), and a `meters`
 * claim (a list of id patterns, or one space-separated string) restricts it.
 *
 * @module
 */
import { createRemoteJWKSet, decodeProtectedHeader, type JWTPayload, jwtVerify } from "jose";
import { type Principal, type Scope, SCOPES } from "../domain/principal.ts";

/** How tokens are checked. */
export interface JwtSettings {
  /** HS256 shared secret; null when tokens are not signed that way. */
  secret: string | null;
  /** Where the provider publishes its public keys; null when none. */
  jwksUrl: string | null;
  issuer: string | null;
  audience: string | null;
  /** Clock skew allowed on `exp` and `nbf`, in seconds. */
  clockToleranceSeconds: number;
  /** Least time between two fetches of the JWKS (default 30 s). */
  jwksCooldownMs?: number;
}

/** A token that does not prove who sent it; `reason` is safe to show the client. */
export class TokenRefused extends Error {
  /** Creates the refusal. */
  constructor(readonly reason: string) {
    super(reason);
    this.name = "TokenRefused";
  }
}

/** Verifies a JWT to its principal. @throws {TokenRefused} */
export type JwtVerifier = (token: string) => Promise<Principal>;

/** Creates the verifier for the configured secret and/or JWKS URL. */
export function createJwtVerifier(settings: JwtSettings): JwtVerifier {
  const secret = settings.secret ? new TextEncoder().encode(settings.secret) : null;
  const jwks = settings.jwksUrl
    ? createRemoteJWKSet(new URL(settings.jwksUrl), {
      cacheMaxAge: 10 * 60_000,
      cooldownDuration: settings.jwksCooldownMs ?? 30_000,
      timeoutDuration: 5_000,
    })
    : null;
  const options = {
    issuer: settings.issuer ?? undefined,
    audience: settings.audience ?? undefined,
    clockTolerance: settings.clockToleranceSeconds,
  };

  return async (token) => {
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new TokenRefused("The bearer token is neither an API key nor a JWT.");
    }
    let payload: JWTPayload;
    try {
      if (alg === "HS256" && secret) {
        ({ payload } = await jwtVerify(token, secret, { ...options, algorithms: ["HS256"] }));
      } else if ((alg === "RS256" || alg === "ES256") && jwks) {
        ({ payload } = await jwtVerify(token, jwks, {
          ...options,
          algorithms: ["RS256", "ES256"],
        }));
      } else {
        throw new TokenRefused(
          `The token is signed with ${alg ?? "no algorithm"}, which this service does not accept (${
            [secret ? "HS256" : "", jwks ? "RS256, ES256" : ""].filter(Boolean).join(", ")
          }).`,
        );
      }
    } catch (error) {
      if (error instanceof TokenRefused) throw error;
      throw new TokenRefused(reasonOf(error));
    }
    return principalOf(payload);
  };
}

/** A jose error as a reason a client can act on. */
function reasonOf(error: unknown): string {
  const code = (error as { code?: string }).code;
  const claim = (error as { claim?: string }).claim;
  switch (code) {
    case "ERR_JWT_EXPIRED":
      return "The token has expired: get a new one from your identity provider.";
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      return `The token's ${claim ?? "claims"} claim is not what this service expects.`;
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return "The token's signature does not verify.";
    case "ERR_JWKS_NO_MATCHING_KEY":
      return "The token is signed with a key the identity provider does not publish.";
    case "ERR_JWKS_TIMEOUT":
    case "ERR_JOSE_GENERIC":
      return "The identity provider's keys could not be fetched; try again shortly.";
    default:
      return "The token is not a valid JWT for this service.";
  }
}

/** The principal a verified token's claims describe. @throws {TokenRefused} */
export function principalOf(payload: JWTPayload): Principal {
  if (typeof payload.sub !== "string" || payload.sub === "") {
    throw new TokenRefused("The token has no sub claim naming who it is for.");
  }
  const scopeText = typeof payload.scope === "string" ? payload.scope : "";
  const scopes = new Set(
    scopeText.split(/\s+/).filter((s): s is Scope => (SCOPES as readonly string[]).includes(s)),
  );
  const claim = payload.meters;
  let meters: string[] | null = null;
  if (typeof claim === "string") meters = claim.split(/\s+/).filter(Boolean);
  else if (Array.isArray(claim)) meters = claim.filter((m): m is string => typeof m === "string");
  else if (claim !== undefined) {
    throw new TokenRefused("The token's meters claim is neither a list nor a string.");
  }
  return { name: payload.sub, via: "jwt", scopes, meters };
}
