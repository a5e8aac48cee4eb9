import assert from "node:assert/strict";
import { createApiKey, verifyApiKey } from "./api_keys.ts";
import { openKeyStore, parseKeyRecords, readKeyFile, writeKeyFile } from "./key_store.ts";

Deno.test("keys written to the file are found, and a revoked one is refused, while the store is open", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/api_keys.json`;
  try {
    const env = await createApiKey({ name: "from env", scopes: ["read"], meters: null });
    const store = await openKeyStore({ fromEnv: [env.record], file, recheckMs: 0 });
    assert.equal(store.count(), 1);
    assert.equal((await verifyApiKey(store.get, env.key))?.name, "from env");
    const made = await createApiKey({ name: "made later", scopes: ["train"], meters: ["b1*"] });
    await writeKeyFile(file, [made.record]);
    assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
    assert.equal((await verifyApiKey(store.get, made.key))?.name, "made later");
    await writeKeyFile(file, []);
    assert.equal(await verifyApiKey(store.get, made.key), null, "revoked");
    assert.deepEqual(await readKeyFile(`${dir}/none.json`), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bad key records are refused naming where and what", () => {
  assert.throws(() => parseKeyRecords("{", "API_KEYS"), /API_KEYS is not valid JSON/);
  assert.throws(() => parseKeyRecords('{"a":1}', "API_KEYS"), /should be a JSON list/);
  assert.throws(
    () => parseKeyRecords('[{"id":"x"}]', "f.json"),
    /in f\.json has no 8-hex-digit id/,
  );
});
