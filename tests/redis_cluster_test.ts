import assert from "node:assert/strict";
import { freePort, needsRedis, startRedis } from "./redis_server.ts";
import { type Proc, spawnDeno } from "./processes.ts";
import { openStream, type SseMessage } from "./sse_client.ts";
import type { Task } from "../src/domain/task.ts";

const TOKEN = "cluster-token";

interface Followed {
  ids: string[];
  tasks: Task[];
  connections: number;
}

/** The long task's epochs: room for both restarts, short enough for a loaded machine. */
const EPOCHS = 250;
/**
 * Follows a task the way EventSource does: on a dropped connection it
 * reconnects with the last event id it has, until the final event.
 */
async function follow(
  url: string,
  onEvent: (task: Task) => void = () => {},
): Promise<Followed> {
  const result: Followed = { ids: [], tasks: [], connections: 0 };
  const deadline = Date.now() + 150_000;
  let last: string | undefined = "0-0";
  while (true) {
    if (Date.now() > deadline) {
      const story = result.tasks.slice(-8).map((e) =>
        `${e.status}:${e.attempt}:${e.metrics?.epoch ?? ""}`
      );
      throw new Error(`the task did not finish in 150 s; the client saw ${story.join(" ")}`);
    }
    try {
      result.connections++;
      const stream = await openStream(url, { lastEventId: last });
      if (stream.response.status === 204) return result;
      for await (const m of stream.messages as AsyncIterable<SseMessage>) {
        if (Date.now() > deadline) {
          stream.close();
          break; // reported above, at the reconnect
        }
        if (!m.id) continue;
        const task: Task = JSON.parse(m.data);
        result.ids.push(m.id);
        result.tasks.push(task);
        last = m.id;
        onEvent(task);
        if (["SUCCESS", "FAILURE", "CANCELLED"].includes(task.status)) {
          stream.close();
          return result;
        }
      }
    } catch { /* dropped: reconnect */ }
    await new Promise((r) => setTimeout(r, 200));
  }
}

function compareIds(a: string, b: string): number {
  const [am, as] = a.split("-").map(Number), [bm, bs] = b.split("-").map(Number);
  return am - bm || as - bs;
}

