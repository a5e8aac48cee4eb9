/**
 * Fan-out: one API instance (its own process, Redis mode) serving many
 * concurrent streams of one task, on each HTTP server it can run on: the
 * process's memory per stream, the time for one event to reach every
 * stream, and its CPU while idle with every stream open (heartbeats only,
 * every 5 s). The same client measures, in the same run, a minimal Hono
 * `streamSSE` server on `Deno.serve` (the shape Wattcast's streams had
 * before) and a bare `node:http` server (the floor).
 *
 * @module
 */
import { UNLIMITED } from "./unlimited.ts";
import { createRedisBroker } from "../src/broker/redis_broker.ts";
import { createTracker } from "../src/tracker/tracker.ts";
import { freePort, startRedis } from "../tests/redis_server.ts";
import { type Proc, spawnDeno } from "../tests/processes.ts";
import { cpuSeconds, percentile, rssBytes } from "./stats.ts";

/** The fan-out measurements of one server. */
export interface FanoutResult {
  server: string;
  streams: number;
  bytesPerStream: number;
  /** Per event: milliseconds from the publish call to the last stream's receipt. */
  allReceivedMs: number[];
  /** Per event: 99th percentile of the receipt delays. */
  p99Ms: number[];
  /** CPU of the server while idle with every stream open, in % of one core. */
  idleCpuPercent: number;
}

/** Seconds over which idle CPU is measured: three heartbeats of every stream. */
const IDLE_SECONDS = 15;

