/**
 * Who is asking: the one place that turns a presented credential into a
 * principal. API keys (`wk_…`) are looked up by id and compared as hashes in
 * constant time; anything else in `Authorization: Bearer` is tried as the
 * identity provider's JWT; stream tokens (`?token=`) are checked with the
 * service's own key.
 *
 * Authentication is on when a JWT secret or JWKS URL is configured, or when
 * at least one API key exists; the key file is read again when it changes,
 * so creating the first key with `deno task keys create` turns it on
 * without a restart (and revoking the last one turns it off).
 *
 * @module
 */
import type { Principal } from "../domain/principal.ts";
import { looksLikeApiKey, verifyApiKey } from "./api_keys.ts";
import { type JwtVerifier, TokenRefused } from "./jwt.ts";
import type { KeyStore } from "./key_store.ts";
import type { StreamPrincipal, StreamTokens } from "./stream_tokens.ts";

/** Proves principals; see the module comment. */
export interface Authenticator {
  /** True when requests must carry credentials. */
  enabled(): Promise<boolean>;
  /** What `enabled()` said last (for synchronous callers such as CORS). */
  enabledNow(): boolean;
  /** The principal of an `Authorization: Bearer` credential. @throws {TokenRefused} */
  bearer(credential: string): Promise<Principal>;
  /** The principal of a `?token=` stream token. @throws {TokenRefused} */
  streamToken(token: string): Promise<StreamPrincipal>;
  /** Mints stream tokens. */
  tokens: StreamTokens;
}

/** What the authenticator is built from. */
export interface AuthenticatorDeps {
  keys: KeyStore;
  /** The identity provider's JWTs; null when none is configured. */
  jwt: JwtVerifier | null;
  tokens: StreamTokens;
}

/** Builds the authenticator. */
export function createAuthenticator(deps: AuthenticatorDeps): Authenticator {
  let last = deps.jwt !== null || deps.keys.count() > 0;
  return {
    async enabled() {
      last = deps.jwt !== null || await deps.keys.size() > 0;
      return last;
    },
    enabledNow: () => last,
    async bearer(credential) {
      if (looksLikeApiKey(credential)) {
        const principal = await verifyApiKey(deps.keys.get, credential);
        if (!principal) {
          throw new TokenRefused(
            "The API key is not known here: it was revoked, mistyped, or made for another service. Create one with deno task keys create.",
          );
        }
        return principal;
      }
      if (!deps.jwt) {
        throw new TokenRefused(
          "The bearer credential is not an API key (they start with wk_), and this service accepts no JWTs (JWT_SECRET and JWT_JWKS_URL are not set).",
        );
      }
      return await deps.jwt(credential);
    },
    streamToken: (token) => deps.tokens.verify(token),
    tokens: deps.tokens,
  };
}
