import assert from "node:assert/strict";
import { Redis } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import { serveGateway } from "../src/gateway/serve_gateway.ts";
import { needsRedis, startRedis } from "./redis_server.ts";

const TOKEN = "gateway-test-token";
const READ_ONLY_TOKEN = "gateway-test-read-only-token";

function gatewayTest(
  name: string,
  fn: (ctx: { redis: Redis; raw: Redis; url: string; redisUrl: string }) => Promise<void>,
) {
  Deno.test({
    name: `gateway: ${name}`,
    ...needsRedis(),
    fn: async () => {
      const server = await startRedis();
      // Any script: these tests check the protocol as Upstash clients use it.
      const gateway = await serveGateway({
        redisUrl: server.url,
        token: TOKEN,
        port: 0,
        scripts: "any",
        readOnlyToken: READ_ONLY_TOKEN,
      });
      const redis = new Redis({ url: gateway.url, token: TOKEN, enableTelemetry: false });
      const raw = new Redis({
        url: gateway.url,
        token: TOKEN,
        enableTelemetry: false,
        automaticDeserialization: false,
      });
      try {
        await fn({ redis, raw, url: gateway.url, redisUrl: server.url });
      } finally {
        await gateway.close();
        await server.stop();
      }
    },
  });
}

gatewayTest("strings, numbers, booleans and JSON values round-trip", async ({ redis }) => {
  assert.equal(await redis.set("s", "hello"), "OK");
  assert.equal(await redis.get("s"), "hello");
  await redis.set("n", 1.5);
  assert.equal(await redis.get("n"), 1.5);
  await redis.set("b", true);
  assert.equal(await redis.get("b"), true);
  await redis.set("o", { a: [1, "x"] });
  assert.deepEqual(await redis.get("o"), { a: [1, "x"] });
  assert.equal(await redis.incr("counter"), 1);
  assert.equal(await redis.incrby("counter", 41), 42);
  assert.equal(await redis.get("missing"), null);
  assert.equal(await redis.set("ex", "v", { ex: 100 }), "OK");
  const ttl = await redis.ttl("ex");
  assert.ok(ttl > 90 && ttl <= 100);
  assert.equal(await redis.del("s", "n", "missing"), 2);
  assert.equal(await redis.ping(), "PONG");
});

gatewayTest("non-ASCII and binary-looking strings survive base64 both ways", async ({ raw }) => {
  const samples = [
    "héllo wörld",
    "日本語テキスト",
    "emoji 🌍⚡",
    "comma,separated,value",
    "nul\u0000byte",
    "OK",
    "==",
  ];
  for (const [i, value] of samples.entries()) {
    await raw.set(`k${i}`, value);
    assert.equal(await raw.get(`k${i}`), value);
  }
  assert.deepEqual(await raw.mget(...samples.map((_, i) => `k${i}`)), samples);
});

gatewayTest("hashes, lists, sets and sorted sets", async ({ redis, raw }) => {
  await redis.hset("h", { a: "1", b: "two", c: "é" });
  assert.deepEqual(await redis.hgetall("h"), { a: 1, b: "two", c: "é" });
  assert.deepEqual(await raw.hgetall("h"), ["a", "1", "b", "two", "c", "é"]);
  assert.deepEqual(await raw.hmget("h", "a", "zz"), ["1", null]);
  await redis.rpush("l", "x", "y", "z");
  assert.deepEqual(await redis.lrange("l", 0, -1), ["x", "y", "z"]);
  await redis.sadd("set", "p", "q");
  assert.deepEqual((await redis.smembers("set")).sort(), ["p", "q"]);
  await redis.zadd("z", { score: 2, member: "b" }, { score: 1, member: "a" });
  assert.deepEqual(await redis.zrange("z", 0, -1), ["a", "b"]);
});

