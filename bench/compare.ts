/**
 * Polling against the stream for one long training task, as the terminal
 * client's `--compare` measures it (`client/compare.ts`): the service
 * (`main.ts`, embedded mode) in a process of its own, one task sized to run
 * about `targetSeconds`, watched at once by polling every 2 s and by its
 * event stream. Bytes are counted from the socket (headers, chunked framing
 * and compression included).
 *
 * @module
 */
import { compareMethods, type CompareReport } from "../client/compare.ts";
import { followTasks } from "../client/follow.ts";
import { createHttpClient, type HttpClient } from "../client/http.ts";
import type { Task } from "../src/domain/task.ts";
import { spawnDeno } from "../tests/processes.ts";
import { freePort } from "../tests/redis_server.ts";

/** The comparison, and how the task was sized. */
export interface CompareBench {
  report: CompareReport;
  epochs: number;
  batchSize: number;
  /** Seconds per epoch measured by a short calibration run. */
  secondsPerEpoch: number;
  /** Mean bytes of a status event's frame on the stream (its `data:` and `id:` lines). */
  eventBytes: number;
  /** Heartbeat interval of the service, seconds. */
  heartbeatSeconds: number;
}

const BATCH_SIZE = 16;
const METER = { meter_id: "meter_test_001", meter_type: "electricity" } as const;

async function start(client: HttpClient, epochs: number): Promise<string> {
  const answer = await client.json("POST", "/trainmodel/", {
    ...METER,
    epochs,
    batch_size: BATCH_SIZE,
  });
  if (answer.status !== 202) throw new Error(`POST /trainmodel/: ${JSON.stringify(answer.body)}`);
  return (answer.body as Task).task_id;
}

/** Runs one task of about `targetSeconds` and compares both ways of watching it. */
export async function measureCompare(targetSeconds = 300): Promise<CompareBench> {
  const dataDir = await Deno.makeTempDir({ prefix: "wattcast-bench-compare-" });
  const port = freePort();
  const heartbeatSeconds = 5;
  const server = spawnDeno("server", "main.ts", {
    PORT: String(port),
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    HEARTBEAT_INTERVAL_SECONDS: String(heartbeatSeconds),
  });
  const client = createHttpClient(`http://127.0.0.1:${port}`, null);
  try {
    await server.waitFor(/listening on/, 60_000);
    // Calibration: seconds per epoch at this batch size, on this machine now.
    const epochTimes: number[] = [];
    await followTasks(client, [await start(client, 8)], {
      onEvent(event) {
        if (event.kind === "status" && event.task.metrics?.epoch) {
          epochTimes.push(Date.parse(event.task.updated_at));
        }
      },
    });
    const secondsPerEpoch = (epochTimes.at(-1)! - epochTimes[0]) / 1000 /
      Math.max(1, epochTimes.length - 1);
    const epochs = Math.max(1, Math.min(500, Math.round((targetSeconds - 3) / secondsPerEpoch)));
    const taskId = await start(client, epochs);
    let frameBytes = 0;
    let frames = 0;
    const report = await compareMethods(client, taskId, {
      onStreamEvent(event) {
        if (event.kind !== "status") return;
        frames++;
        frameBytes += new TextEncoder().encode(
          `data: ${JSON.stringify(event.task)}\nid: ${event.id}\n\n`,
        ).byteLength;
      },
    });
    return {
      report,
      epochs,
      batchSize: BATCH_SIZE,
      secondsPerEpoch,
      eventBytes: frames ? frameBytes / frames : 0,
      heartbeatSeconds,
    };
  } finally {
    client.close();
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
}
