/**
 * Responsiveness under abuse (the hardening issue): how long `/health` takes
 * while each abuse runs against `deno task dev`, and how long a `PING`
 * through the REST gateway takes while each gateway abuse runs. A probe
 * is sent every 25 ms, one at a time, from a process of its own
 * (`probe.ts`); the abuse comes from this one; all on one machine.
 *
 * @module
 */
import { UNLIMITED } from "./unlimited.ts";
import { freePort, startRedis } from "../tests/redis_server.ts";
import { type Proc, spawnDeno } from "../tests/processes.ts";
import { percentile } from "./stats.ts";

/** Probe latencies while one abuse ran. */
export interface AbuseResult {
  target: "service" | "gateway";
  abuse: string;
  probes: number;
  p50Ms: number;
  maxMs: number;
  /** Probes that failed or did not answer 200. */
  failed: number;
}

const fixtures = new URL("../tests/fixtures/meters/", import.meta.url);

/** Probes (`bench/probe.ts`, in its own process) every 25 ms while `abuse` runs; their latencies. */
async function probeDuring(
  probeArgs: string[],
  abuse: () => Promise<void>,
): Promise<{ probes: number; p50Ms: number; maxMs: number; failed: number }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./probe.ts", import.meta.url).pathname, ...probeArgs],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).values();
  let output = "";
  while (!output.includes("ready\n")) {
    const { value, done } = await lines.next();
    if (done) throw new Error(`the probe ended before it was ready: ${output}`);
    output += value;
  }
  try {
    await abuse();
  } finally {
    await child.stdin.close();
  }
  for (;;) {
    const { value, done } = await lines.next();
    if (done) break;
    output += value;
  }
  await child.status;
  const { latencies, failed } = JSON.parse(output.slice(output.indexOf("ready\n") + 6)) as {
    latencies: number[];
    failed: number;
  };
  return {
    probes: latencies.length,
    p50Ms: percentile(latencies, 50),
    maxMs: Math.max(...latencies),
    failed,
  };
}

/** Opens a stream from `Last-Event-ID: 0-0` and never reads it. */
async function stuckReplay(port: number, path: string): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nLast-Event-ID: 0-0\r\n\r\n`,
  ));
  return conn;
}

async function waitForStatus(url: string, taskId: string, statuses: string[]): Promise<string> {
  for (;;) {
    const response = await fetch(`${url}/trainmodel/status/${taskId}`);
    const task = await response.json();
    if (!response.ok) throw new Error(`status of ${taskId}: ${JSON.stringify(task)}`);
    if (statuses.includes(task.status)) return task.status;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** D2, D6 and D7 against `deno task dev`, reduced to a bench's scale. */
async function serviceAbuse(quick: boolean): Promise<AbuseResult[]> {
  const results: AbuseResult[] = [];
  const procs: Proc[] = [];
  const dataDir = await Deno.makeTempDir({ prefix: "wattcast-abuse-" });
  const record = (abuse: string, r: Awaited<ReturnType<typeof probeDuring>>) => {
    console.error(`  measured ${abuse}`);
    results.push({ target: "service", abuse, ...r });
  };
  try {
    // D7: full replays of a 500-event task by clients that never read.
    {
      const port = freePort();
      const control = freePort();
      const proc = spawnDeno("replays", "bench/fanout_embedded_server.ts", {}, [
        String(port),
        String(control),
      ]);
      procs.push(proc);
      await proc.waitFor(/task \S+/);
      const id = proc.output().match(/task (\S+)/)![1];
      for (let i = 0; i < 500; i++) {
        await (await fetch(`http://127.0.0.1:${control}/`, { method: "POST" })).body?.cancel();
      }
      const conns: Deno.TcpConn[] = [];
      const replays = quick ? 200 : 1000;
      record(
        `D7: ${replays} full replays of a 500-event task that never read, opened at once`,
        await probeDuring(["health", `http://127.0.0.1:${port}`], async () => {
          conns.push(
            ...await Promise.all(
              Array.from({ length: replays }, () => stuckReplay(port, `/trainmodel/stream/${id}`)),
            ),
          );
          await new Promise((r) => setTimeout(r, 2000));
        }),
      );
      for (const conn of conns) conn.close();
      await proc.stop();
    }

    // D2 and D6 on `deno task dev` itself.
    const port = freePort();
    const url = `http://127.0.0.1:${port}`;
    const dev = spawnDeno("dev", "main.ts", {
      ...UNLIMITED,
      PORT: String(port),
      HOST: "127.0.0.1",
      DATA_DIR: dataDir,
      TRAINING_CONCURRENCY: "1",
    });
    procs.push(dev);
    await dev.waitFor(/listening on/, 60_000);
    const csv = await Deno.readTextFile(new URL("gas_ucam_b2_2019.csv", fixtures));
    const post = (path: string, body: string, type = "text/csv") =>
      fetch(`${url}${path}`, { method: "POST", headers: { "Content-Type": type }, body });

    // D2: forecasts of a meter whose readings span two decades.
    await (await post("/meters/gas/span/readings", csv)).body?.cancel();
    await (await post("/meters/gas/span/readings", "2000-01-01 00:00:00,5")).body?.cancel();
    const trained = await (await post(
      "/trainmodel/",
      JSON.stringify({ meter_id: "span", meter_type: "gas", epochs: 2 }),
      "application/json",
    )).json();
    await waitForStatus(url, trained.task_id, ["SUCCESS", "FAILURE"]);
    record(
      "D2: 10 forecasts at once, 5 times, of a meter with readings from 2000 and 2019",
      await probeDuring(["health", url], async () => {
        for (let round = 0; round < 5; round++) {
          await Promise.all(
            Array.from({ length: 10 }, async () => {
              await (await fetch(`${url}/forecast/gas/span`)).body?.cancel();
            }),
          );
        }
      }),
    );

    // D6: many queued trainings, then cancelling them all at once.
    const meters = quick ? 20 : 50;
    for (let i = 0; i < meters; i++) {
      await (await post(`/meters/gas/copy_${i}/readings`, csv)).body?.cancel();
    }
    const tasks: string[] = [];
    for (let i = 0; i < meters; i++) {
      const task = await (await post(
        "/trainmodel/",
        JSON.stringify({ meter_id: `copy_${i}`, meter_type: "gas", epochs: 500 }),
        "application/json",
      )).json();
      tasks.push(task.task_id);
    }
    await waitForStatus(url, tasks[0], ["TRAINING_MODEL"]);
    record(
      `D6: ${meters} trainings queued, then all ${meters} cancelled at once, the running one included`,
      await probeDuring(["health", url], async () => {
        await Promise.all(tasks.map(async (id) => {
          await (await fetch(`${url}/trainmodel/${id}`, { method: "DELETE" })).body?.cancel();
        }));
      }),
    );
    await dev.stop();
  } finally {
    for (const proc of procs) await proc.stop("SIGTERM");
    await Deno.remove(dataDir, { recursive: true });
  }
  return results;
}