gatewayTest("streams and consumer groups, as the job queue uses them", async ({ raw }) => {
  const id1 = await raw.xadd("jobs", "*", { job: '{"n":1}' });
  const id2 = await raw.xadd("jobs", "*", { job: "two,with,commas" });
  assert.match(id1, /^\d+-\d+$/);
  assert.deepEqual(
    await raw.exec(["XRANGE", "jobs", `(${id1}`, "+"]),
    [[id2, ["job", "two,with,commas"]]],
  );
  assert.equal(await raw.exec(["XGROUP", "CREATE", "jobs", "workers", "0", "MKSTREAM"]), "OK");
  const read = await raw.exec([
    "XREADGROUP",
    "GROUP",
    "workers",
    "c1",
    "COUNT",
    "1",
    "STREAMS",
    "jobs",
    ">",
  ]);
  assert.deepEqual(read, [["jobs", [[id1, ["job", '{"n":1}']]]]]);
  const pending = await raw.exec(["XPENDING", "jobs", "workers", "-", "+", "10"]) as unknown[][];
  assert.equal(pending[0][0], id1);
  assert.equal(pending[0][1], "c1");
  assert.equal(pending[0][3], 1);
  const claimed = await raw.exec([
    "XAUTOCLAIM",
    "jobs",
    "workers",
    "c2",
    "0",
    "0-0",
    "COUNT",
    "1",
  ]) as unknown[];
  assert.deepEqual(claimed[1], [[id1, ["job", '{"n":1}']]]);
  assert.equal(await raw.exec(["XACK", "jobs", "workers", id1]), 1);
  assert.equal(await raw.exec(["XDEL", "jobs", id1]), 1);
  assert.equal(await raw.exec(["XLEN", "jobs"]), 1);
});

gatewayTest(
  "auto-pipelined batches keep each command's result and error in order",
  async ({ redis }) => {
    await redis.set("str", "x");
    const results = await Promise.allSettled([
      redis.set("a", "1"),
      redis.incr("a"),
      redis.hset("str", { f: "v" }), // WRONGTYPE
      redis.get("a"),
      redis.exists("a", "nope"),
    ]);
    assert.deepEqual(results.map((r) => r.status), [
      "fulfilled",
      "fulfilled",
      "rejected",
      "fulfilled",
      "fulfilled",
    ]);
    assert.equal((results[1] as PromiseFulfilledResult<number>).value, 2);
    assert.match(String((results[2] as PromiseRejectedResult).reason), /WRONGTYPE/);
    assert.equal((results[3] as PromiseFulfilledResult<number>).value, 2);
    const p = redis.pipeline();
    p.set("p1", "v").get("p1").incr("p1");
    const out = await p.exec({ keepErrors: true });
    assert.equal(out[1].result, "v");
    assert.match(String(out[2].error), /not an integer/);
  },
);

gatewayTest("transactions run atomically and report errors per command", async ({ redis }) => {
  await redis.set("t", "text");
  const tx = redis.multi();
  tx.set("m", "1").incr("m").incr("t").get("m");
  const out = await tx.exec({ keepErrors: true });
  assert.equal(out[0].result, "OK");
  assert.equal(out[1].result, 2);
  assert.match(String(out[2].error), /not an integer/);
  assert.equal(out[3].result, 2);
});

gatewayTest(
  "scripts: EVALSHA falls back to EVAL after NOSCRIPT",
  async ({ redis, raw, redisUrl }) => {
    const script = redis.createScript<number>("return redis.call('INCRBY', KEYS[1], ARGV[1])");
    assert.equal(await script.exec(["sc"], ["5"]), 5);
    // SCRIPT FLUSH is refused over REST (administrative): flush on Redis itself.
    const direct = new IORedis(redisUrl);
    try {
      assert.equal(await direct.script("FLUSH"), "OK");
    } finally {
      direct.disconnect();
    }
    assert.equal(await script.exec(["sc"], ["2"]), 7, "re-sent with EVAL after NOSCRIPT");
    await assert.rejects(raw.evalsha("0".repeat(40), [], []), /NOSCRIPT/);
    assert.deepEqual(await raw.eval("return {1, 'two', ARGV[1]}", [], ["é"]), [1, "two", "é"]);
  },
);

