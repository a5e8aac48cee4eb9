import assert from "node:assert/strict";
import { verifyApiKey } from "../src/auth/api_keys.ts";
import { readKeyFile } from "../src/auth/key_store.ts";

async function keys(dir: string, ...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-env", "keys/main.ts", ...args],
    cwd: new URL("..", import.meta.url),
    env: { DATA_DIR: dir, NO_COLOR: "1" },
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

Deno.test("deno task keys: create shows the key once, stores its hash; list and revoke", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const created = await keys(
      dir,
      "create",
      "--name",
      "ci",
      "--scopes",
      "train,read",
      "--meters",
      "b1*",
    );
    assert.equal(created.code, 0, created.stderr);
    const key = created.stdout.match(/wk_[0-9a-f]{8}_[A-Za-z0-9_-]{32}/)![0];
    const text = await Deno.readTextFile(`${dir}/api_keys.json`);
    assert.ok(!text.includes(key.slice(12)), "the file holds no key");
    const records = await readKeyFile(`${dir}/api_keys.json`);
    const principal = await verifyApiKey((id) => records.find((r) => r.id === id), key);
    assert.deepEqual(principal?.meters, ["b1*"]);

    const listed = await keys(dir, "list");
    assert.match(listed.stdout, new RegExp(`${records[0].id}  ci  train,read  b1\\*`));
    assert.ok(!listed.stdout.includes(key.slice(12)));

    assert.equal((await keys(dir, "revoke", records[0].id)).code, 0);
    assert.deepEqual(await readKeyFile(`${dir}/api_keys.json`), []);

    for (
      const bad of [
        ["create", "--scopes", "read"],
        ["create", "--name", "x", "--scopes", "write"],
        ["create", "--name", "x", "--scopes", "read", "--meters", "a/b"],
        ["revoke", "00000000"],
        ["frobnicate"],
        ["create", "--nme", "x"],
      ]
    ) {
      const result = await keys(dir, ...bad);
      assert.equal(result.code, 2, bad.join(" "));
      assert.match(result.stderr, /Usage:/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
