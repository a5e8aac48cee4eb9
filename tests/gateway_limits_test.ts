/**
 * The gateway's guards (hardening issue, G1–G6): no client can put the
 * shared connection into Lua debugging, hold Redis with a script, send an unbounded batch, open
 * unbounded subscriptions, make the gateway buffer without bound, or forge
 * an event with a published payload.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createParser } from "eventsource-parser";
import { type GatewayServer, serveGateway } from "../src/gateway/serve_gateway.ts";
import { needsRedis, startRedis, type TestRedis } from "./redis_server.ts";

const TOKEN = "limits-token";
const auth = { Authorization: `Bearer ${TOKEN}` };

async function withGateway(
  limits: Record<string, number | string>,
  fn: (gateway: GatewayServer, redis: TestRedis) => Promise<void>,
): Promise<void> {
  const redis = await startRedis();
  const gateway = await serveGateway({ redisUrl: redis.url, token: TOKEN, port: 0, ...limits });
  try {
    await fn(gateway, redis);
  } finally {
    await gateway.close();
    await redis.stop();
  }
}

function call(gateway: GatewayServer, path: string, body: unknown): Promise<Response> {
  return fetch(`${gateway.url}${path}`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify(body),
  });
}

const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name: `gateway limits: ${name}`, ...needsRedis(), fn });

test("SCRIPT DEBUG is refused, and scripts keep working for everyone", () =>
  withGateway({ scripts: "any" }, async (gateway) => {
    const refused = await call(gateway, "/", ["SCRIPT", "DEBUG", "YES"]);
    assert.equal(refused.status, 400);
    assert.match((await refused.json()).error, /SCRIPT DEBUG is not supported/);
    const script = await call(gateway, "/", ["EVAL", "return 41 + 1", "0"]);
    assert.deepEqual(await script.json(), { result: 42 });
    assert.deepEqual(await (await call(gateway, "/", ["PING"])).json(), { result: "PONG" });
  }));

test("by default only Wattcast's scripts run: an endless script is refused and others are served", () =>
  withGateway({}, async (gateway) => {
    for (const command of [["EVAL", "while true do end", "0"], ["EVALSHA", "a".repeat(40), "0"]]) {
      const refused = await call(gateway, "/", command);
      assert.equal(refused.status, 400);
      assert.match(
        (await refused.json()).error,
        /not one of this gateway.s Wattcast scripts.*GATEWAY_SCRIPTS=any/,
      );
    }
    const fcall = await call(gateway, "/", ["FCALL", "f", "0"]);
    assert.match((await fcall.json()).error, /FCALL is not run by this gateway/);
    const inPipeline = await call(gateway, "/pipeline", [["EVAL", "while true do end", "0"], [
      "PING",
    ]]);
    assert.deepEqual((await inPipeline.json())[1], { result: "PONG" });
    const inTransaction = await call(gateway, "/multi-exec", [["EVAL", "return 1", "0"]]);
    assert.equal(inTransaction.status, 400);
    // The broker's own scripts: the merge script, by its SHA-1, runs.
    const { MERGE } = await import("../src/broker/redis_scripts.ts");
    const merged = await call(gateway, "/", [
      "EVAL",
      MERGE,
      "2",
      "r",
      "meters",
      "0",
      "0",
      "gas/x",
      "3600000",
      "1.5",
    ]);
    assert.deepEqual(await merged.json(), { result: ["ok", 1] });
    assert.deepEqual(await (await call(gateway, "/", ["PING"])).json(), { result: "PONG" });
  }));

test("with any script allowed, SCRIPT KILL reaches Redis while a script holds the shared connection", () =>
  withGateway({ scripts: "any" }, async (gateway, redis) => {
    const { Redis } = await import("ioredis");
    const direct = new Redis(redis.url);
    await direct.config("SET", "busy-reply-threshold", "100");
    direct.disconnect();
    const endless = call(gateway, "/", ["EVAL", "while true do end", "0"]);
    await new Promise((r) => setTimeout(r, 300));
    const kill = await call(gateway, "/", ["SCRIPT", "KILL"]);
    assert.deepEqual(await kill.json(), { result: "OK" });
    const stopped = await endless;
    assert.equal(stopped.status, 400);
    assert.match((await stopped.json()).error, /killed/i);
    assert.deepEqual(await (await call(gateway, "/", ["PING"])).json(), { result: "PONG" });
  }));

test("pipelines and transactions are capped in commands, before any runs", () =>
  withGateway({ maxBatchCommands: 100 }, async (gateway) => {
    const ok = await call(gateway, "/pipeline", Array.from({ length: 100 }, () => ["INCR", "n"]));
    assert.equal(ok.status, 200);
    const big = await call(gateway, "/pipeline", Array.from({ length: 101 }, () => ["INCR", "n"]));
    assert.equal(big.status, 413);
    assert.match((await big.json()).error, /at most 100 commands; this one has more/);
    const tx = await call(gateway, "/multi-exec", Array.from({ length: 101 }, () => ["INCR", "n"]));
    assert.equal(tx.status, 413);
    await tx.body?.cancel();
    assert.deepEqual(await (await call(gateway, "/", ["GET", "n"])).json(), { result: "100" });
  }));

test("subscriptions are capped per gateway; bad percent-encoding is a 400", () =>
  withGateway({ maxSubscriptions: 2 }, async (gateway) => {
    const open = [
      await fetch(`${gateway.url}/subscribe/a`, { method: "POST", headers: auth }),
      await fetch(`${gateway.url}/subscribe/b`, { method: "POST", headers: auth }),
    ];
    const third = await fetch(`${gateway.url}/subscribe/c`, { method: "POST", headers: auth });
    assert.equal(third.status, 503);
    assert.match((await third.json()).error, /maximum of 2 subscriptions/);
    for (const response of open) await response.body?.cancel();
    const bad = await fetch(`${gateway.url}/subscribe/%zz`, { method: "POST", headers: auth });
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error, /percent-encoding/);
  }));

test("a subscriber that stops reading is dropped by unread bytes, not messages", () =>
  withGateway({ maxUnreadBytes: 64 * 1024 }, async (gateway) => {
    const stuck = await fetch(`${gateway.url}/subscribe/flood`, { method: "POST", headers: auth });
    try {
      for (let i = 0; i < 50 && gateway.gateway.subscriptions() === 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(gateway.gateway.subscriptions(), 1);
      // 300 messages of 100 KB: 30 MB, past what the kernel's socket buffers
      // take, in few messages (the old limit counted 10,000 messages).
      const payload = "x".repeat(100_000);
      for (let i = 0; i < 300 && gateway.gateway.subscriptions() > 0; i++) {
        await (await call(gateway, "/", ["PUBLISH", "flood", payload])).body?.cancel();
      }
      for (let i = 0; i < 100 && gateway.gateway.subscriptions() > 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(gateway.gateway.subscriptions(), 0, "dropped with its Redis connection");
    } finally {
      await stuck.body?.cancel();
    }
  }));

test("a published payload with line breaks arrives whole and forges no event", () =>
  withGateway({}, async (gateway) => {
    const response = await fetch(`${gateway.url}/subscribe/news`, {
      method: "POST",
      headers: auth,
    });
    const events: string[] = [];
    let raw = "";
    const parser = createParser({ onEvent: (e) => events.push(e.data) });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    const read = (async () => {
      while (events.length < 2) {
        const { value, done } = await reader.read();
        if (done) return;
        raw += value;
        parser.feed(value);
      }
    })();
    for (let i = 0; i < 50 && gateway.gateway.subscriptions() === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 100)); // subscribed
    const forged =
      'hello\n\ndata: message,other,{"status":"SUCCESS"}\nmessage,other,{"x":1}\n  two spaces';
    await call(gateway, "/", ["PUBLISH", "news", forged]);
    await read;
    await reader.cancel();
    assert.equal(events[0], "subscribe,news,1");
    assert.equal(events[1], `message,news,${forged}`, "one event, the whole payload");
    assert.equal(events.length, 2);
    // @upstash/redis takes every line starting "data: " for a message of its
    // own: only the first line of each event may.
    assert.equal(raw.match(/^data: \S/gm)?.length, 2, raw);
  }));
