/**
 * Redis commands, as Upstash bills them (each command of a batch counts):
 * an idle API instance and an idle worker per minute, and one task trained
 * for about five minutes while one client watches. Also how soon an idle
 * worker picks up a queued job.
 *
 * @module
 */
import { UNLIMITED } from "./unlimited.ts";
import { serveGateway } from "../src/gateway/serve_gateway.ts";
import { freePort, startRedis } from "../tests/redis_server.ts";
import { type Proc, spawnDeno } from "../tests/processes.ts";
import { openStream } from "../tests/sse_client.ts";
import type { Task } from "../src/domain/task.ts";
import { percentile } from "./stats.ts";

/** The command counts. */
export interface CommandsResult {
  apiIdlePerMinute: number;
  workerIdlePerMinute: number;
  task: { seconds: number; epochs: number; events: number; commands: number };
  pickupMs: { p50: number; max: number; samples: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the measurements (about eight minutes). */
export async function measureRedisCommands(
  options: { idleSeconds?: number; taskEpochs?: number; taskBatchSize?: number } = {},
): Promise<CommandsResult> {
  const idleSeconds = options.idleSeconds ?? 60;
  const redis = await startRedis();
  const gateway = await serveGateway({ redisUrl: redis.url, token: "bench", port: 0 });
  const dataDir = await Deno.makeTempDir();
  const env = {
    ...UNLIMITED,
    UPSTASH_REDIS_REST_URL: gateway.url,
    UPSTASH_REDIS_REST_TOKEN: "bench",
    DATA_DIR: dataDir,
    HOST: "127.0.0.1",
  };
  const procs: Proc[] = [];
  const counted = async (seconds: number) => {
    const start = gateway.gateway.commands();
    await sleep(seconds * 1000);
    return ((gateway.gateway.commands() - start) * 60) / seconds;
  };
  try {
    const port = freePort();
    const api = spawnDeno("api", "main.ts", { ...env, PORT: String(port) }, ["--api-only"]);
    procs.push(api);
    await api.waitFor(/listening on/);
    await sleep(10_000); // settle after start-up (seeding, first subscription)
    const apiIdlePerMinute = await counted(idleSeconds);

    const worker = spawnDeno("worker", "worker/main.ts", env);
    procs.push(worker);
    await worker.waitFor(/worker \d+ running/);
    await sleep(10_000);
    const bothIdle = await counted(idleSeconds);
    const workerIdlePerMinute = bothIdle - apiIdlePerMinute;

    // Pickup: an idle worker starts a queued job (created_at on the API to
    // FETCHING_DATA's updated_at on the worker; one machine, one clock).
    const pickups: number[] = [];
    for (let i = 0; i < 10; i++) {
      await sleep(1500);
      const response = await fetch(`http://127.0.0.1:${port}/trainmodel/`, {
        method: "POST",
        body: JSON.stringify({ meter_id: "meter_gas_001", meter_type: "gas", epochs: 1 }),
      });
      const task: Task = await response.json();
      const stream = await openStream(
        `http://127.0.0.1:${port}/trainmodel/stream/${task.task_id}`,
        {
          lastEventId: "0-0",
        },
      );
      for await (const m of stream.messages) {
        if (!m.id) continue;
        const event: Task = JSON.parse(m.data);
        if (event.status === "FETCHING_DATA") {
          pickups.push(Date.parse(event.updated_at) - Date.parse(event.created_at));
        }
        if (["SUCCESS", "FAILURE", "CANCELLED"].includes(event.status)) break;
      }
      stream.close();
    }

    // One long task, watched by one client from start to end.
    await sleep(5000);
    const before = gateway.gateway.commands();
    const started = performance.now();
    const response = await fetch(`http://127.0.0.1:${port}/trainmodel/`, {
      method: "POST",
      body: JSON.stringify({
        meter_id: "meter_test_001",
        meter_type: "electricity",
        epochs: options.taskEpochs ?? 450,
        batch_size: options.taskBatchSize ?? 8,
      }),
    });
    const task: Task = await response.json();
    const stream = await openStream(`http://127.0.0.1:${port}/trainmodel/stream/${task.task_id}`);
    let events = 0;
    let last: Task | undefined;
    for await (const m of stream.messages) {
      if (!m.id) continue;
      events++;
      last = JSON.parse(m.data);
      if (["SUCCESS", "FAILURE", "CANCELLED"].includes(last!.status)) break;
    }
    stream.close();
    const seconds = (performance.now() - started) / 1000;
    const commands = gateway.gateway.commands() - before;
    return {
      apiIdlePerMinute,
      workerIdlePerMinute,
      task: { seconds, epochs: last?.metrics?.epoch ?? 0, events, commands },
      pickupMs: {
        p50: percentile(pickups, 50),
        max: Math.max(...pickups),
        samples: pickups.length,
      },
    };
  } finally {
    for (const proc of procs) await proc.stop("SIGTERM");
    await gateway.close();
    await redis.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
}
