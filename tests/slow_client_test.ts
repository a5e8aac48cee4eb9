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
    const t = await bare(kind, { STREAM_BUFFER_KB: "64", HEARTBEAT_INTERVAL_SECONDS: "0.5" });
    let slow: Deno.TcpConn | undefined;
    try {
      slow = await t.stuck();
      const fast = await openStream(`${t.service.url}/trainmodel/stream/${t.id}`);
      const received: number[] = [];
      const reading = (async () => {
        for await (const m of fast.messages) {
          if (!m.id) continue;
          const epoch = JSON.parse(m.data).metrics?.epoch;
          if (epoch) received.push(epoch);
          if (epoch === 1000) return;
        }
      })();
      for (let i = 0; i < 100 && (await t.health()).event_streams.open < 2; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal((await t.health()).event_streams.open, 2);

      // 1,000 events of about 16 KB: far more than the socket buffers and the 64 KB allowed.
      await t.publish(1000);
      const published = 1000 * 16_000;
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
        dropped = (await t.health()).event_streams.dropped_slow_clients;
        if (dropped === 0) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(dropped, 1, "the stuck client was dropped");
      assert.equal((await t.health()).event_streams.open, 0, "and its stream is gone");

      // What the stuck client can still read is what the kernel had buffered, then the end.
      const unread = await readToEnd(slow);
      assert.ok(
        unread < published / 2,
        `the dropped client got ${unread} of ${published} bytes, then the end of the stream`,
      );

      // A replay of the whole 16 MB history goes out as fast as the client
      // reads it: far past the buffer limit, and nobody is dropped for it.
      const replay = await openStream(`${t.service.url}/trainmodel/stream/${t.id}`, {
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
      assert.equal((await t.health()).event_streams.dropped_slow_clients, 1);
    } finally {
      try {
        slow?.close();
      } catch { /* closed */ }
      await t.close();
    }
  });
}

/** A service on `kind` without a job runner, a tracker to publish with, and a client that never reads. */
Deno.test("D7: while 200 full replays that never read are open, /health answers and a reading replay gets every event", async () => {
  const t = await bare("node", {
    STREAM_BUFFER_KB: "64",
    HEARTBEAT_INTERVAL_SECONDS: "30",
    // 200 streams from one address: past the per-caller caps, which are not what this tests.
    STREAM_LIMIT_PER_PRINCIPAL: "0",
    RATE_LIMIT_STREAM_PER_MINUTE: "0",
  });
  const conns: Deno.TcpConn[] = [];
  try {
    await t.publish(500); // about 8 MB of history
    for (let i = 0; i < 200; i++) conns.push(await t.stuck("0-0"));
    const health = await t.health();
    assert.equal(health.event_streams.open, 200, "every replay is open and waiting for its client");
    const reader = await openStream(`${t.service.url}/trainmodel/stream/${t.id}`, {
      lastEventId: "0-0",
    });
    const epochs: number[] = [];
    for await (const m of reader.messages) {
      if (!m.id) continue;
      const epoch = JSON.parse(m.data).metrics?.epoch;
      if (epoch) epochs.push(epoch);
      if (epoch === 500) break;
    }
    reader.close();
    assert.deepEqual(epochs, Array.from({ length: 500 }, (_, i) => i + 1));
    let open = -1;
    for (let i = 0; i < 100 && open !== 200; i++) {
      open = (await t.health()).event_streams.open;
      if (open !== 200) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(open, 200, "the reader's stream ended; the stuck ones are still served");
  } finally {
    for (const conn of conns) {
      try {
        conn.close();
      } catch { /* closed */ }
    }
    await t.close();
  }
});

async function bare(kind: "node" | "deno", env: Record<string, string>) {
  const dataDir = await Deno.makeTempDir({ prefix: "wattcast-slow-" });
  const config = parseConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    HTTP_SERVER: kind,
    SEED_DEMO_METERS: "false",
    ...env,
  });
  const broker = await testBroker("sqlite", 600);
  const service = await startService(config, broker, { runJobs: false, mode: "embedded" });
  const tracker = createTracker(broker);
  const created = await tracker.create({ meter_id: "stuck", meter_type: "gas" }, {
    epochs: 1000,
    batch_size: 8,
    learning_rate: 0.01,
  });
  assert.ok(created.created);
  const id = created.task.task_id;
  await tracker.update(id, { status: "FETCHING_DATA" });
  await tracker.update(id, { status: "PREPROCESSING" });
  let epoch = 0;
  const padding = "x".repeat(16_000);
  return {
    service,
    id,
    health: async () => (await (await fetch(`${service.url}/health`)).json()).dependencies,
    /** Publishes `n` events of about 16 KB each. */
    async publish(n: number) {
      for (let i = 0; i < n; i++) {
        epoch++;
        await tracker.update(id, {
          status: "TRAINING_MODEL",
          message: `epoch ${epoch} ${padding}`,
          metrics: { epoch, epochs: 1000, loss: 1, val_loss: null },
        });
      }
    },
    /** Opens the task's stream (a replay from `lastEventId`), reads the headers, and reads nothing more. */
    async stuck(lastEventId?: string): Promise<Deno.TcpConn> {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: service.port });
      const resume = lastEventId ? `Last-Event-ID: ${lastEventId}\r\n` : "";
      await conn.write(new TextEncoder().encode(
        `GET /trainmodel/stream/${id} HTTP/1.1\r\nHost: 127.0.0.1\r\n${resume}\r\n`,
      ));
      await conn.read(new Uint8Array(512));
      return conn;
    },
    async close() {
      await service.close();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

/** Reads a connection to its end; the bytes read. */
async function readToEnd(conn: Deno.TcpConn): Promise<number> {
  let total = 0;
  const buffer = new Uint8Array(65_536);
  try {
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) return total;
      total += n;
    }
  } catch {
    return total; // reset: cut
  }
}

