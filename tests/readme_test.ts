import assert from "node:assert/strict";
import { needsRedis, startRedis } from "./redis_server.ts";
import { minimumReadingDays } from "../src/training/train.ts";

const root = new URL("..", import.meta.url);
const readme = await Deno.readTextFile(new URL("README.md", root));

/** The shell blocks of the README's quick start, in order. */
function quickStartCommands(): string[] {
  const section = readme.split("## Quick start")[1].split("\n## ")[0];
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1].trim());
}

function freePort(): number {
  const listener = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function sh(script: string, cwd?: string): Promise<string> {
  const out = await new Deno.Command("bash", {
    args: ["-c", script],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

Deno.test("the README opens with the two commands", () => {
  const firstBlock = readme.match(/```sh\n([\s\S]*?)```/)![1];
  assert.match(firstBlock, /^deno task dev\b/m);
  assert.match(firstBlock, /^deno task test\b/m);
});

Deno.test("the README says how many days of readings training needs, as training checks it", () => {
  const days = minimumReadingDays();
  assert.match(
    readme.replace(/\s+/g, " "),
    new RegExp(`a model needs at least ${days} days of them`),
  );
});

Deno.test("the README's TypeScript examples type-check as written", async () => {
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.ok(blocks.length >= 1, "the webhook receiver at least");
  const dir = await Deno.makeTempDir({ prefix: "wattcast-readme-" });
  try {
    for (const [i, code] of blocks.entries()) {
      const file = `${dir}/example_${i}.ts`;
      await Deno.writeTextFile(file, code);
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["check", "--config", new URL("deno.json", root).pathname, file],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(out.code, 0, `${code}\n${new TextDecoder().decode(out.stderr)}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the quick start works as written against `deno task dev`", () => quickStart({}));

Deno.test({
  name: "the quick start works the same in Redis mode (`REDIS_URL=… deno task dev`)",
  ...needsRedis(),
  fn: async () => {
    const redis = await startRedis();
    try {
      await quickStart({ REDIS_URL: redis.url });
    } finally {
      await redis.stop();
    }
  },
});

async function quickStart(extraEnv: Record<string, string>) {
  const port = freePort();
  const dataDir = await Deno.makeTempDir({ prefix: "wattcast-readme-" });
  const dev = new Deno.Command(Deno.execPath(), {
    args: ["task", "dev"],
    cwd: root,
    env: { PORT: String(port), DATA_DIR: dataDir, ...extraEnv },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = dev.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let banner = "";
  try {
    while (!banner.includes("listening")) {
      const { value, done } = await lines.read();
      if (done) throw new Error("`deno task dev` exited before listening");
      banner += value;
    }
    const local = (cmd: string) => cmd.replaceAll("localhost:8000", `127.0.0.1:${port}`);
    const [post, stream, upload] = quickStartCommands();
    assert.match(post, /curl -X POST/);
    assert.match(stream, /curl -N/);

    const created = JSON.parse(await sh(local(post)));
    assert.equal(created.status, "PENDING");
    assert.equal(created.progress, 0);
    const exampleId = stream.match(/[0-9a-f-]{36}/)![0];
    const output = await sh(local(stream.replace(exampleId, created.task_id)));

    const events = output.split("\n\n").filter((block) => block.includes("id: "));
    assert.ok(events.length >= 30, `one event per epoch at least, got ${events.length}`);
    const last = JSON.parse(events.at(-1)!.match(/^data: (.*)$/m)![1]);
    assert.equal(last.status, "SUCCESS");
    assert.equal(
      last.result.message,
      "Model trained and saved at models/electricity/meter_test_001",
    );
    const model = JSON.parse(
      await Deno.readTextFile(`${dataDir}/models/electricity/meter_test_001/model.json`),
    );
    assert.equal(model.format, "layers-model");

    // The upload example, in a directory of its own (it writes readings.csv).
    assert.match(upload, /--data-binary @readings\.csv/);
    const stored = JSON.parse(await sh(local(upload), dataDir));
    assert.equal(stored.accepted, 2);
    assert.equal(stored.rejected, 0);
  } finally {
    dev.kill("SIGTERM");
    const status = await dev.status;
    await lines.cancel().catch(() => {});
    await Deno.remove(dataDir, { recursive: true });
    assert.equal(status.code, 0, "SIGTERM stops the service cleanly");
  }
  if (extraEnv.REDIS_URL) assert.match(banner, /Redis at redis:/, "it ran in Redis mode");
}
