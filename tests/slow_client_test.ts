/**
 * A client that stops reading holds at most `STREAM_BUFFER_KB` on the
 * server, and is dropped when it has not caught up within a heartbeat
 * interval; every other stream keeps getting its events meanwhile. On both
 * HTTP servers.
 *
 * @module
 */
import assert from "node:assert/strict";
import { parseConfig } from "../src/config.ts";
import { startService } from "../src/server.ts";
import { createTracker } from "../src/tracker/tracker.ts";
import { openStream } from "./sse_client.ts";
import { testBroker } from "./test_brokers.ts";

for (const kind of ["node", "deno"] as const) {
  Deno.test(`${kind} server: a client that stops reading is dropped, and the others keep their events`, async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "wattcast-slow-" });
    const config = parseConfig({
      PORT: "0",
      HOST: "127.0.0.1",
      DATA_DIR: dataDir,
      HTTP_SERVER: kind,
      STREAM_BUFFER_KB: "64",
      HEARTBEAT_INTERVAL_SECONDS: "0.5",
      SEED_DEMO_METERS: "false",
    });
    const broker = await testBroker("sqlite", 600);
    const service = await startService(config, broker, { runJobs: false, mode: "embedded" });
    const tracker = createTracker(broker);
    const health = async () => (await (await fetch(`${service.url}/health`)).json()).dependencies;
    let slow: Deno.TcpConn | undefined;
    try {
      const created = await tracker.create({ meter_id: "slow", meter_type: "gas" }, {
        epochs: 1000,
        batch_size: 8,
        learning_rate: 0.01,
      });
      assert.ok(created.created);
      const id = created.task.task_id;
      await tracker.update(id, { status: "FETCHING_DATA" });
      await tracker.update(id, { status: "PREPROCESSING" });

      // The slow client asks for the stream, reads the headers, then stops reading.
      slow = await Deno.connect({ hostname: "127.0.0.1", port: service.port });
      await slow.write(new TextEncoder().encode(
        `GET /trainmodel/stream/${id} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`,
      ));
      const head = new Uint8Array(4096);
      let headRead = 0;
      while (!new TextDecoder().decode(head.subarray(0, headRead)).includes("\r\n\r\n")) {
        headRead += (await slow.read(head.subarray(headRead))) ?? 0;
      }
      const fast = await openStream(`${service.url}/trainmodel/stream/${id}`);
      const received: number[] = [];
      const reading = (async () => {
        for await (const m of fast.messages) {
          if (!m.id) continue;
          const epoch = JSON.parse(m.data).metrics?.epoch;
          if (epoch) received.push(epoch);
          if (epoch === 1000) return;
        }
      })();
      for (let i = 0; i < 100 && (await health()).event_streams.open < 2; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal((await health()).event_streams.open, 2);

      // 1,000 events of about 16 KB: far more than the socket buffers and the 64 KB allowed.
      const padding = "x".repeat(16_000);
      let published = 0;
      for (let epoch = 1; epoch <= 1000; epoch++) {
        const task = await tracker.update(id, {
          status: "TRAINING_MODEL",
          message: `epoch ${epoch} ${padding}`,
          metrics: { epoch, epochs: 1000, loss: 1 / epoch, val_loss: null },
        });
        assert.ok(task);
        published += padding.length;
        if (epoch % 50 === 0) await new Promise((r) => setTimeout(r, 1));
      }
      const deadline = setTimeout(() => fast.close(), 10_000);
      await reading;
      clearTimeout(deadline);
      fast.close();
      assert.deepEqual(
        received,
        Array.from({ length: 1000 }, (_, i) => i + 1),
        "the reading client got every event, in order, while the other one was stuck",
      );

      let dropped = 0;
      for (let i = 0; i < 100 && dropped === 0; i++) {
        dropped = (await health()).event_streams.dropped_slow_clients;
        if (dropped === 0) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(dropped, 1, "the stuck client was dropped");
      assert.equal((await health()).event_streams.open, 0, "and its stream is gone");

      // What the stuck client can still read is what the kernel had buffered, then the end.
      let unread = 0;
      const buffer = new Uint8Array(65_536);
      try {
        while (true) {
          const n = await slow.read(buffer);
          if (n === null) break;
          unread += n;
        }
      } catch (error) {
        // A cut connection may end in a reset rather than a clean end.
        if (!(error instanceof Deno.errors.ConnectionReset)) throw error;
      }
      assert.ok(
        unread < published / 2,
        `the dropped client got ${unread} of ${published} bytes, then the end of the stream`,
      );

      // A replay of the whole 16 MB history goes out as fast as the client
      // reads it: far past the buffer limit, and nobody is dropped for it.
      const replay = await openStream(`${service.url}/trainmodel/stream/${id}`, {
        lastEventId: "0-0",
      });
      let replayed = 0;
      for await (const m of replay.messages) {
        if (!m.id) continue;
        replayed++;
        if (JSON.parse(m.data).metrics?.epoch === 1000) break;
      }
      replay.close();
      assert.equal(replayed, 1000, "the whole log (it keeps a task's last 1,000 events)");
      assert.equal((await health()).event_streams.dropped_slow_clients, 1);
    } finally {
      try {
        slow?.close();
      } catch { /* closed */ }
      await service.close();
      await Deno.remove(dataDir, { recursive: true });
    }
  });
}