for (const kind of ["node", "deno"] as const) {
  Deno.test(`${kind} server: with a 16 KB buffer limit, a client reading at full speed is never dropped`, async () => {
    const t = await bare(kind, { STREAM_BUFFER_KB: "16", HEARTBEAT_INTERVAL_SECONDS: "1" });
    try {
      await t.publish(300);
      const replay = await openStream(`${t.service.url}/trainmodel/stream/${t.id}`, {
        lastEventId: "0-0",
      });
      let events = 0;
      for await (const m of replay.messages) {
        if (!m.id) continue;
        events++;
        if (JSON.parse(m.data).metrics?.epoch === 300) break;
      }
      replay.close();
      assert.equal(events, 303, "the whole history, about 4.8 MB through a 16 KB window");
      assert.equal((await t.health()).event_streams.dropped_slow_clients, 0);
    } finally {
      await t.close();
    }
  });

  Deno.test(`${kind} server: a stuck client is cut at the maximum duration and counted, and shutdown does not wait for it`, async () => {
    const t = await bare(kind, { STREAM_MAX_SECONDS: "1", HEARTBEAT_INTERVAL_SECONDS: "60" });
    const conns: Deno.TcpConn[] = [];
    try {
      conns.push(await t.stuck());
      await t.publish(300); // about 4.8 MB: the client's buffers and the 64 KB limit are full
      let health = await t.health();
      for (let i = 0; i < 60 && health.event_streams.open > 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
        health = await t.health();
      }
      assert.equal(health.event_streams.open, 0, "ended at the maximum duration");
      assert.equal(
        health.event_streams.dropped_slow_clients,
        1,
        "cut and counted, not ended cleanly",
      );
      // What is left for it is what the kernel had buffered, then the end of
      // the connection (a clean end would have kept it open, and this read
      // would not return).
      let timer: ReturnType<typeof setTimeout> | undefined;
      const got = await Promise.race([
        readToEnd(conns[0]),
        new Promise<number>((resolve) => (timer = setTimeout(() => resolve(-1), 5000))),
      ]);
      clearTimeout(timer);
      assert.ok(got >= 0, "the connection was closed");
      assert.ok(got < 300 * 16_000, `it got ${got} bytes of the ${300 * 16_000} published`);

      conns.push(await t.stuck());
      await t.publish(300);
      const started = performance.now();
      await t.service.close();
      const took = performance.now() - started;
      assert.ok(took < 8000, `shutdown took ${took.toFixed(0)} ms with a stuck client`);
    } finally {
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* closed */ }
      }
      await t.close().catch(() => {});
    }
  });
}
