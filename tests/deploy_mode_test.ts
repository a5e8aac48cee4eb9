/**
 * The API instance as Deno Deploy runs it, as near as this machine gets:
 * deno.json's `deploy.runtime` entrypoint and arguments, the fixed
 * `--allow-all` and no other runtime flag (Deploy takes none), `DENO_DEPLOY=true`
 * and only the Upstash variables set. Writing to disk is denied too, which
 * shows the instance needs none (`DATA_DIR=off`). A worker elsewhere trains;
 * the instance streams the task, serves a forecast, and stops on SIGINT
 * (Deploy's signal) with exit code 0.
 */
import assert from "node:assert/strict";
import { freePort, needsRedis, startRedis } from "./redis_server.ts";
import { type Proc, spawnDeno } from "./processes.ts";
import { openStream, type SseMessage } from "./sse_client.ts";
import type { Task } from "../src/domain/task.ts";

const root = new URL("..", import.meta.url).pathname;
const deploy = JSON.parse(await Deno.readTextFile(`${root}deno.json`)).deploy;
const TOKEN = "deploy-mode-token";

Deno.test("deno.json's deploy section runs the API alone", () => {
  assert.equal(deploy.runtime.type, "dynamic");
  assert.equal(deploy.runtime.entrypoint, "main.ts");
  assert.deepEqual(deploy.runtime.args, ["--api-only"]);
  assert.match(deploy.install, /^deno install --frozen$/);
});

Deno.test({
  name:
    "as on Deno Deploy (-A, no other flag, no disk, DENO_DEPLOY=true): the API instance streams, forecasts and stops on SIGINT",
  ...needsRedis(),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const redis = await startRedis();
    const dataDir = await Deno.makeTempDir({ prefix: "wattcast-deploy-" });
    const gatewayPort = freePort(), apiPort = freePort();
    const upstash = {
      UPSTASH_REDIS_REST_URL: `http://127.0.0.1:${gatewayPort}`,
      UPSTASH_REDIS_REST_TOKEN: TOKEN,
    };
    const procs: Proc[] = [];
    const start = (p: Proc) => (procs.push(p), p);
    try {
      const gateway = start(
        spawnDeno("gateway", "src/gateway/main.ts", {
          REDIS_URL: redis.url,
          UPSTASH_REDIS_REST_TOKEN: TOKEN,
          PORT: String(gatewayPort),
        }),
      );
      await gateway.waitFor(/REST gateway on/);
      // spawnDeno adds -A; --deny-write takes the disk away.
      const api = start(
        spawnDeno(
          "api (as on Deploy)",
          deploy.runtime.entrypoint,
          { ...upstash, DENO_DEPLOY: "true", PORT: String(apiPort), HOST: "127.0.0.1" },
          deploy.runtime.args,
          ["--deny-write"],
        ),
      );
      const worker = start(
        spawnDeno("worker", "worker/main.ts", { ...upstash, DATA_DIR: dataDir }),
      );
      await Promise.all([api.waitFor(/listening on/), worker.waitFor(/worker \d+ running/)]);
      const base = `http://127.0.0.1:${apiPort}`;

      const health = await (await fetch(`${base}/health`)).json();
      assert.equal(health.status, "ok", JSON.stringify(health));
      assert.equal(health.mode, "api");
      assert.equal(health.dependencies.event_streams.http_server, "deno", "Deno.serve");
      assert.equal(health.dependencies.model_store.path, null, "no data directory");
      assert.equal(health.dependencies.job_runner, undefined, "no training in the instance");

      const created = await fetch(`${base}/trainmodel/`, {
        method: "POST",
        body: JSON.stringify({
          meter_id: "meter_test_001",
          meter_type: "electricity",
          epochs: 10,
          batch_size: 256,
        }),
      });
      assert.equal(created.status, 202);
      const task: Task = await created.json();
      const stream = await openStream(`${base}/trainmodel/stream/${task.task_id}`, {
        lastEventId: "0-0",
      });
      const seen: Task[] = [];
      for await (const m of stream.messages as AsyncIterable<SseMessage>) {
        if (!m.id) continue;
        seen.push(JSON.parse(m.data));
        if (["SUCCESS", "FAILURE", "CANCELLED"].includes(seen.at(-1)!.status)) break;
      }
      stream.close();
      assert.equal(seen.at(-1)?.status, "SUCCESS", JSON.stringify(seen.at(-1)));
      assert.ok(seen.some((e) => e.metrics?.epoch === 10), "every epoch streamed");

      const forecast = await fetch(`${base}/forecast/electricity/meter_test_001?horizon=6`);
      const body = await forecast.json();
      assert.equal(forecast.status, 200, JSON.stringify(body));
      assert.equal(body.points.length, 6);

      const stopped = await api.stop("SIGINT");
      assert.equal(stopped.code, 0, api.output());
      assert.match(api.output(), /SIGINT received; stopping\./);
      assert.doesNotMatch(api.output(), /PermissionDenied|NotCapable|Requires write access/);
    } catch (error) {
      for (const p of procs) console.error(`--- ${p.name} ---\n${p.output().slice(-3000)}`);
      throw error;
    } finally {
      await Promise.all(procs.map((p) => p.stop("SIGTERM")));
      await redis.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
