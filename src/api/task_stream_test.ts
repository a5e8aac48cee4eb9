import { openLimits } from "../limits/limits.ts";
import { parseConfig } from "../config.ts";
import { openAuthenticator } from "../auth/open_authenticator.ts";
import assert from "node:assert/strict";
import { createMemoryBroker } from "../broker/memory_broker.ts";
import { createEventHub } from "../broker/event_hub.ts";
import { createTracker } from "../tracker/tracker.ts";
import { createApp } from "./app.ts";
import { createModelStore } from "../models/model_store.ts";
import { openStream } from "../../tests/sse_client.ts";
import { captureLogs } from "../../tests/log_capture.ts";
import { serveApp } from "../http_server.ts";
import { createOpenStreams } from "./open_streams.ts";

/** The configuration of a service given no environment, with no data directory. */
const defaults = parseConfig({ DATA_DIR: "off" });

for (const kind of ["node", "deno"] as const) {
  Deno.test(`${kind} server: a broker failure mid-stream becomes one plain error event, never the raw message`, async () => {
    const real = createMemoryBroker({ taskTtlSeconds: 60 });
    let failReads = false;
    // The real broker, with its log reads failing on demand (a Redis outage, say).
    const broker = {
      ...real,
      readEvents: (taskId: string, afterId: string) =>
        failReads
          ? Promise.reject(new Error("ECONNRESET secret-internal-host:6379"))
          : real.readEvents(taskId, afterId),
    };
    const tracker = createTracker(broker);
    const hub = createEventHub(broker);
    const app = createApp({
      broker,
      hub,
      tracker,
      models: createModelStore({ broker, dataDir: null }),
      forecaster: { forecast: () => Promise.reject(new Error("unused")), close: () => {} },
      health: [],
      info: {},
      streams: createOpenStreams({ heartbeatMs: 60_000, streamMaxMs: 60_000 }),
      maxBufferedBytes: 65_536,
      stallMs: 5000,
      maxStreams: 100,
      taskTtlSeconds: 3600,
      readingsSpan: { earliest: 0, maxDaysAhead: 2 },
      corsOrigin: "*",
      // Authentication off, limits and queue bounds at their defaults: as configured by nothing.
      auth: (await openAuthenticator(defaults)).auth,
      streamTokenTimes: defaults.streamTokenTimes,
      queueBounds: defaults.queueBounds,
      limits: openLimits(defaults, null),
      debug: false,
    });
    const logs = await captureLogs();
    const server = await serveApp(app, { kind, port: 0, hostname: "127.0.0.1" });
    try {
      const created = await tracker.create({ meter_id: "m", meter_type: "gas" }, {
        epochs: 1,
        batch_size: 8,
        learning_rate: 0.1,
      });
      assert.ok(created.created);
      failReads = true;
      const stream = await openStream(
        `${server.url}/trainmodel/stream/${created.task.task_id}`,
        { lastEventId: "0-0" },
      );
      assert.equal(stream.response.status, 200);
      const messages = [];
      for await (const m of stream.messages) messages.push(m);
      assert.equal(messages.length, 1, "one error event, then the stream ends");
      const body = JSON.parse(messages[0].data);
      assert.equal(body.type, "error");
      assert.equal(body.task_id, created.task.task_id);
      assert.match(body.error, /Reconnect to resume/);
      assert.ok(!messages[0].data.includes("secret-internal-host"), "internals stay in the log");
      assert.equal(messages[0].event, undefined);
      assert.equal(messages[0].id, undefined);
      assert.ok(
        logs.lines.some((line) => line.includes("ECONNRESET")),
        "the cause is logged",
      );
    } finally {
      await logs.stop();
      hub.close();
      await server.close();
    }
  });
}
