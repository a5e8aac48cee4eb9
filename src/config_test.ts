import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "./config.ts";

Deno.test("parseConfig applies the documented defaults", () => {
  const c = parseConfig({});
  assert.equal(c.port, 8000);
  assert.equal(c.heartbeatMs, 5000);
  assert.equal(c.streamMaxMs, 3_600_000);
  assert.equal(c.taskTtlSeconds, 3600);
  assert.equal(c.debug, false);
  assert.equal(c.dataDir, "./data");
  assert.equal(c.seedDemoMeters, true);
});

Deno.test("parseConfig reads and converts values", () => {
  const c = parseConfig({
    PORT: "9001",
    DEBUG: "true",
    HEARTBEAT_INTERVAL_SECONDS: "0.5",
    SEED_DEMO_METERS: "0",
    DATA_DIR: "/tmp/x",
  });
  assert.equal(c.port, 9001);
  assert.equal(c.debug, true);
  assert.equal(c.heartbeatMs, 500);
  assert.equal(c.seedDemoMeters, false);
  assert.equal(c.dataDir, "/tmp/x");
  assert.equal(parseConfig({ DATA_DIR: "off" }).dataDir, null, "models in the broker only");
});

Deno.test("parseConfig names every bad variable", () => {
  assert.throws(
    () => parseConfig({ PORT: "eighty", DEBUG: "maybe" }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /PORT="eighty"/);
      assert.match(e.message, /DEBUG="maybe"/);
      return true;
    },
  );
  assert.throws(() => parseConfig({ PORT: "70000" }), /PORT/);
  // Each says what the variable takes, not zod's "expected number, received NaN".
  assert.throws(
    () => parseConfig({ PORT: "abc", HEARTBEAT_INTERVAL_SECONDS: "x", STREAM_GZIP: "maybe" }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /PORT="abc": must be a whole number from 0 to 65535/);
      assert.match(e.message, /HEARTBEAT_INTERVAL_SECONDS="x": must be a number from 0\.05 to 300/);
      assert.match(e.message, /STREAM_GZIP="maybe": must be true or false/);
      return true;
    },
  );
  assert.throws(() => parseConfig({ PORT: "80.5" }), /PORT="80\.5": must be a whole number/);
});

Deno.test("parseConfig reads the Redis variables and checks them", () => {
  const c = parseConfig({
    UPSTASH_REDIS_REST_URL: "https://eu1-x.upstash.io/",
    UPSTASH_REDIS_REST_TOKEN: "tok",
    REDIS_URL: "redis://127.0.0.1:6380",
    WORKER_CONCURRENCY: "2",
  });
  assert.equal(c.redisRestUrl, "https://eu1-x.upstash.io");
  assert.equal(c.redisRestToken, "tok");
  assert.equal(c.redisUrl, "redis://127.0.0.1:6380");
  assert.equal(c.workerConcurrency, 2);
  assert.equal(c.jobLeaseMs, 30_000);
  assert.throws(() => parseConfig({ REDIS_URL: "http://x" }), /REDIS_URL="http:\/\/x"/);
  assert.throws(
    () => parseConfig({ UPSTASH_REDIS_REST_URL: "https://x.upstash.io" }),
    /UPSTASH_REDIS_REST_TOKEN/,
  );
});

Deno.test("parseConfig picks the HTTP server and the stream buffer limit", () => {
  const c = parseConfig({});
  assert.equal(c.httpServer, "node", "node:http is the default");
  assert.equal(c.streamBufferBytes, 64 * 1024);
  const d = parseConfig({ HTTP_SERVER: "deno", STREAM_BUFFER_KB: "16" });
  assert.equal(d.httpServer, "deno");
  assert.equal(d.streamBufferBytes, 16 * 1024);
  assert.throws(() => parseConfig({ HTTP_SERVER: "express" }), /HTTP_SERVER="express"/);
  assert.throws(() => parseConfig({ STREAM_BUFFER_KB: "0" }), /STREAM_BUFFER_KB="0"/);
});

Deno.test("parseConfig reads the rate limits and the stream cap, 0 turning one off", () => {
  const defaults = parseConfig({});
  assert.deepEqual(defaults.rateLimitsPerMinute, {
    train: 30,
    upload: 60,
    forecast: 120,
    stream: 60,
  });
  assert.equal(defaults.streamLimitPerPrincipal, 20);
  const c = parseConfig({
    RATE_LIMIT_TRAIN_PER_MINUTE: "5",
    RATE_LIMIT_UPLOAD_PER_MINUTE: "0",
    RATE_LIMIT_FORECAST_PER_MINUTE: "1000",
    RATE_LIMIT_STREAM_PER_MINUTE: "7",
    STREAM_LIMIT_PER_PRINCIPAL: "3",
  });
  assert.deepEqual(c.rateLimitsPerMinute, { train: 5, upload: 0, forecast: 1000, stream: 7 });
  assert.equal(c.streamLimitPerPrincipal, 3);
  assert.throws(
    () => parseConfig({ RATE_LIMIT_TRAIN_PER_MINUTE: "-1", STREAM_LIMIT_PER_PRINCIPAL: "lots" }),
    /RATE_LIMIT_TRAIN_PER_MINUTE="-1"[\s\S]*STREAM_LIMIT_PER_PRINCIPAL="lots"/,
  );
});

Deno.test("on Deno Deploy the defaults are Deno.serve, no data directory and a 4 s stop; set values win", () => {
  const deploy = parseConfig({ DENO_DEPLOY: "true" });
  assert.equal(deploy.httpServer, "deno");
  assert.equal(deploy.dataDir, null);
  assert.equal(deploy.shutdownGraceMs, 4000);
  const elsewhere = parseConfig({});
  assert.equal(elsewhere.httpServer, "node");
  assert.equal(elsewhere.shutdownGraceMs, 10_000);
  const chosen = parseConfig({ DENO_DEPLOY: "true", DATA_DIR: "/tmp/x", HTTP_SERVER: "node" });
  assert.equal(chosen.dataDir, "/tmp/x");
  assert.equal(chosen.httpServer, "node");
});

Deno.test("parseConfig reads the webhook variables and names a bad one", () => {
  const defaults = parseConfig({}).webhooks;
  assert.deepEqual(defaults, {
    secret: null,
    allowPrivate: false,
    schedule: [5000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000],
    timeoutMs: 10_000,
    pollMs: 30_000,
  });
  const set = parseConfig({
    WEBHOOK_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    WEBHOOK_ALLOW_PRIVATE: "true",
    WEBHOOK_RETRY_SCHEDULE: "250ms,2s,1m",
    WEBHOOK_TIMEOUT_SECONDS: "2.5",
    WEBHOOK_POLL_SECONDS: "0.5",
  }).webhooks;
  assert.deepEqual(set, {
    secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    allowPrivate: true,
    schedule: [250, 2000, 60_000],
    timeoutMs: 2500,
    pollMs: 500,
  });
  assert.throws(() => parseConfig({ WEBHOOK_SECRET: "hunter2" }), /WEBHOOK_SECRET=.*whsec_/);
  assert.throws(
    () => parseConfig({ WEBHOOK_RETRY_SCHEDULE: "5s,later" }),
    /WEBHOOK_RETRY_SCHEDULE="5s,later": "later" is not a delay/,
  );
  assert.throws(() => parseConfig({ WEBHOOK_TIMEOUT_SECONDS: "0" }), /WEBHOOK_TIMEOUT_SECONDS/);
});
