/**
 * Fan-out: one API instance (its own process, Redis mode) serving many
 * concurrent streams of one task: the API process's memory per stream and
 * the time for one event to reach every stream. The same client measures a
 * minimal Hono `streamSSE` server in the same run, as the floor.
 *
 * @module
 */
import { createRedisBroker } from "../src/broker/redis_broker.ts";
import { createTracker } from "../src/tracker/tracker.ts";
import { freePort, startRedis } from "../tests/redis_server.ts";
import { type Proc, spawnDeno } from "../tests/processes.ts";
import { percentile, rssBytes } from "./stats.ts";

/** The fan-out measurements of one server. */
export interface FanoutResult {
  server: string;
  streams: number;
  bytesPerStream: number;
  /** Per event: milliseconds from the publish call to the last stream's receipt. */
  allReceivedMs: number[];
  /** Per event: 99th percentile of the receipt delays. */
  p99Ms: number[];
}

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
  // Heartbeats are off, so bytes arriving after a publish are that event:
  // the client only timestamps reads, keeping its own cost low.
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
          } else if (current > 0 && seen < current) {
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
    };
  } finally {
    for (const conn of conns) {
      try {
        conn.close();
      } catch { /* closed */ }
    }
  }
}

/** Wattcast's API instance on Redis, and the Hono floor, with the same client. */
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
    const port = freePort();
    const api = spawnDeno("api", "main.ts", {
      UPSTASH_REDIS_REST_URL: gatewayUrl,
      UPSTASH_REDIS_REST_TOKEN: "bench",
      PORT: String(port),
      HOST: "127.0.0.1",
      DATA_DIR: dataDir,
      HEARTBEAT_INTERVAL_SECONDS: "120",
    }, ["--api-only"]);
    procs.push(api);
    await api.waitFor(/listening on/);
    const created = await fetch(`http://127.0.0.1:${port}/trainmodel/`, {
      method: "POST",
      body: JSON.stringify({ meter_id: "meter_test_001", meter_type: "electricity" }),
    });
    const id = (await created.json()).task_id;
    const worker = await createRedisBroker({
      url: gatewayUrl,
      token: "bench",
      taskTtlSeconds: 600,
    });
    const tracker = createTracker(worker);
    await tracker.update(id, { status: "FETCHING_DATA" });
    await tracker.update(id, { status: "PREPROCESSING" });
    try {
      results.push(
        await measure(
          "Wattcast API instance (Redis mode)",
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
    } finally {
      await worker.close();
    }
    await api.stop();

    const floorPort = freePort();
    const floor = spawnDeno("floor", "bench/fanout_floor_server.ts", {}, [String(floorPort)]);
    procs.push(floor);
    await floor.waitFor(/listening on/);
    results.push(
      await measure(
        "floor: minimal Hono streamSSE server",
        floor,
        floorPort,
        "/",
        streams,
        events,
        async () => {
          await (await fetch(`http://127.0.0.1:${floorPort}/fire`, { method: "POST" })).body
            ?.cancel();
        },
      ),
    );
    return results;
  } finally {
    for (const proc of procs) await proc.stop("SIGTERM");
    await redis.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
}
