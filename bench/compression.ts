/**
 * Gzip on event streams (`STREAM_GZIP`, `src/api/sse_gzip.ts`), measured
 * for the rule: on for clients that accept it only if it saves at
 * least half the bytes and adds under 1 ms at p99.
 *
 * - A real training on a real server, streamed at once by two clients
 *   (`node:http`, raw bytes counted): one without `Accept-Encoding`, one
 *   with gzip that inflates as it reads. Body bytes on the wire for each,
 *   and how much later each event reached the gzip client than the other.
 * - A 5-minute task: that training's status frames, with the heartbeats a
 *   5-minute stream carries (one every 5 s), through the stream's
 *   compressor one frame at a time as a live stream writes them: bytes,
 *   CPU per event, and the delay from a write to its compressed bytes.
 * - An idle compressed stream's memory: idle streams held open on a
 *   server process, with and without gzip, its memory growth per stream;
 *   and the compressor alone at zlib's default window and at the stream's.
 *
 * @module
 */
import { request } from "node:http";
import process from "node:process";
import { createGunzip } from "node:zlib";
import { createMemoryBroker } from "../src/broker/memory_broker.ts";
import { parseConfig } from "../src/config.ts";
import { startService } from "../src/server.ts";
import {
  createGzipEncoder,
  GZIP_SETTINGS,
  type GzipSettings,
  IDLE_MS,
} from "../src/api/sse_gzip.ts";
import { sseFrame } from "../src/api/sse_frame.ts";
import { freePort } from "../tests/redis_server.ts";
import { spawnDeno } from "../tests/processes.ts";
import { percentile, rssBytes } from "./stats.ts";

/** One client's view of the live training stream. */
interface LiveClient {
  /** Body bytes on the wire. */
  wireBytes: number;
  /** Decoded body. */
  text: string;
  /** `performance.now()` at which each event id arrived (decoded). */
  arrivals: Map<string, number>;
  contentEncoding: string | undefined;
}

/** What `measureCompression` found. */
export interface CompressionResult {
  live: {
    epochs: number;
    events: number;
    heartbeats: number;
    seconds: number;
    identity: LiveClient;
    gzip: LiveClient;
    /** Per status event: its arrival at the gzip client less at the identity client, ms. */
    laterMs: number[];
    identical: boolean;
  };
  task: {
    statusEvents: number;
    heartbeats: number;
    identityBytes: number;
    gzipBytes: number;
    /** Process CPU per frame compressed, µs. */
    cpuUsPerEvent: number;
    /** From a frame's write to its compressed bytes, ms. */
    delayP50Ms: number;
    delayP99Ms: number;
    /** Bytes of the same sequence with zlib's default window (15) and hash (8). */
    defaultSettingsBytes: number;
  };
  memory: {
    streams: number;
    identityBytesPerStream: number;
    /** Just after its first event, its compressor live. */
    gzipBytesPerStream: number;
    /** After `IDLE_MS` of heartbeats only: its compressor freed. */
    gzipIdleBytesPerStream: number;
    /** Then as many new gzip streams, each with a live compressor: growth per stream. */
    gzipAgainBytesPerStream: number;
    /** The compressor alone, per instance, at the stream's settings and zlib's defaults. */
    compressorBytes: number;
    defaultCompressorBytes: number;
  };
}

/** Streams `url` over node:http, reading each event as it comes. */
function follow(url: string, headers: Record<string, string>): Promise<LiveClient> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { Accept: "text/event-stream", ...headers } }, (res) => {
      const client: LiveClient = {
        wireBytes: 0,
        text: "",
        arrivals: new Map(),
        contentEncoding: res.headers["content-encoding"],
      };
      res.on("data", (chunk: Uint8Array) => (client.wireBytes += chunk.byteLength));
      const body = client.contentEncoding === "gzip" ? res.pipe(createGunzip()) : res;
      const decoder = new TextDecoder();
      let partial = "";
      body.on("data", (bytes: Uint8Array) => {
        const now = performance.now();
        const text = decoder.decode(bytes, { stream: true });
        client.text += text;
        const lines = (partial + text).split("\n");
        partial = lines.pop()!;
        for (const line of lines) {
          if (line.startsWith("id: ")) client.arrivals.set(line.slice(4), now);
        }
      });
      body.on("end", () => resolve(client));
      body.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/** Trains a real meter for `epochs` on a real server, streamed by both clients. */
async function liveTraining(epochs: number): Promise<CompressionResult["live"]> {
  const config = parseConfig({ PORT: "0", HOST: "127.0.0.1", DATA_DIR: "off" });
  const broker = createMemoryBroker({ taskTtlSeconds: 600 });
  const service = await startService(config, broker, { runJobs: true, mode: "embedded" });
  try {
    const started = performance.now();
    const response = await fetch(`${service.url}/trainmodel`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ meter_id: "meter_test_001", meter_type: "electricity", epochs }),
    });
    const task = await response.json();
    if (response.status !== 202) throw new Error(`training refused: ${JSON.stringify(task)}`);
    const url = `${service.url}/trainmodel/stream/${task.task_id}`;
    // Both from the task's first event.
    const [identity, gzip] = await Promise.all([
      follow(url, { "Last-Event-ID": "0-0" }),
      follow(url, { "Last-Event-ID": "0-0", "Accept-Encoding": "gzip" }),
    ]);
    if (gzip.contentEncoding !== "gzip") throw new Error("the stream was not gzipped");
    const laterMs: number[] = [];
    for (const [id, at] of identity.arrivals) {
      const gzAt = gzip.arrivals.get(id);
      if (gzAt !== undefined) laterMs.push(gzAt - at);
    }
    const heartbeatsOf = (text: string) => text.split('"type":"heartbeat"').length - 1;
    return {
      epochs,
      events: identity.arrivals.size,
      heartbeats: Math.min(heartbeatsOf(identity.text), heartbeatsOf(gzip.text)),
      seconds: (performance.now() - started) / 1000,
      identity,
      gzip,
      laterMs,
      // Heartbeats carry their own timestamps; the status events must match.
      identical: statusFrames(identity.text).join("") === statusFrames(gzip.text).join(""),
    };
  } finally {
    await service.close();
  }
}