gatewayTest("errors keep Redis's message, and every failure is JSON", async ({ redis, url }) => {
  await redis.set("w", "x");
  await assert.rejects(redis.lpush("w", "y"), /WRONGTYPE/);
  const direct = await fetch(url, {
    method: "POST",
    headers: { Authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(["lpush", "w", "y"]),
  });
  assert.equal(direct.status, 400);
  assert.match((await direct.json()).error, /^WRONGTYPE /);
  const unauthorized = await fetch(url, {
    method: "POST",
    headers: { Authorization: "Bearer wrong" },
    body: '["ping"]',
  });
  assert.equal(unauthorized.status, 401);
  assert.match((await unauthorized.json()).error, /Unauthorized/);
  const noAuth = await fetch(`${url}/pipeline`, { method: "POST", body: "[]" });
  assert.equal(noAuth.status, 401);
  await noAuth.body?.cancel();
  const blocking = await fetch(url, {
    method: "POST",
    headers: { Authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(["blpop", "l", 0]),
  });
  assert.equal(blocking.status, 400);
  assert.match((await blocking.json()).error, /blocks and is not supported over REST/);
  const notJson = await fetch(url, {
    method: "POST",
    headers: { Authorization: `Bearer ${TOKEN}` },
    body: "{",
  });
  assert.equal(notJson.status, 400);
  assert.match((await notJson.json()).error, /not valid JSON/);
  const unknown = await fetch(`${url}/nope`, {
    method: "POST",
    headers: { Authorization: `Bearer ${TOKEN}` },
  });
  assert.equal(unknown.status, 404);
  assert.ok((await unknown.json()).error);
});

gatewayTest("pub/sub and pattern pub/sub deliver raw payloads with commas", async ({ raw }) => {
  const sub = raw.subscribe<string>(["news"]);
  const psub = raw.psubscribe<string>(["task_updates:*"]);
  const got: string[] = [];
  const pgot: string[] = [];
  const confirmed = Promise.all([
    new Promise((r) => sub.on("subscribe", r)),
    new Promise((r) => psub.on("psubscribe", r)),
  ]);
  sub.on("message", ({ message }) => got.push(message));
  psub.on("pmessage", ({ channel, message }) => pgot.push(`${channel}|${message}`));
  await confirmed;
  assert.equal(await raw.publish("news", "a,b,c é"), 1);
  assert.equal(await raw.publish("task_updates:42", '{"id":"1-0","x":[1,2]}'), 1);
  for (let i = 0; i < 100 && (got.length < 1 || pgot.length < 1); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.deepEqual(got, ["a,b,c é"]);
  assert.deepEqual(pgot, ['task_updates:42|{"id":"1-0","x":[1,2]}']);
  await sub.unsubscribe();
  await psub.unsubscribe();
});

gatewayTest("an unsubscribing client frees its Redis subscription", async ({ raw }) => {
  const numsub = async () => (await raw.exec(["PUBSUB", "NUMSUB", "solo"]) as unknown[])[1];
  const settlesAt = async (expected: number) => {
    let n: unknown;
    for (let i = 0; i < 100 && (n = await numsub()) !== expected; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(n, expected);
  };
  for (let round = 0; round < 5; round++) {
    const sub = raw.subscribe<string>(["solo"]);
    await new Promise((r) => sub.on("subscribe", r));
    await settlesAt(1);
    await sub.unsubscribe();
    await settlesAt(0);
  }
});

gatewayTest("many subscribers vanishing at once leave Redis with none", async ({ raw, url }) => {
  // 40 subscriptions in another process, killed with SIGKILL: the gateway
  // must notice each dropped connection, and unsubscribe a channel once
  // its last subscriber is gone. Subscriptions share one Redis connection:
  // ten subscribers of a channel are one subscriber to Redis.
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./fixtures/subscriber_process.ts", import.meta.url).pathname,
      url,
      TOKEN,
      "40",
      "many",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("ready")) {
    const { value, done } = await out.read();
    if (done) throw new Error("the subscriber process exited early");
    text += value;
  }
  const channels = ["many0", "many1", "many2", "many3"];
  const numsub = async () =>
    (await raw.exec(["PUBSUB", "NUMSUB", ...channels]) as unknown[]).filter((_, j) => j % 2 === 1);
  assert.deepEqual(await numsub(), [1, 1, 1, 1]);
  child.kill("SIGKILL");
  await child.status;
  await out.cancel();
  let counts: unknown[] = [];
  for (let i = 0; i < 100; i++) {
    counts = await numsub();
    if (counts.every((n) => n === 0)) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.deepEqual(counts, [0, 0, 0, 0]);
});

gatewayTest(
  "subscribers of one channel share its subscription: each leaves on its own",
  async ({ raw }) => {
    const receive = (channel: string) => {
      const sub = raw.subscribe<string>([channel]);
      const got: string[] = [];
      sub.on("message", ({ message }) => got.push(message));
      return { sub, got, ready: new Promise((r) => sub.on("subscribe", r)) };
    };
    const until = async (done: () => boolean) => {
      for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
    };
    const a = receive("shared");
    const b = receive("shared");
    const p = raw.psubscribe<string>(["sha*"]);
    const pgot: string[] = [];
    p.on("pmessage", ({ message }) => pgot.push(message));
    await Promise.all([a.ready, b.ready, new Promise((r) => p.on("psubscribe", r))]);
    // One channel subscription and one pattern subscription, on one connection.
    assert.equal(await raw.publish("shared", "one"), 2);
    await until(() => a.got.length === 1 && b.got.length === 1 && pgot.length === 1);
    await a.sub.unsubscribe();
    assert.equal(await raw.publish("shared", "two"), 2, "b still subscribed");
    await until(() => b.got.length === 2 && pgot.length === 2);
    const c = receive("shared"); // joins a subscription already live
    await c.ready;
    await raw.publish("shared", "three");
    await until(() => b.got.length === 3 && c.got.length === 1 && pgot.length === 3);
    assert.deepEqual(a.got, ["one"]);
    assert.deepEqual(b.got, ["one", "two", "three"]);
    assert.deepEqual(c.got, ["three"]);
    assert.deepEqual(pgot, ["one", "two", "three"]);
    await Promise.all([b.sub.unsubscribe(), c.sub.unsubscribe(), p.unsubscribe()]);
  },
);

gatewayTest(
  "when the shared Redis connection drops, every subscription stream ends",
  async ({ raw, url, redisUrl }) => {
    const open = (path: string) =>
      fetch(`${url}${path}`, { method: "POST", headers: { Authorization: `Bearer ${TOKEN}` } });
    const streams = await Promise.all([open("/subscribe/x"), open("/psubscribe/y*")]);
    const readers = streams.map((r) => r.body!.getReader());
    for (const reader of readers) await reader.read(); // the confirmations
    const direct = new IORedis(redisUrl);
    try {
      assert.equal(
        await direct.call("CLIENT", "KILL", "TYPE", "pubsub"),
        1,
        "one connection for both",
      );
    } finally {
      direct.disconnect();
    }
    for (const reader of readers) {
      let done = false;
      while (!done) done = (await reader.read()).done;
      assert.ok(done, "the stream ended, so its client can subscribe again");
    }
    // A new subscription opens a new connection.
    const again = raw.subscribe<string>(["x"]);
    await new Promise((r) => again.on("subscribe", r));
    assert.equal(await raw.publish("x", "back"), 1);
    await again.unsubscribe();
  },
);

gatewayTest(
  "administrative commands are refused and change nothing",
  async ({ redis, raw, url }) => {
    await redis.set("kept", "yes");
    for (
      const command of [["FLUSHALL"], ["FLUSHDB"], ["CONFIG", "SET", "maxmemory", "1"], [
        "KEYS",
        "*",
      ]]
    ) {
      await assert.rejects(raw.exec(command as [string, ...string[]]), /administrative command/);
    }
    const response = await fetch(`${url}/pipeline`, {
      method: "POST",
      headers: { Authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify([["GET", "kept"], ["FLUSHALL"]]),
    });
    const replies = await response.json();
    assert.deepEqual(replies[0], { result: "yes" });
    assert.match(replies[1].error, /administrative/);
    assert.equal(await redis.get("kept"), "yes");
  },
);

gatewayTest(
  "the read-only token reads and subscribes, and may not write",
  async ({ redis, url }) => {
    await redis.set("k", "v");
    const reader = new Redis({ url, token: READ_ONLY_TOKEN, enableTelemetry: false });
    assert.equal(await reader.get("k"), "v");
    await assert.rejects(reader.set("k", "w"), /NOPERM SET is not a read/);
    await assert.rejects(reader.del("k"), /NOPERM/);
    await assert.rejects(reader.eval("return 1", [], []), /NOPERM EVAL/);
    const results = await reader.pipeline().get("k").set("k", "x").exec({ keepErrors: true });
    assert.equal(results[0].result, "v");
    assert.match(String(results[1].error), /NOPERM/);
    await assert.rejects(reader.multi().get("k").set("k", "y").exec(), /EXECABORT.*NOPERM/);
    assert.equal(await redis.get("k"), "v", "nothing was written");
    const sub = reader.subscribe<string>(["ro"]);
    await new Promise((r) => sub.on("subscribe", r));
    await sub.unsubscribe();
    const wrong = await fetch(`${url}/get/k`, { headers: { Authorization: "Bearer nope" } });
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();
  },
);
