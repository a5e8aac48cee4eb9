import assert from "node:assert/strict";
import { apiKeyRecordProblem, createApiKey, verifyApiKey } from "./api_keys.ts";

Deno.test("a created key verifies to its principal; its record holds no key", async () => {
  const { key, record } = await createApiKey({
    name: "ci",
    scopes: ["read", "train"],
    meters: ["b1*"],
  });
  assert.match(key, /^wk_[0-9a-f]{8}_[A-Za-z0-9_-]{32}$/);
  assert.ok(!JSON.stringify(record).includes(key.slice(12)), "the secret is not stored");
  assert.equal(apiKeyRecordProblem(record), null);
  const records = new Map([[record.id, record]]);
  const principal = await verifyApiKey((id) => records.get(id), key);
  assert.equal(principal?.name, "ci");
  assert.equal(principal?.via, "api_key");
  assert.deepEqual(principal?.scopes, new Set(["read", "train"]));
  assert.deepEqual(principal?.meters, ["b1*"]);
});

Deno.test("a wrong, altered or unknown key verifies to nothing", async () => {
  const { key, record } = await createApiKey({ name: "x", scopes: ["read"], meters: null });
  const records = new Map([[record.id, record]]);
  const flipped = key.slice(0, -1) + (key.endsWith("A") ? "B" : "A");
  for (
    const presented of [flipped, "wk_00000000_" + "A".repeat(32), "", "Bearer " + key, key + "x"]
  ) {
    assert.equal(await verifyApiKey((id) => records.get(id), presented), null, presented);
  }
});

Deno.test("configured records are checked, naming what is wrong", () => {
  assert.match(apiKeyRecordProblem({ id: "zz" })!, /8-hex-digit id/);
  assert.match(
    apiKeyRecordProblem({
      id: "0123abcd",
      name: "n",
      hash: "0".repeat(64),
      scopes: ["write"],
      meters: null,
    })!,
    /scopes/,
  );
});
