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

const root = new URL("..", import.meta.url).pathname;
const denoJson = JSON.parse(await Deno.readTextFile(`${root}deno.json`));
const lock = JSON.parse(await Deno.readTextFile(`${root}deno.lock`));
/** The npm packages of the lockfile that have lifecycle scripts (`"scripts": true`), as `npm:name@version`. */
const scripted = Object.entries(lock.npm as Record<string, { scripts?: boolean }>)
  .filter(([, entry]) => entry.scripts).map(([key]) => `npm:${key}`);

Deno.test("every npm package with a lifecycle script is decided in deno.json's allowScripts", () => {
  const { allow = [], deny = [] } = denoJson.allowScripts ?? {};
  const decided = [...allow, ...deny] as string[];
  assert.ok(scripted.length > 0, "the lockfile has packages with scripts (tfjs's core-js)");
  for (const pkg of scripted) {
    const name = pkg.slice(0, pkg.lastIndexOf("@"));
    assert.ok(
      decided.some((d) => d === name || d === pkg),
      `${pkg} has a lifecycle script: allow it (needed) or deny it (not needed) in deno.json's "allowScripts"`,
    );
  }
});

/** Installs the lockfile's scripted packages in a project of their own, with an empty DENO_DIR; its stderr. */
async function freshInstall(allowScripts: unknown): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "wattcast-scripts-" });
  const denoDir = await Deno.makeTempDir({ prefix: "wattcast-deno-dir-" });
  try {
    const imports = Object.fromEntries(scripted.map((pkg, i) => [`p${i}`, pkg]));
    await Deno.writeTextFile(
      `${dir}/deno.json`,
      JSON.stringify(allowScripts === undefined ? { imports } : { allowScripts, imports }),
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["install"],
      cwd: dir,
      env: { DENO_DIR: denoDir, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    return stderr;
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(denoDir, { recursive: true });
  }
}

Deno.test("a fresh install (empty DENO_DIR) prints no ignored-build-scripts warning with deno.json's allowScripts", async () => {
  const without = await freshInstall(undefined);
  assert.match(
    without,
    /Ignored build scripts/,
    "without allowScripts Deno warns (the check works)",
  );
  const withIt = await freshInstall(denoJson.allowScripts);
  assert.doesNotMatch(withIt, /Ignored build scripts|Warning/, withIt);
});
