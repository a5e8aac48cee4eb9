/**
 * Gzip on event streams, against the real service: a client reading the
 * raw bytes with `node:http` and inflating them as they come.
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { createGunzip } from "node:zlib";
import { createParser } from "eventsource-parser";
import { startTestService } from "./harness.ts";
import { testBroker } from "./test_brokers.ts";
import { parseConfig } from "../src/config.ts";
import { startService } from "../src/server.ts";
import { createTracker } from "../src/tracker/tracker.ts";
import { encodeBase64 } from "../src/util/base64.ts";
import type { Task } from "../src/domain/task.ts";

/** One event as parsed from the inflated stream. */
interface Event {
  id: string | undefined;
  data: string;
}

/** An event stream read over node:http, its bytes on the wire counted. */
interface RawStream {
  headers: Record<string, string | string[] | undefined>;
  /** Events in arrival order; ends with the stream. */
  events: AsyncGenerator<Event>;
  /** Resolves once the first decoded bytes are in. */
  started: Promise<void>;
  /** The decoded body so far. */
  text(): string;
  /** Body bytes received on the wire so far. */
  wireBytes(): number;
  close(): void;
}

/** Opens a stream with these request headers; inflates it when the response is gzip. */
function openRaw(url: string, headers: Record<string, string> = {}): Promise<RawStream> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { Accept: "text/event-stream", ...headers } }, (res) => {
      let wire = 0;
      let text = "";
      const queue: Event[] = [];
      let wake: (() => void) | undefined;
      let done = false;
      let failure: unknown;
      const parser = createParser({ onEvent: (e) => queue.push({ id: e.id, data: e.data }) });
      const notify = () => {
        const w = wake;
        wake = undefined;
        w?.();
      };
      res.on("data", (chunk: Uint8Array) => (wire += chunk.byteLength));
      const body = res.headers["content-encoding"] === "gzip" ? res.pipe(createGunzip()) : res;
      const decoder = new TextDecoder();
      const { promise: started, resolve: start } = Promise.withResolvers<void>();
      body.on("data", (bytes: Uint8Array) => {
        const chunk = decoder.decode(bytes, { stream: true });
        text += chunk;
        parser.feed(chunk);
        start();
        notify();
      });
      body.on("end", () => {
        done = true;
        notify();
      });
      body.on("error", (error) => {
        failure = error;
        done = true;
        notify();
      });
      res.on("close", () => {
        done = true;
        notify();
      });
      async function* events(): AsyncGenerator<Event> {
        while (true) {
          while (queue.length) yield queue.shift()!;
          if (done) break;
          await new Promise<void>((r) => (wake = r));
        }
        if (failure) throw failure;
      }
      resolve({
        headers: res.headers,
        events: events(),
        started,
        text: () => text,
        wireBytes: () => wire,
        close: () => req.destroy(),
      });
    });
    req.on("error", reject);
    req.end();
  });
}

/** Reads events until `stop` holds for one (included) or the stream ends. */
async function readUntil(stream: RawStream, stop: (e: Event) => boolean): Promise<Event[]> {
  const out: Event[] = [];
  while (true) {
    const next = await stream.events.next();
    if (next.done) return out;
    out.push(next.value);
    if (stop(next.value)) return out;
  }
}

async function readAll(stream: RawStream): Promise<Event[]> {
  return await readUntil(stream, () => false);
}

const statusOf = (e: Event): Task => JSON.parse(e.data);
const isStatus = (e: Event) => e.id !== undefined;
const isFinal = (e: Event) =>
  isStatus(e) && ["SUCCESS", "FAILURE", "CANCELLED"].includes(statusOf(e).status);
const GZIP = { "Accept-Encoding": "gzip" };