/** The status frames of a stream's text (those with an `id:`), whole. */
function statusFrames(text: string): string[] {
  return text.split("\n\n").filter((f) => f.includes("\nid: ")).map((f) => `${f}\n\n`);
}

/**
 * A 5-minute task's stream: the status frames spread over five minutes
 * with a heartbeat every 5 s between them, as the server writes them.
 */
function fiveMinuteSequence(statusText: string, taskId: string): Uint8Array[] {
  const encoder = new TextEncoder();
  const statuses = statusFrames(statusText).map((f) => encoder.encode(f));
  const heartbeats = 60;
  const start = Date.parse("2026-01-15T10:00:00Z");
  const frames: Uint8Array[] = [];
  for (let i = 0, beat = 1; i < statuses.length; i++) {
    frames.push(statuses[i]);
    // The heartbeats that fall before the next status event.
    while (beat <= heartbeats && beat / heartbeats <= (i + 1) / statuses.length) {
      const timestamp = new Date(start + beat * 5000).toISOString();
      frames.push(sseFrame({ task_id: taskId, type: "heartbeat", timestamp }));
      beat++;
    }
  }
  return frames;
}

/** Writes the frames one at a time through a stream's encoder, as a live stream does. */
async function compressLive(
  frames: Uint8Array[],
  settings: GzipSettings,
): Promise<{ bytes: number; delaysMs: number[] }> {
  let bytes = 0;
  const encoder = createGzipEncoder((chunk) => (bytes += chunk.byteLength), settings);
  const delaysMs: number[] = [];
  for (const frame of frames) {
    const t = performance.now();
    encoder.write(frame); // synchronous: the bytes are out when it returns
    delaysMs.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 0)); // frames come one by one, as live
  }
  encoder.end();
  return { bytes, delaysMs };
}

/** Bytes, CPU and delay of the 5-minute sequence. */
async function fiveMinuteTask(
  live: CompressionResult["live"],
  rounds: number,
): Promise<CompressionResult["task"]> {
  const frames = fiveMinuteSequence(live.identity.text, "task");
  const identityBytes = frames.reduce((n, f) => n + f.byteLength, 0);
  const first = await compressLive(frames, GZIP_SETTINGS);
  const defaults = await compressLive(frames, {
    level: 6,
    windowBits: 15,
    memLevel: 8,
    chunkSize: 16 * 1024,
  });
  const delays: number[] = [];
  for (let i = 0; i < rounds; i++) {
    delays.push(...(await compressLive(frames, GZIP_SETTINGS)).delaysMs);
  }
  // CPU: the same frames back to back, nothing else in the loop.
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < rounds; i++) {
    const encoder = createGzipEncoder(() => {});
    for (const frame of frames) encoder.write(frame);
    encoder.end();
  }
  const cpu = process.cpuUsage(cpuBefore);
  const statusEvents = frames.filter((f) => !new TextDecoder().decode(f).includes('"heartbeat"'))
    .length;
  return {
    statusEvents,
    heartbeats: frames.length - statusEvents,
    identityBytes,
    gzipBytes: first.bytes,
    cpuUsPerEvent: (cpu.user + cpu.system) / (rounds * frames.length),
    delayP50Ms: percentile(delays, 50),
    delayP99Ms: percentile(delays, 99),
    defaultSettingsBytes: defaults.bytes,
  };
}

