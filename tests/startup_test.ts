import assert from "node:assert/strict";

Deno.test("a bad configuration value stops the service with a message naming the variable", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../main.ts", import.meta.url).pathname],
    env: { PORT: "eighty", HEARTBEAT_INTERVAL_SECONDS: "-1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 1);
  assert.match(stderr, /PORT="eighty"/);
  assert.match(stderr, /HEARTBEAT_INTERVAL_SECONDS="-1"/);
  assert.doesNotMatch(stderr, /at .*\.ts:\d+/, "no stack trace, just the message");
});