Deno.test({
  name: "a fleet on Redis: two API instances, two workers, the gateway and redis-server",
  ...needsRedis(),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const redis = await startRedis({ appendOnly: true });
    const dataDir = await Deno.makeTempDir({ prefix: "wattcast-cluster-" });
    const gatewayPort = freePort();
    const gatewayEnv = {
      REDIS_URL: redis.url,
      UPSTASH_REDIS_REST_TOKEN: TOKEN,
      PORT: String(gatewayPort),
    };
    const env = {
      UPSTASH_REDIS_REST_URL: `http://127.0.0.1:${gatewayPort}`,
      UPSTASH_REDIS_REST_TOKEN: TOKEN,
      DATA_DIR: dataDir,
      HOST: "127.0.0.1",
      HEARTBEAT_INTERVAL_SECONDS: "1",
      JOB_LEASE_SECONDS: "4",
      SUBSCRIPTION_CHECK_SECONDS: "1",
    };
    const procs: Proc[] = [];
    const start = (p: Proc) => (procs.push(p), p);
    let gateway = start(spawnDeno("gateway", "src/gateway/main.ts", gatewayEnv));
    try {
      await gateway.waitFor(/REST gateway on/);
      const ports = [freePort(), freePort()];
      const apis = ports.map((port, i) =>
        start(spawnDeno(`api${i + 1}`, "main.ts", { ...env, PORT: String(port) }, ["--api-only"]))
      );
      await Promise.all(apis.map((api) => api.waitFor(/listening on/)));
      const api = ports.map((port) => `http://127.0.0.1:${port}`);
      const worker1 = start(spawnDeno("worker1", "worker/main.ts", env));
      await worker1.waitFor(/worker \d+ running/);

      await t.step(
        "a client streaming from API 2 follows a task API 1 queued; SIGKILL of its worker retries it",
        async () => {
          const created = await fetch(`${api[0]}/trainmodel/`, {
            method: "POST",
            body: JSON.stringify({
              meter_id: "meter_test_001",
              meter_type: "electricity",
              epochs: 300, // a few seconds: long enough to kill its worker mid-training
              batch_size: 256,
            }),
          });
          assert.equal(created.status, 202);
          const task: Task = await created.json();
          let killed: Promise<unknown> | undefined;
          const followed = await follow(`${api[1]}/trainmodel/stream/${task.task_id}`, (event) => {
            if (!killed && (event.metrics?.epoch ?? 0) >= 3) {
              // Worker 1 is mid-training: start worker 2, then kill worker 1 outright.
              const worker2 = start(spawnDeno("worker2", "worker/main.ts", env));
              killed = worker2.waitFor(/worker \d+ running/).then(() => worker1.stop("SIGKILL"));
            }
          });
          await killed;
          const statuses = followed.tasks.map((e) => e.status);
          assert.equal(statuses.at(-1), "SUCCESS", JSON.stringify(followed.tasks.at(-1)));
          const retry = followed.tasks.find((e) => e.status === "RETRYING");
          assert.ok(retry, `the stream shows the retry: ${statuses.join(" ")}`);
          assert.equal(retry.attempt, 2);
          const after = followed.tasks.slice(followed.tasks.indexOf(retry) + 1);
          assert.ok(
            after.some((e) => e.status === "TRAINING_MODEL" && e.attempt === 2),
            "the new attempt's progress",
          );
          const progress = followed.tasks.map((e) => e.progress);
          assert.deepEqual(
            progress,
            [...progress].sort((a, b) => a - b),
            "progress never goes down",
          );
          assert.equal(new Set(followed.ids).size, followed.ids.length, "no repeats");
          const status = await (await fetch(`${api[0]}/trainmodel/status/${task.task_id}`)).json();
          assert.deepEqual(status, followed.tasks.at(-1), "both API instances agree");
        },
      );

      await t.step(
        "redis-server, then the gateway, restart while a client streams: every event exactly once",
        async () => {
          const created = await fetch(`${api[1]}/trainmodel/`, {
            method: "POST",
            body: JSON.stringify({
              meter_id: "meter_test_002",
              meter_type: "electricity",
              epochs: EPOCHS,
              batch_size: 256,
            }),
          });
          assert.equal(created.status, 202);
          const task: Task = await created.json();
          let phase = 0;
          let chaos: Promise<void> = Promise.resolve();
          const followed = await follow(`${api[0]}/trainmodel/stream/${task.task_id}`, (event) => {
            const epoch = event.metrics?.epoch ?? 0;
            if (phase === 0 && epoch >= 3) {
              phase = 1;
              chaos = chaos.then(() => redis.restart());
            } else if (phase === 1 && epoch >= 100) {
              phase = 2;
              chaos = chaos.then(async () => {
                await gateway.stop("SIGTERM");
                gateway = start(spawnDeno("gateway", "src/gateway/main.ts", gatewayEnv));
                await gateway.waitFor(/REST gateway on/);
              });
            }
          });
          await chaos;
          const story = followed.tasks.map((e) =>
            `${e.status}:${e.attempt}:${e.metrics?.epoch ?? ""}`
          );
          assert.equal(
            phase,
            2,
            `both restarts happened mid-training; the client saw ${story.slice(-12).join(" ")}`,
          );
          assert.equal(
            followed.tasks.at(-1)?.status,
            "SUCCESS",
            JSON.stringify(followed.tasks.at(-1)),
          );
          assert.equal(new Set(followed.ids).size, followed.ids.length, "no event repeated");
          assert.deepEqual(followed.ids, [...followed.ids].sort(compareIds), "in order");
          // The whole log, read afresh from the other instance, is what the client got.
          const replay = await follow(`${api[1]}/trainmodel/stream/${task.task_id}`);
          assert.deepEqual(followed.ids, replay.ids, "no event lost");
          assert.match(
            apis[0].output(),
            /subscription to task_updates:\* restored/,
            "API 1 lost its feed and caught up",
          );
          const epochs = followed.tasks.filter((e) => e.metrics && e.status === "TRAINING_MODEL")
            .map((e) => e.metrics!.epoch);
          assert.ok(epochs.includes(EPOCHS));
        },
      );
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
