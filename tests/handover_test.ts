import assert from "node:assert/strict";
import { freePort, needsRedis, startRedis } from "./redis_server.ts";
import { type Proc, spawnDeno } from "./processes.ts";
import { openStream, type SseMessage } from "./sse_client.ts";
import { responseBody, startRoundRobinProxy } from "./round_robin_proxy.ts";
import type { Task } from "../src/domain/task.ts";

const TOKEN = "handover-token";
const FINAL = ["SUCCESS", "FAILURE", "CANCELLED"];

/** Every event of a task from the start (Last-Event-ID 0-0), read until the final one. */
async function fullLog(url: string): Promise<string[]> {
  const stream = await openStream(url, { lastEventId: "0-0" });
  const ids: string[] = [];
  for await (const m of stream.messages as AsyncIterable<SseMessage>) {
    if (!m.id) continue;
    ids.push(m.id);
    if (FINAL.includes((JSON.parse(m.data) as Task).status)) break;
  }
  stream.close();
  return ids;
}

Deno.test({
  name:
    "SIGTERM on the API instance a client streams from: the client resumes on the other one and gets every event once",
  ...needsRedis(),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const redis = await startRedis();
    const dataDir = await Deno.makeTempDir({ prefix: "wattcast-handover-" });
    const gatewayPort = freePort();
    const env = {
      UPSTASH_REDIS_REST_URL: `http://127.0.0.1:${gatewayPort}`,
      UPSTASH_REDIS_REST_TOKEN: TOKEN,
      DATA_DIR: dataDir,
      HOST: "127.0.0.1",
      HEARTBEAT_INTERVAL_SECONDS: "1",
      SHUTDOWN_GRACE_SECONDS: "5",
    };
    const procs: Proc[] = [];
    const start = (p: Proc) => (procs.push(p), p);
    const gateway = start(
      spawnDeno("gateway", "src/gateway/main.ts", {
        REDIS_URL: redis.url,
        UPSTASH_REDIS_REST_TOKEN: TOKEN,
        PORT: String(gatewayPort),
      }),
    );
    let proxy: ReturnType<typeof startRoundRobinProxy> | undefined;
    let source: EventSource | undefined;
    try {
      await gateway.waitFor(/REST gateway on/);
      const ports = [freePort(), freePort()];
      const apis = ports.map((port, i) =>
        start(spawnDeno(`api${i + 1}`, "main.ts", { ...env, PORT: String(port) }, ["--api-only"]))
      );
      const worker = start(spawnDeno("worker", "worker/main.ts", env));
      await Promise.all([
        ...apis.map((api) => api.waitFor(/listening on/)),
        worker.waitFor(/worker \d+ running/),
      ]);
      proxy = startRoundRobinProxy(ports);
      const balancer = proxy;

      const created = await fetch(`http://127.0.0.1:${ports[0]}/trainmodel/`, {
        method: "POST",
        body: JSON.stringify({
          meter_id: "meter_test_001",
          meter_type: "electricity",
          epochs: 150, // a few seconds: room for the hand-over, short on a loaded machine
          batch_size: 256,
        }),
      });
      assert.equal(created.status, 202);
      const task: Task = await created.json();

      // A real EventSource, through the balancer: it follows `retry:` and
      // reconnects with Last-Event-ID on its own.
      const ids: string[] = [];
      const events: Task[] = [];
      let stopped: { index: number; status: Promise<Deno.CommandStatus> } | undefined;
      // For the log line at the end (not asserted): how long the hand-over took.
      let sigtermAt = 0, exitedAt = 0, resumedAt = 0, connectionsAtStop = 0;
      const finished = Promise.withResolvers<void>();
      const timer = setTimeout(
        () => finished.reject(new Error(`no final event in 120 s; saw ${ids.length} events`)),
        120_000,
      );
      source = new EventSource(`${balancer.url}/trainmodel/stream/${task.task_id}`);
      source.onmessage = (e) => {
        const data = JSON.parse(e.data);
        if (!("status" in data)) return; // a heartbeat
        ids.push(e.lastEventId);
        events.push(data);
        if (stopped && !resumedAt && balancer.connections.length > connectionsAtStop) {
          resumedAt = performance.now();
        }
        if (!stopped && (data.metrics?.epoch ?? 0) >= 3) {
          // Mid-training: SIGTERM the instance this stream comes from.
          const upstream = balancer.connections.findLast((c) => c.open)?.upstream;
          const index = ports.indexOf(upstream ?? -1);
          assert.ok(index >= 0, "the stream's connection is open through the balancer");
          sigtermAt = performance.now();
          connectionsAtStop = balancer.connections.length;
          stopped = {
            index,
            status: apis[index].stop("SIGTERM").finally(() => (exitedAt = performance.now())),
          };
        }
        if (FINAL.includes(data.status)) finished.resolve();
      };
      await finished.promise.finally(() => clearTimeout(timer));
      source.close();

      assert.ok(stopped, `SIGTERM was sent mid-training; saw ${events.map((e) => e.status)}`);
      const status = await stopped.status;
      const stoppedApi = apis[stopped.index];
      assert.equal(status.code, 0, `the stopped instance exits 0:\n${stoppedApi.output()}`);
      assert.match(stoppedApi.output(), /SIGTERM received; stopping\./);
      assert.doesNotMatch(stoppedApi.output(), /Not everything closed/, "within the grace period");

      const toStopped = balancer.connections.filter((c) => c.upstream === ports[stopped!.index]);
      assert.ok(
        toStopped.some((c) => /\nretry: \d+\n\n/.test(responseBody(c))),
        "the stopping instance sent its stream a retry hint",
      );
      const after = balancer.connections.slice(
        balancer.connections.findIndex((c) => /\nretry: \d+\n\n/.test(responseBody(c))) + 1,
      );
      assert.ok(after.length > 0, "the client reconnected");
      assert.ok(
        after.every((c) => c.upstream === ports[1 - stopped!.index]),
        "to the other instance only",
      );

      assert.equal(events.at(-1)?.status, "SUCCESS", JSON.stringify(events.at(-1)));
      assert.equal(new Set(ids).size, ids.length, "no event twice");
      const other = `http://127.0.0.1:${ports[1 - stopped.index]}`;
      const log = await fullLog(`${other}/trainmodel/stream/${task.task_id}`);
      const first = log.indexOf(ids[0]);
      assert.ok(first >= 0, "the client's first event is in the task's log");
      assert.deepEqual(ids, log.slice(first), "every event from the first one the client saw");
      console.log(
        `hand-over: ${ids.length} events; the stopped instance exited ${
          Math.round(exitedAt - sigtermAt)
        } ms after SIGTERM; the client's next event came ${
          Math.round(resumedAt - sigtermAt)
        } ms after it, through connection ${connectionsAtStop + 1}`,
      );
    } catch (error) {
      for (const p of procs) console.error(`--- ${p.name} ---\n${p.output().slice(-3000)}`);
      throw error;
    } finally {
      source?.close();
      await proxy?.close();
      await Promise.all(procs.map((p) => p.stop("SIGTERM")));
      await redis.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