/** Opens many raw SSE connections and times events across all of them. */
async function measure(
  server: string,
  proc: Proc,
  port: number,
  path: string,
  streams: number,
  events: number,
  publish: (event: number) => Promise<void>,
): Promise<FanoutResult> {
  // Status events carry an `id:` line and heartbeats do not: after a
  // publish, the first read holding an id is that event's receipt.
  const received: number[][] = Array.from({ length: events + 1 }, () => []);
  const conns: Deno.Conn[] = [];
  let current = 0;
  let initial = 0;
  const request = new TextEncoder().encode(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`,
  );
  const open = async () => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conns.push(conn);
    await conn.write(request);
    (async () => {
      const buffer = new Uint8Array(16384);
      let first = true;
      let seen = 0;
      try {
        while (true) {
          const n = await conn.read(buffer);
          if (n === null) return;
          const now = performance.now();
          if (first) {
            if (new TextDecoder().decode(buffer.subarray(0, n)).includes("data: ")) {
              first = false;
              initial++;
            }
          } else if (
            current > 0 && seen < current &&
            new TextDecoder().decode(buffer.subarray(0, n)).includes("\nid: ")
          ) {
            seen = current;
            received[current].push(now);
          }
        }
      } catch { /* closed */ }
    })();
  };
  try {
    // A few streams first, to warm the server's code paths before the baseline.
    for (let i = 0; i < 50; i++) await open();
    for (let i = 0; i < 500 && initial < 50; i++) await new Promise((r) => setTimeout(r, 20));
    if (initial < 50) throw new Error(`${server}: the first streams did not open`);
    await new Promise((r) => setTimeout(r, 1000));
    const before = rssBytes(proc.child.pid);
    for (let i = 50; i < streams; i += 250) {
      await Promise.all(Array.from({ length: Math.min(250, streams - i) }, open));
    }
    const deadline = Date.now() + 120_000;
    while (initial < streams && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (initial < streams) {
      throw new Error(`${server}: only ${initial} of ${streams} streams opened`);
    }
    await new Promise((r) => setTimeout(r, 2000));
    const after = rssBytes(proc.child.pid);
    const cpuBefore = cpuSeconds(proc.child.pid);
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const idleCpuPercent = (cpuSeconds(proc.child.pid) - cpuBefore) / IDLE_SECONDS * 100;

    const allReceivedMs: number[] = [];
    const p99Ms: number[] = [];
    for (let event = 1; event <= events; event++) {
      await new Promise((r) => setTimeout(r, 1500));
      const sent = performance.now();
      current = event;
      await publish(event);
      const until = Date.now() + 20_000;
      while (received[event].length < streams && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 5));
      }
      const delays = received[event].map((t) => t - sent);
      if (delays.length < streams) {
        throw new Error(`${server}: event ${event} reached ${delays.length}`);
      }
      allReceivedMs.push(Math.max(...delays));
      p99Ms.push(percentile(delays, 99));
    }
    return {
      server,
      streams,
      bytesPerStream: (after - before) / (streams - 50),
      allReceivedMs,
      p99Ms,
      idleCpuPercent,
    };
  } finally {
    for (const conn of conns) {
      try {
        conn.close();
      } catch { /* closed */ }
    }
  }
}

/** The servers measured, in the order of the report. */
export const FANOUT_SERVERS = {
  node: "Wattcast API instance, `HTTP_SERVER=node` (default)",
  deno: "Wattcast API instance, `HTTP_SERVER=deno` (Deno.serve)",
  embedded: "Wattcast in embedded mode (`deno task dev`: SQLite, `HTTP_SERVER=node`)",
  hono: "reference: minimal Hono `streamSSE` on Deno.serve",
  floor: "floor: bare `node:http` server",
} as const;

/** Wattcast's API instance on Redis on each HTTP server, in embedded mode, and the two references, with the same client. */
export async function measureFanout(streams = 10_000, events = 5): Promise<FanoutResult[]> {
  const results: FanoutResult[] = [];
  const redis = await startRedis();
  const gatewayPort = freePort();
  const gateway = spawnDeno("gateway", "src/gateway/main.ts", {
    REDIS_URL: redis.url,
    UPSTASH_REDIS_REST_TOKEN: "bench",
    PORT: String(gatewayPort),
  });
  const dataDir = await Deno.makeTempDir();
  const procs: Proc[] = [gateway];
  try {
    await gateway.waitFor(/REST gateway on/);
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    const worker = await createRedisBroker({
      url: gatewayUrl,
      token: "bench",
      taskTtlSeconds: 600,
    });
    const tracker = createTracker(worker);
    try {
      for (const kind of ["node", "deno"] as const) {
        const port = freePort();
        const api = spawnDeno(`api (${kind})`, "main.ts", {
          ...UNLIMITED,
          UPSTASH_REDIS_REST_URL: gatewayUrl,
          UPSTASH_REDIS_REST_TOKEN: "bench",
          PORT: String(port),
          HOST: "127.0.0.1",
          DATA_DIR: dataDir,
          HTTP_SERVER: kind,
          HEARTBEAT_INTERVAL_SECONDS: "5",
        }, ["--api-only"]);
        procs.push(api);
        await api.waitFor(/listening on/);
        const created = await fetch(`http://127.0.0.1:${port}/trainmodel/`, {
          method: "POST",
          body: JSON.stringify({ meter_id: "meter_test_001", meter_type: "electricity" }),
        });
        const id = (await created.json()).task_id;
        await tracker.update(id, { status: "FETCHING_DATA" });
        await tracker.update(id, { status: "PREPROCESSING" });
        results.push(
          await measure(
            FANOUT_SERVERS[kind],
            api,
            port,
            `/trainmodel/stream/${id}`,
            streams,
            events,
            async (epoch) => {
              await tracker.update(id, {
                status: "TRAINING_MODEL",
                metrics: { epoch, epochs: events, loss: 1, val_loss: null },
              });
            },
          ),
        );
        await tracker.cancel(id);
        await api.stop();
      }
    } finally {
      await worker.close();
    }

    {
      const port = freePort();
      const controlPort = freePort();
      const proc = spawnDeno("embedded", "bench/fanout_embedded_server.ts", {
        HEARTBEAT_INTERVAL_SECONDS: "5",
      }, [String(port), String(controlPort)]);
      procs.push(proc);
      await proc.waitFor(/task \S+/);
      const id = proc.output().match(/task (\S+)/)![1];
      results.push(
        await measure(
          FANOUT_SERVERS.embedded,
          proc,
          port,
          `/trainmodel/stream/${id}`,
          streams,
          events,
          async () => {
            await (await fetch(`http://127.0.0.1:${controlPort}/`, { method: "POST" })).body
              ?.cancel();
          },
        ),
      );
      await proc.stop();
    }

    for (
      const [key, script] of [["hono", "bench/fanout_floor_server.ts"], [
        "floor",
        "bench/fanout_node_floor.ts",
      ]] as const
    ) {
      const port = freePort();
      const proc = spawnDeno(key, script, {}, [String(port)]);
      procs.push(proc);
      await proc.waitFor(/listening on/);
      results.push(
        await measure(FANOUT_SERVERS[key], proc, port, "/", streams, events, async () => {
          await (await fetch(`http://127.0.0.1:${port}/fire`, { method: "POST" })).body?.cancel();
        }),
      );
      await proc.stop();
    }
    return results;
  } finally {
    for (const proc of procs) await proc.stop("SIGTERM");
    await redis.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
}
