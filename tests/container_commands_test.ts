/**
 * The container path, as far as a machine without a Docker daemon allows:
 * the Dockerfile and compose.yaml say what the README promises, their
 * commands are deno.json's tasks, and those very commands run from a clean
 * copy of the repository after `deno install --frozen`, with `--cached-only`
 * (nothing fetched at run time): the gateway in front of a real
 * redis-server, an API instance that answers /health and the image's
 * HEALTHCHECK, a worker; SIGTERM stops the API with exit code 0.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { freePort, needsRedis, startRedis } from "./redis_server.ts";

const root = new URL("..", import.meta.url).pathname;
const dockerfile = await Deno.readTextFile(`${root}Dockerfile`);
const compose = parse(await Deno.readTextFile(`${root}compose.yaml`), { merge: true });
const tasks: Record<string, string> = JSON.parse(await Deno.readTextFile(`${root}deno.json`))
  .tasks;

/** A task's command as an argument list. */
function taskCommand(name: string): string[] {
  assert.ok(tasks[name], `deno.json has a "${name}" task`);
  return tasks[name].trim().split(/\s+/);
}

/** The JSON-array argument of a Dockerfile instruction (`CMD`, `HEALTHCHECK … CMD`). */
function execForm(instruction: RegExp): string[] {
  const joined = dockerfile.replace(/\\\n\s*/g, " ");
  const match = joined.match(instruction);
  assert.ok(match, `the Dockerfile has ${instruction}`);
  return JSON.parse(match[1]);
}

const imageCommand = execForm(/^CMD (\[.*\])$/m);
const healthCommand = execForm(/^HEALTHCHECK [^\n]*?CMD (\[.*\])$/m);

Deno.test("the Dockerfile and compose.yaml run deno.json's tasks, as the README describes", () => {
  assert.match(
    dockerfile,
    /^FROM denoland\/deno:2\.9\.\d+$/m,
    "the official image, pinned to 2.9.x",
  );
  const user = dockerfile.search(/^USER deno$/m);
  assert.ok(user > 0, "runs as the deno user");
  const installs = [...dockerfile.matchAll(/^RUN deno install --frozen\b.*$/gm)];
  assert.ok(installs.length >= 1, "dependencies from the lockfile, frozen");
  assert.ok(installs.every((m) => m.index! > user), "installed by the user that runs them");
  const instructions = dockerfile.split("\n").filter((line) => !line.startsWith("#")).join("\n");
  assert.doesNotMatch(instructions, /\b(curl|wget|apt-get)\b/, "no extra tools in the image");
  assert.deepEqual(imageCommand, ["deno", ...taskCommand("start").slice(1)], "API = task start");
  assert.deepEqual(healthCommand.slice(0, 2), ["deno", "eval"]);
  assert.match(healthCommand[2], /\/health/);

  const services = compose.services;
  assert.deepEqual(
    Object.keys(services).sort(),
    ["api1", "api2", "gateway", "redis", "worker1", "worker2"],
  );
  assert.deepEqual(services.redis.command, ["redis-server", "--appendonly", "yes"], "AOF on");
  assert.deepEqual(services.gateway.command, ["deno", ...taskCommand("gateway").slice(1)]);
  assert.match(services.gateway.environment.REDIS_URL, /^redis:\/\/redis:6379$/);
  for (const name of ["api1", "api2"]) {
    assert.equal(services[name].command, undefined, `${name} runs the image's command`);
    assert.equal(services[name].environment.UPSTASH_REDIS_REST_URL, "http://gateway:8080");
    assert.ok(
      seconds(services[name].stop_grace_period) >
        Number(services[name].environment.SHUTDOWN_GRACE_SECONDS),
      "Docker waits longer than the API's own grace period",
    );
  }
  for (const name of ["worker1", "worker2"]) {
    assert.deepEqual(services[name].command, ["deno", ...taskCommand("worker").slice(1)]);
    assert.equal(services[name].environment.UPSTASH_REDIS_REST_URL, "http://gateway:8080");
    assert.ok(
      seconds(services[name].stop_grace_period) >
        Number(services[name].environment.WORKER_SHUTDOWN_GRACE_SECONDS),
      "Docker waits longer than the worker's own grace period",
    );
  }
});

/** `15s`, `1m30s` → seconds. */
function seconds(duration: string): number {
  let total = 0;
  for (const [, n, unit] of duration.matchAll(/(\d+)([hms])/g)) {
    total += Number(n) * { h: 3600, m: 60, s: 1 }[unit as "h" | "m" | "s"];
  }
  return total;
}

/** A process started from the clean copy. */
interface Running {
  child: Deno.ChildProcess;
  output(): string;
  waitFor(pattern: RegExp): Promise<void>;
}