/** Opens `count` idle streams on the server process, with or without gzip; its growth per stream. */
async function idleStreams(
  pid: number,
  port: number,
  path: string,
  count: number,
  gzip: boolean,
): Promise<{ perStream: number; perStreamNow(): number; close(): void }> {
  const conns: Deno.Conn[] = [];
  const request = new TextEncoder().encode(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n${
      gzip ? "Accept-Encoding: gzip\r\n" : ""
    }\r\n`,
  );
  const before = rssBytes(pid);
  let answered = 0;
  for (let i = 0; i < count; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conns.push(conn);
    await conn.write(request);
    void (async () => {
      const buffer = new Uint8Array(4096);
      let first = true;
      try {
        while ((await conn.read(buffer)) !== null) {
          if (first) {
            first = false;
            const head = new TextDecoder().decode(buffer.subarray(0, 400));
            const encoded = /content-encoding: gzip/i.test(head);
            if (encoded !== gzip) throw new Error(`gzip ${gzip}, answered ${head}`);
            answered++;
          }
        }
      } catch { /* closed */ }
    })();
  }
  while (answered < count) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 2000)); // the first heartbeats have gone out
  const perStreamNow = () => (rssBytes(pid) - before) / count;
  return { perStream: perStreamNow(), perStreamNow, close: () => conns.forEach((c) => c.close()) };
}

/** The compressor alone: memory per instance holding one frame's state, in a fresh process. */
async function compressorMemory(settings: GzipSettings): Promise<number> {
  const script = `
    import { createGzipEncoder } from "./src/api/sse_gzip.ts";
    const settings = ${JSON.stringify(settings)};
    const frame = new TextEncoder().encode("data: " + JSON.stringify({ x: "y".repeat(500) }) + "\\n\\n");
    const held = [];
    const make = () => {
      const encoder = createGzipEncoder(() => {}, settings);
      encoder.write(frame);
      held.push(encoder);
    };
    for (let i = 0; i < 50; i++) make();
    const before = Deno.memoryUsage().rss;
    for (let i = 0; i < 2000; i++) make();
    console.log((Deno.memoryUsage().rss - before) / 2000);
  `;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    cwd: new URL("..", import.meta.url).pathname,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  return Number(new TextDecoder().decode(output.stdout).trim());
}

/** Runs the three measurements; `quick` trains fewer epochs and holds fewer streams. */
export async function measureCompression(quick: boolean): Promise<CompressionResult> {
  const live = await liveTraining(quick ? 40 : 387);
  const task = await fiveMinuteTask(live, quick ? 5 : 30);

  const streams = quick ? 200 : 1000;
  const port = await freePort();
  const control = await freePort();
  const server = spawnDeno("embedded", "bench/fanout_embedded_server.ts", {
    HEARTBEAT_INTERVAL_SECONDS: "1",
  }, [String(port), String(control)]);
  let identityPerStream: number, gzipPerStream: number, gzipIdlePerStream: number;
  let gzipAgainPerStream: number;
  try {
    await server.waitFor(/task \S+/);
    const taskId = /task (\S+)/.exec(server.output())![1];
    const path = `/trainmodel/stream/${taskId}`;
    // A warm-up round, so that the runtime's own growth is not counted.
    (await idleStreams(server.child.pid, port, path, 100, true)).close();
    (await idleStreams(server.child.pid, port, path, 100, false)).close();
    await new Promise((r) => setTimeout(r, 1000));
    const identity = await idleStreams(server.child.pid, port, path, streams, false);
    const gzip = await idleStreams(server.child.pid, port, path, streams, true);
    identityPerStream = identity.perStream;
    gzipPerStream = gzip.perStream;
    // Heartbeats only from now on: the compressors are freed after IDLE_MS.
    await new Promise((r) => setTimeout(r, IDLE_MS + 3000));
    gzipIdlePerStream = gzip.perStreamNow();
    // Do idle streams really give their compressor back? The allocator
    // keeps freed pages, so RSS shows it as reuse: as many new gzip
    // streams (a compressor each) now grow the process by how much?
    const again = await idleStreams(server.child.pid, port, path, streams, true);
    gzipAgainPerStream = again.perStream;
    again.close();
    identity.close();
    gzip.close();
  } finally {
    await server.stop();
  }
  return {
    live,
    task,
    memory: {
      streams,
      identityBytesPerStream: identityPerStream,
      gzipBytesPerStream: gzipPerStream,
      gzipIdleBytesPerStream: gzipIdlePerStream,
      gzipAgainBytesPerStream: gzipAgainPerStream,
      compressorBytes: await compressorMemory(GZIP_SETTINGS),
      defaultCompressorBytes: await compressorMemory({
        level: 6,
        windowBits: 15,
        memLevel: 8,
        chunkSize: 16 * 1024,
      }),
    },
  };
}