Deno.test("a gzip stream inflates to exactly the identity stream, in fewer bytes", async () => {
  const service = await startTestService();
  try {
    const task = await service.start("meter_test_001", { epochs: 8 });
    const url = `${service.url}/trainmodel/stream/${task.task_id}`;
    await readAll(await openRaw(url)); // the task has ended
    // Both replay the whole history from the start.
    const identity = await openRaw(url, { "Last-Event-ID": "0-0" });
    const gzip = await openRaw(url, { "Last-Event-ID": "0-0", ...GZIP });
    const [plainEvents, gzipEvents] = await Promise.all([readAll(identity), readAll(gzip)]);

    assert.equal(identity.headers["content-encoding"], undefined);
    assert.equal(gzip.headers["content-encoding"], "gzip");
    for (const stream of [identity, gzip]) {
      assert.match(String(stream.headers["vary"]), /Accept-Encoding/);
      assert.equal(stream.headers["content-type"], "text/event-stream");
    }
    assert.ok(plainEvents.length >= 10, `${plainEvents.length} events`);
    assert.equal(statusOf(plainEvents.at(-1)!).status, "SUCCESS");
    assert.equal(gzip.text(), identity.text());
    assert.deepEqual(gzipEvents, plainEvents);
    assert.ok(
      gzip.wireBytes() < identity.wireBytes() / 2,
      `${gzip.wireBytes()} gzip bytes against ${identity.wireBytes()}`,
    );
  } finally {
    await service.close();
  }
});

Deno.test("each event is readable before the next is sent, heartbeats included", async () => {
  const service = await startTestService({ HEARTBEAT_INTERVAL_SECONDS: "0.2" });
  try {
    const task = await service.start("meter_test_001", { epochs: 500 });
    const stream = await openRaw(`${service.url}/trainmodel/stream/${task.task_id}`, GZIP);
    assert.equal(stream.headers["content-encoding"], "gzip");
    // The first event is readable while the task is still running: the
    // stream is not held back until it ends.
    const [first] = await readUntil(stream, isStatus);
    assert.ok(!isFinal(first));
    const seen = await readUntil(stream, (e) => JSON.parse(e.data).type === "heartbeat");
    assert.ok(!seen.some(isFinal));
    assert.ok(!["SUCCESS", "FAILURE"].includes((await service.status(task.task_id)).status));
    // Only now is the task cancelled: the cancellation comes through, then
    // the stream ends with a complete gzip trailer (no decoding error).
    await fetch(`${service.url}/trainmodel/${task.task_id}`, { method: "DELETE" }).then((r) =>
      r.body?.cancel()
    );
    const rest = await readAll(stream);
    assert.equal(statusOf(rest.filter(isStatus).at(-1)!).status, "CANCELLED");
  } finally {
    await service.close();
  }
});

Deno.test("Last-Event-ID resumes a gzip stream with nothing lost or repeated", async () => {
  const service = await startTestService();
  try {
    const task = await service.start("meter_test_001", { epochs: 6 });
    const url = `${service.url}/trainmodel/stream/${task.task_id}`;
    const reference = await openRaw(url, { "Last-Event-ID": "0-0", ...GZIP });
    const everything = readUntil(reference, isFinal);

    const first = await openRaw(url, GZIP);
    const before = await readUntil(
      first,
      (e) => isStatus(e) && statusOf(e).status === "TRAINING_MODEL",
    );
    first.close();
    await new Promise((r) => setTimeout(r, 600)); // events happen while it is away
    const lastId = before.filter(isStatus).at(-1)!.id!;
    const second = await openRaw(url, { "Last-Event-ID": lastId, ...GZIP });
    assert.equal(second.headers["content-encoding"], "gzip");
    const after = await readUntil(second, isFinal);

    const all = (await everything).filter(isStatus).map((e) => e.id);
    const got = [...before, ...after].filter(isStatus).map((e) => e.id);
    const from = all.indexOf(got[0]);
    assert.ok(from >= 0);
    assert.deepEqual(got, all.slice(from));
  } finally {
    await service.close();
  }
});