/** Runs one of the image's commands (`deno run …`) from `cwd`, with `--cached-only`. */
function runCached(cwd: string, command: string[], env: Record<string, string>): Running {
  assert.equal(command[0], "deno");
  assert.equal(command[1], "run");
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--cached-only", ...command.slice(2)],
    cwd,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  let exited = false;
  child.status.then(() => (exited = true));
  for (const stream of [child.stdout, child.stderr]) {
    void (async () => {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) text += chunk;
    })().catch(() => {});
  }
  return {
    child,
    output: () => text,
    async waitFor(pattern) {
      const until = Date.now() + 60_000;
      while (!pattern.test(text)) {
        if (exited || Date.now() > until) {
          throw new Error(`${command.join(" ")} did not print ${pattern}:\n${text}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

/** Runs a healthcheck command (`deno eval …`) to its end; its exit code. */
async function check(command: string[], env: Record<string, string>): Promise<number> {
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: command.slice(1),
    env,
    stdout: "null",
    stderr: "null",
  }).output();
  return code;
}

/** A copy of the repository's files (tracked and new, not ignored), as `COPY . .` would see them. */
async function cleanCopy(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "wattcast-image-" });
  const listed = await new Deno.Command("git", {
    args: ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    cwd: root,
    stdout: "piped",
  }).output();
  assert.equal(listed.code, 0, "git lists the repository's files");
  for (const path of new TextDecoder().decode(listed.stdout).split("\0").filter(Boolean)) {
    try {
      const target = `${dir}/${path}`;
      await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
      await Deno.copyFile(`${root}${path}`, target);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error; // deleted, not yet committed
    }
  }
  return dir;
}

Deno.test({
  name:
    "the image's three commands run from a clean copy after deno install --frozen, with --cached-only",
  ...needsRedis(),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dir = await cleanCopy();
    const redis = await startRedis({ appendOnly: true });
    const running: Running[] = [];
    try {
      // The Dockerfile's install steps, in the copy.
      for (const line of dockerfile.matchAll(/^RUN deno (install --frozen.*)$/gm)) {
        const install = await new Deno.Command(Deno.execPath(), {
          args: line[1].split(/\s+/),
          cwd: dir,
          stdout: "piped",
          stderr: "piped",
        }).output();
        assert.equal(install.code, 0, new TextDecoder().decode(install.stderr));
      }

      // compose.yaml's settings, with its host names on this machine.
      const token = "container-test-token";
      const gatewayPort = freePort(), apiPort = freePort();
      const local = (env: Record<string, string>) => {
        const out: Record<string, string> = { DATA_DIR: `${dir}/data`, HOST: "127.0.0.1" };
        for (const [name, value] of Object.entries(env)) {
          out[name] = String(value).replace("redis://redis:6379", redis.url)
            .replace("http://gateway:8080", `http://127.0.0.1:${gatewayPort}`)
            .replace(/^\$\{WATTCAST_REDIS_TOKEN.*\}$/, token);
        }
        return out;
      };
      const services = compose.services;
      const gateway = runCached(dir, services.gateway.command, {
        ...local(services.gateway.environment),
        PORT: String(gatewayPort),
      });
      running.push(gateway);
      await gateway.waitFor(/REST gateway on/);
      const gatewayCheck = services.gateway.healthcheck.test.slice(1).map((arg: string) =>
        arg.replace("127.0.0.1:8080", `127.0.0.1:${gatewayPort}`)
      );
      assert.equal(
        await check(gatewayCheck, { UPSTASH_REDIS_REST_TOKEN: token }),
        0,
        "the gateway's healthcheck: PING through it answers PONG",
      );
      assert.notEqual(
        await check(gatewayCheck, { UPSTASH_REDIS_REST_TOKEN: "not-the-token" }),
        0,
        "and fails when the gateway refuses it",
      );

      const api = runCached(dir, imageCommand, {
        ...local(services.api1.environment),
        PORT: String(apiPort),
      });
      running.push(api);
      // compose's metrics port, on a free one here (other tests share this machine).
      assert.equal(services.worker1.environment.WORKER_METRICS_PORT, "9100");
      const workerMetricsPort = freePort();
      const worker = runCached(dir, services.worker1.command, {
        ...local(services.worker1.environment),
        WORKER_METRICS_PORT: String(workerMetricsPort),
      });
      running.push(worker);
      await Promise.all([api.waitFor(/listening on/), worker.waitFor(/worker \d+ running/)]);

      const health = await fetch(`http://127.0.0.1:${apiPort}/health`);
      const body = await health.json();
      assert.equal(health.status, 200, JSON.stringify(body));
      assert.equal(body.mode, "api");
      assert.equal(body.dependencies.broker.up, true);
      assert.equal(await check(healthCommand, { PORT: String(apiPort) }), 0, "HEALTHCHECK passes");
      const workerMetrics = await fetch(`http://127.0.0.1:${workerMetricsPort}/metrics`);
      assert.equal(workerMetrics.status, 200);
      assert.match(await workerMetrics.text(), /^wattcast_worker_jobs_claimed_total 0$/m);

      api.child.kill("SIGTERM");
      const stopped = await api.child.status;
      assert.equal(stopped.code, 0, api.output());
      assert.notEqual(
        await check(healthCommand, { PORT: String(apiPort) }),
        0,
        "HEALTHCHECK fails once the API is gone",
      );
    } catch (error) {
      for (const p of running) console.error(p.output().slice(-3000));
      throw error;
    } finally {
      for (const p of running) {
        try {
          p.child.kill("SIGTERM");
        } catch { /* already gone */ }
        await p.child.status;
      }
      await redis.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
