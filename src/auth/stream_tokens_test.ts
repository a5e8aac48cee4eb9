import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { createStreamTokens } from "./stream_tokens.ts";
import { TokenRefused } from "./jwt.ts";

const key = crypto.getRandomValues(new Uint8Array(32));
const later = () => new Date(Date.now() + 3600_000);

Deno.test("a stream token carries its tasks, meters and holder, read-only", async () => {
  const tokens = createStreamTokens(key);
  const taskId = crypto.randomUUID();
  const token = await tokens.mint({
    taskIds: [taskId],
    meters: ["b1*"],
    name: "ana",
    afterEndSeconds: 3600,
    expiresAt: later(),
  });
  const principal = await tokens.verify(token);
  assert.deepEqual(principal.taskIds, [taskId]);
  assert.deepEqual(principal.meters, ["b1*"]);
  assert.deepEqual(principal.scopes, new Set(["read"]));
  assert.equal(principal.name, "ana");
  assert.equal(principal.afterEndSeconds, 3600);
  const all = await tokens.verify(
    await tokens.mint({
      taskIds: null,
      meters: null,
      name: "b",
      afterEndSeconds: 0,
      expiresAt: later(),
    }),
  );
  assert.equal(all.taskIds, null);
});

Deno.test("expired, foreign-key and look-alike tokens are refused", async () => {
  const tokens = createStreamTokens(key);
  const expired = await tokens.mint({
    taskIds: null,
    meters: null,
    name: "x",
    afterEndSeconds: 0,
    expiresAt: new Date(Date.now() - 1000),
  });
  await assert.rejects(
    tokens.verify(expired),
    (e) => e instanceof TokenRefused && /expired.*mint a new one/.test(e.reason),
  );
  const other = createStreamTokens(crypto.getRandomValues(new Uint8Array(32)));
  const foreign = await other.mint({
    taskIds: null,
    meters: null,
    name: "x",
    afterEndSeconds: 0,
    expiresAt: later(),
  });
  await assert.rejects(tokens.verify(foreign), /not one this service issued/);
  // A token signed with the same key but not a stream token (no audience, no type) is refused.
  const lookalike = await new SignJWT({ scope: "admin" }).setProtectedHeader({ alg: "HS256" })
    .setSubject("x").setExpirationTime("1h").sign(key);
  await assert.rejects(tokens.verify(lookalike), /not one this service issued/);
  assert.throws(() => createStreamTokens(new Uint8Array(8)), RangeError);
});