Deno.test("identity for clients that do not accept gzip, and with STREAM_GZIP off", async () => {
  const on = await startTestService();
  const off = await startTestService({ STREAM_GZIP: "false" });
  try {
    const task = await on.start("meter_test_001", { epochs: 2 });
    const url = `${on.url}/trainmodel/stream/${task.task_id}`;
    await readAll(await openRaw(url));
    const encodings: [Record<string, string>, string | undefined][] = [
      [{}, undefined],
      [{ "Accept-Encoding": "identity" }, undefined],
      [{ "Accept-Encoding": "gzip;q=0, deflate" }, undefined],
      [{ "Accept-Encoding": "br, gzip;q=0.5" }, "gzip"],
      [{ "Accept-Encoding": "*" }, "gzip"],
    ];
    for (const [headers, expected] of encodings) {
      const stream = await openRaw(url, headers);
      const events = await readAll(stream);
      assert.equal(stream.headers["content-encoding"], expected, JSON.stringify(headers));
      assert.equal(statusOf(events.at(-1)!).status, "SUCCESS");
    }
    // The all-task stream goes through the same sink.
    const all = await openRaw(`${on.url}/trainmodel/events`, GZIP);
    assert.equal(all.headers["content-encoding"], "gzip");
    await all.started; // its first frame, the position it starts from
    assert.match(all.text(), /^id: \d+-\d+\n\n/);
    all.close();

    const offTask = await off.start("meter_test_001", { epochs: 2 });
    const offStream = await openRaw(`${off.url}/trainmodel/stream/${offTask.task_id}`, GZIP);
    const offEvents = await readAll(offStream);
    assert.equal(offStream.headers["content-encoding"], undefined);
    assert.doesNotMatch(String(offStream.headers["vary"] ?? ""), /Accept-Encoding/);
    assert.ok(isFinal(offEvents.at(-1)!));
  } finally {
    await on.close();
    await off.close();
  }
});

Deno.test("a gzip client that stops reading is dropped by its unread compressed bytes", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "wattcast-gzip-" });
  const config = parseConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    SEED_DEMO_METERS: "false",
    STREAM_BUFFER_KB: "64",
    HEARTBEAT_INTERVAL_SECONDS: "0.5",
  });
  const broker = await testBroker("sqlite", 600);
  const service = await startService(config, broker, { runJobs: false, mode: "embedded" });
  const health = async () =>
    (await (await fetch(`${service.url}/health`)).json()).dependencies.event_streams;
  const stuck = await Deno.connect({ hostname: "127.0.0.1", port: service.port });
  try {
    const tracker = createTracker(broker);
    const created = await tracker.create({ meter_id: "stuck", meter_type: "gas" }, {
      epochs: 400,
      batch_size: 8,
      learning_rate: 0.01,
    });
    assert.ok(created.created);
    const id = created.task.task_id;
    await tracker.update(id, { status: "FETCHING_DATA" });
    await tracker.update(id, { status: "PREPROCESSING" });
    await stuck.write(new TextEncoder().encode(
      `GET /trainmodel/stream/${id} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: gzip\r\n\r\n`,
    ));
    const head = new Uint8Array(512);
    const n = (await stuck.read(head)) ?? 0;
    assert.match(new TextDecoder().decode(head.subarray(0, n)), /content-encoding: gzip/i);
    // Events that gzip cannot shrink much (random text): about 6 MB
    // compressed, far past the 64 KB allowed and the socket buffers.
    for (let epoch = 1; epoch <= 400; epoch++) {
      const noise = encodeBase64(crypto.getRandomValues(new Uint8Array(12_000)));
      await tracker.update(id, {
        status: "TRAINING_MODEL",
        message: `epoch ${epoch} ${noise}`,
        metrics: { epoch, epochs: 400, loss: 1, val_loss: null },
      });
    }
    let dropped = 0;
    for (let i = 0; i < 200 && dropped === 0; i++) {
      dropped = (await health()).dropped_slow_clients;
      if (dropped === 0) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(dropped, 1, "the stuck gzip client was dropped");
    assert.equal((await health()).open, 0);
  } finally {
    stuck.close();
    await service.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
