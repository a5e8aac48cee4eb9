import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createScriptShebangs, rewriteShebang } from "./script_shebang.ts";

const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");

Deno.test("shebang flags Redis does not know are dropped, the rest kept", () => {
  const body = "\n  return redis.call('INCR', KEYS[1])\n";
  const cases: [string, string][] = [
    ["#!lua flags=allow-key-locking", "#!lua"],
    ["#!lua flags=no-writes,allow-key-locking", "#!lua flags=no-writes"],
    ["#!lua flags=allow-key-locking,allow-oom,whatever", "#!lua flags=allow-oom"],
    ["#!lua name=x flags=allow-key-locking", "#!lua name=x"],
  ];
  for (const [shebang, expected] of cases) {
    assert.equal(rewriteShebang(shebang + body), expected + body, shebang);
  }
  for (const same of ["return 1", "#!lua\nreturn 1", "#!lua flags=no-writes\nreturn 1", ""]) {
    assert.equal(rewriteShebang(same), same, "nothing to drop: the same text");
  }
});

Deno.test("script commands are forwarded under the rewritten SHA-1, answered under the client's", () => {
  const script = "#!lua flags=allow-key-locking\nreturn 1";
  const plain = "return 2";
  const rewritten = "#!lua\nreturn 1";
  const shebangs = createScriptShebangs();
  // Before the script is seen, EVALSHA passes as sent (Redis answers NOSCRIPT).
  assert.deepEqual(shebangs.forward(["EVALSHA", sha1(script), "0"]).command, [
    "EVALSHA",
    sha1(script),
    "0",
  ]);
  assert.deepEqual(shebangs.forward(["eval", script, "1", "k"]).command, [
    "eval",
    rewritten,
    "1",
    "k",
  ]);
  assert.deepEqual(shebangs.forward(["EVALSHA", sha1(script).toUpperCase(), "0"]).command, [
    "EVALSHA",
    sha1(rewritten),
    "0",
  ]);
  assert.deepEqual(shebangs.forward(["EVALSHA_RO", sha1(plain), "0"]).command[1], sha1(plain));
  const load = shebangs.forward(["SCRIPT", "LOAD", script]);
  assert.deepEqual(load.command, ["SCRIPT", "LOAD", rewritten]);
  assert.equal(load.reply(new TextEncoder().encode(sha1(rewritten))), sha1(script));
  assert.deepEqual(shebangs.forward(["SCRIPT", "EXISTS", sha1(script), sha1(plain)]).command, [
    "SCRIPT",
    "EXISTS",
    sha1(rewritten),
    sha1(plain),
  ]);
  const loadPlain = shebangs.forward(["SCRIPT", "LOAD", plain]);
  assert.deepEqual(loadPlain.command, ["SCRIPT", "LOAD", plain]);
  assert.equal(loadPlain.reply("x"), "x");
  assert.equal(shebangs.known(), 1);
  // Scripts given at start are known before they are sent.
  const known = createScriptShebangs([script]);
  assert.equal(known.forward(["EVALSHA", sha1(script), "0"]).command[1], sha1(rewritten));
});
