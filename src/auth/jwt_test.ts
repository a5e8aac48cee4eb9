import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, type JWK, SignJWT, UnsecuredJWT } from "jose";
import { createJwtVerifier, type JwtSettings, TokenRefused } from "./jwt.ts";

/** Whatever key type jose hands out, whichever CryptoKey typings are loaded. */
type KeyLike = Awaited<ReturnType<typeof generateKeyPair>>["publicKey"];

const SECRET = "a-shared-secret-of-the-team-32-bytes!";
const base: JwtSettings = {
  secret: SECRET,
  jwksUrl: null,
  issuer: "https://idp.example",
  audience: "wattcast",
  clockToleranceSeconds: 30,
};

function hs256(claims: Record<string, unknown>, secret = SECRET) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setIssuer("https://idp.example")
    .setAudience("wattcast")
    .setIssuedAt()
    .setExpirationTime("10m")
    .sign(new TextEncoder().encode(secret));
}

Deno.test("an HS256 token gives its sub, known scopes and meters", async () => {
  const verify = createJwtVerifier(base);
  const token = await hs256({ sub: "ana", scope: "openid read train", meters: ["b1*"] });
  const principal = await verify(token);
  assert.equal(principal.name, "ana");
  assert.equal(principal.via, "jwt");
  assert.deepEqual(principal.scopes, new Set(["read", "train"]));
  assert.deepEqual(principal.meters, ["b1*"]);
  assert.equal((await verify(await hs256({ sub: "bo", scope: "read" }))).meters, null);
});

Deno.test("bad signature, wrong issuer or audience, expiry and alg none are refused, saying why", async () => {
  const verify = createJwtVerifier(base);
  const refused = async (token: string, reason: RegExp) => {
    await assert.rejects(verify(token), (e) => e instanceof TokenRefused && reason.test(e.reason));
  };
  await refused(await hs256({ sub: "x" }, "another-secret-another-secret-123"), /signature/);
  await refused(
    await new SignJWT({ sub: "x" }).setProtectedHeader({ alg: "HS256" }).setIssuer("https://evil")
      .setAudience("wattcast").setExpirationTime("10m").sign(new TextEncoder().encode(SECRET)),
    /iss claim/,
  );
  await refused(
    await new SignJWT({ sub: "x" }).setProtectedHeader({ alg: "HS256" })
      .setIssuer("https://idp.example").setAudience("other").setExpirationTime("10m")
      .sign(new TextEncoder().encode(SECRET)),
    /aud claim/,
  );
  const expired = await new SignJWT({ sub: "x" }).setProtectedHeader({ alg: "HS256" })
    .setIssuer("https://idp.example").setAudience("wattcast")
    .setExpirationTime(Math.floor(Date.now() / 1000) - 120)
    .sign(new TextEncoder().encode(SECRET));
  await refused(expired, /expired/);
  const none = new UnsecuredJWT({ sub: "x", scope: "admin" }).setIssuer("https://idp.example")
    .setAudience("wattcast").encode();
  await refused(none, /none|does not accept/);
  await refused("not.a.jwt", /neither an API key nor a JWT|not a valid/);
  await refused(await hs256({ scope: "read" }), /no sub claim/);
});

Deno.test("RS256 keys come from the JWKS URL, and a rotated key is picked up", async () => {
  const first = await generateKeyPair("RS256");
  const second = await generateKeyPair("RS256");
  const jwk = async (key: KeyLike, kid: string): Promise<JWK> => ({
    ...await exportJWK(key),
    kid,
    alg: "RS256",
    use: "sig",
  });
  let published = [await jwk(first.publicKey, "k1")];
  let fetches = 0;
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, () => {
    fetches++;
    return Response.json({ keys: published });
  });
  try {
    const verify = createJwtVerifier({
      ...base,
      secret: null,
      jwksUrl: `http://127.0.0.1:${server.addr.port}/jwks.json`,
      jwksCooldownMs: 0,
    });
    const sign = (key: KeyLike, kid: string) =>
      new SignJWT({ sub: "svc", scope: "read" }).setProtectedHeader({ alg: "RS256", kid })
        .setIssuer("https://idp.example").setAudience("wattcast").setExpirationTime("5m")
        .sign(key);
    assert.equal((await verify(await sign(first.privateKey, "k1"))).name, "svc");
    assert.equal((await verify(await sign(first.privateKey, "k1"))).name, "svc");
    assert.equal(fetches, 1, "the key set is cached");
    await assert.rejects(verify(await sign(second.privateKey, "k2")), TokenRefused);
    published = [await jwk(first.publicKey, "k1"), await jwk(second.publicKey, "k2")];
    assert.equal((await verify(await sign(second.privateKey, "k2"))).name, "svc");
    // HS256 is not accepted when only a JWKS is configured.
    await assert.rejects(verify(await hs256({ sub: "x" })), /does not accept/);
  } finally {
    await server.shutdown();
  }
});