/** G1–G5 against the REST gateway, with its default limits. */
async function gatewayAbuse(quick: boolean): Promise<AbuseResult[]> {
  const results: AbuseResult[] = [];
  const redis = await startRedis();
  const port = freePort();
  const gateway = spawnDeno("gateway", "src/gateway/main.ts", {
    REDIS_URL: redis.url,
    UPSTASH_REDIS_REST_TOKEN: "bench",
    PORT: String(port),
    HOST: "127.0.0.1",
  });
  const url = `http://127.0.0.1:${port}`;
  const call = (path: string, body: unknown) =>
    fetch(`${url}${path}`, {
      method: "POST",
      headers: { Authorization: "Bearer bench" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  const record = (abuse: string, r: Awaited<ReturnType<typeof probeDuring>>) => {
    console.error(`  measured ${abuse}`);
    results.push({ target: "gateway", abuse, ...r });
  };
  try {
    await gateway.waitFor(/REST gateway on/);
    record(
      "G1: SCRIPT DEBUG YES, then scripts, 100 times",
      await probeDuring(["ping", url, "bench"], async () => {
        for (let i = 0; i < 100; i++) {
          await (await call("/", ["SCRIPT", "DEBUG", "YES"])).body?.cancel();
          await (await call("/", ["EVAL", "return 1", "0"])).body?.cancel();
        }
      }),
    );
    record(
      "G2: an endless script (`while true do end`), 100 times",
      await probeDuring(["ping", url, "bench"], async () => {
        for (let i = 0; i < 100; i++) {
          await (await call("/", ["EVAL", "while true do end", "0"])).body?.cancel();
        }
      }),
    );
    const pings = quick ? 200_000 : 1_000_000;
    const big = JSON.stringify(Array.from({ length: pings }, () => ["PING"]));
    record(
      `G3: a pipeline of ${pings.toLocaleString("en")} PINGs (${
        (big.length / 1e6).toFixed(1)
      } MB), 3 times`,
      await probeDuring(["ping", url, "bench"], async () => {
        for (let i = 0; i < 3; i++) await (await call("/pipeline", big)).body?.cancel();
      }),
    );
    const subscribers = quick ? 300 : 1100;
    const conns: Deno.TcpConn[] = [];
    const subscribe = async (channel: string) => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(new TextEncoder().encode(
        `POST /subscribe/${channel} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer bench\r\nContent-Length: 0\r\n\r\n`,
      ));
      conns.push(conn);
    };
    record(
      `G4: ${subscribers.toLocaleString("en")} subscriptions opened at once (the cap is 1,000)`,
      await probeDuring(["ping", url, "bench"], async () => {
        await Promise.all(Array.from({ length: subscribers }, () => subscribe("g4")));
        await new Promise((r) => setTimeout(r, 2000));
      }),
    );
    const payload = "x".repeat(10_000);
    record(
      `G5: ${subscribers.toLocaleString("en")} subscribers that never read, then 2.5 MB published`,
      await probeDuring(["ping", url, "bench"], async () => {
        for (let i = 0; i < 250; i++) {
          await (await call("/", ["PUBLISH", "g4", payload])).body?.cancel();
        }
        await new Promise((r) => setTimeout(r, 1000));
      }),
    );
    for (const conn of conns) conn.close();
  } finally {
    await gateway.stop("SIGTERM");
    await redis.stop();
  }
  return results;
}

/** Every abuse, first against the service, then against the gateway. */
export async function measureAbuse(quick = false): Promise<AbuseResult[]> {
  return [...await serviceAbuse(quick), ...await gatewayAbuse(quick)];
}
