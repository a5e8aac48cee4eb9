/**
 * Builds the authenticator from the configuration: the API key store (the
 * `API_KEYS` variable and the key file), the JWT verifier when a secret or
 * JWKS URL is set, and the stream tokens' signing key.
 *
 * Every API instance must sign stream tokens with the same key, or a token
 * one minted is refused by the next. `STREAM_TOKEN_SECRET` sets it; without
 * it, a random key is made once and kept in the data directory
 * (`stream_token.key`, owner-readable only), or, with no data directory,
 * made per process: fine for one instance, and said at start-up.
 *
 * @module
 */
import { type Authenticator, createAuthenticator } from "./authenticator.ts";
import { createJwtVerifier, type JwtSettings } from "./jwt.ts";
import { openKeyStore } from "./key_store.ts";
import type { ApiKeyRecord } from "./api_keys.ts";
import { createStreamTokens } from "./stream_tokens.ts";
import { decodeBase64Url, encodeBase64Url } from "../util/base64.ts";

/** What the authenticator is configured from (the matching fields of `Config`). */
export interface AuthSettings {
  apiKeys: ApiKeyRecord[];
  apiKeysFile: string | null;
  jwt: JwtSettings | null;
  streamTokenSecret: string | null;
  dataDir: string | null;
}

/** The authenticator, and where its stream-token key came from (for the start-up line). */
export async function openAuthenticator(
  settings: AuthSettings,
): Promise<{ auth: Authenticator; keySource: "configured" | "data_dir" | "process" }> {
  const keys = await openKeyStore({ fromEnv: settings.apiKeys, file: settings.apiKeysFile });
  const jwt = settings.jwt ? createJwtVerifier(settings.jwt) : null;
  let key: Uint8Array;
  let keySource: "configured" | "data_dir" | "process";
  if (settings.streamTokenSecret) {
    key = new TextEncoder().encode(settings.streamTokenSecret);
    keySource = "configured";
  } else if (settings.dataDir) {
    key = await keptKey(`${settings.dataDir}/stream_token.key`);
    keySource = "data_dir";
  } else {
    key = crypto.getRandomValues(new Uint8Array(32));
    keySource = "process";
  }
  return { auth: createAuthenticator({ keys, jwt, tokens: createStreamTokens(key) }), keySource };
}

/** The key kept in `path`, made (32 random bytes, base64url) when there is none. */
async function keptKey(path: string): Promise<Uint8Array> {
  try {
    const key = decodeBase64Url((await Deno.readTextFile(path)).trim());
    if (key.byteLength >= 32) return key;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const key = crypto.getRandomValues(new Uint8Array(32));
  await Deno.mkdir(path.replace(/\/[^/]*$/, "") || ".", { recursive: true });
  // createNew: two processes starting together agree on the first one's key.
  try {
    await Deno.writeTextFile(path, `${encodeBase64Url(key)}\n`, { mode: 0o600, createNew: true });
    return key;
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    return decodeBase64Url((await Deno.readTextFile(path)).trim());
  }
}
