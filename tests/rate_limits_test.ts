/**
 * Rate limits and stream caps over HTTP: a real service (embedded), and two
 * API instances on one Redis (through the REST gateway) sharing one count.
 */
import assert from "node:assert/strict";
import { createApiKey } from "../src/auth/api_keys.ts";
import { createRedisBroker } from "../src/broker/redis_broker.ts";
import { parseConfig } from "../src/config.ts";
import { startService } from "../src/server.ts";
import { startTestService } from "./harness.ts";
import { openStream } from "./sse_client.ts";
import { startTestGateway } from "./test_gateway.ts";

const ops = await createApiKey({ name: "ops", scopes: ["read", "train"], meters: null });
const other = await createApiKey({ name: "other", scopes: ["read"], meters: null });
const API_KEYS = JSON.stringify([ops.record, other.record]);
const auth = (key: string) => ({ Authorization: `Bearer ${key}` });

Deno.test("past a rate limit: 429 in the one shape, with Retry-After and the RateLimit headers; per principal", async () => {
  const service = await startTestService({ API_KEYS, RATE_LIMIT_FORECAST_PER_MINUTE: "2" });
  try {
    const forecast = (key: string) =>
      fetch(`${service.url}/forecast/electricity/meter_test_001`, { headers: auth(key) });
    const first = await forecast(ops.key);
    await first.body?.cancel();
    assert.notEqual(first.status, 429);
    assert.equal(first.headers.get("RateLimit-Policy"), '"forecast";q=2;w=60');
    assert.match(first.headers.get("RateLimit")!, /^"forecast";r=1;t=\d+$/);
    await (await forecast(ops.key)).body?.cancel();
    const refused = await forecast(ops.key);
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get("Retry-After")) >= 1);
    assert.match(refused.headers.get("RateLimit")!, /^"forecast";r=0;t=\d+$/);
    const body = await refused.json();
    assert.equal(body.error.code, "rate_limited");
    assert.match(body.error.message, /at most 2 per 60 seconds/);
    const someoneElse = await forecast(other.key);
    await someoneElse.body?.cancel();
    assert.notEqual(someoneElse.status, 429, "counted per principal");
    const listing = await fetch(`${service.url}/meters`, { headers: auth(ops.key) });
    await listing.body?.cancel();
    assert.equal(listing.status, 200, "listings are not counted");
  } finally {
    await service.close();
  }
});

Deno.test("readings and weather uploads share the upload limit", async () => {
  const service = await startTestService({ API_KEYS, RATE_LIMIT_UPLOAD_PER_MINUTE: "2" });
  try {
    const post = (path: string, body: string) =>
      fetch(`${service.url}${path}`, {
        method: "POST",
        headers: { ...auth(ops.key), "Content-Type": "text/csv" },
        body,
      });
    const readings = await post("/meters/gas/b1/readings", "2019-01-01 00:00:00,1\n");
    assert.equal(readings.status, 200, await readings.text());
    const weather = await post("/sites/s1/weather", "2019-01-01 00:00:00,4.5\n");
    assert.equal(weather.status, 200, await weather.text());
    assert.equal(weather.headers.get("RateLimit-Policy"), '"upload";q=2;w=60');
    const refused = await post("/sites/s1/weather", "2019-01-01 01:00:00,4.0\n");
    assert.equal(refused.status, 429);
    assert.equal((await refused.json()).error.details.kind, "upload");
    const stored = await fetch(`${service.url}/sites/s1/weather`, { headers: auth(ops.key) });
    assert.equal((await stored.json()).temperatures.count, 1, "the refused hour was not stored");
  } finally {
    await service.close();
  }
});

Deno.test("open streams per principal are capped; a closed stream gives its slot back", async () => {
  const service = await startTestService({ API_KEYS, STREAM_LIMIT_PER_PRINCIPAL: "2" });
  try {
    const url = `${service.url}/trainmodel/events`;
    const a = await openStream(url, { headers: auth(ops.key) });
    const b = await openStream(url, { headers: auth(ops.key) });
    assert.equal(a.response.status, 200);
    assert.equal(b.response.status, 200);
    const third = await fetch(url, { headers: auth(ops.key) });
    assert.equal(third.status, 429);
    assert.equal((await third.json()).error.code, "too_many_open_streams");
    assert.ok(Number(third.headers.get("Retry-After")) >= 1);
    const notFound = await fetch(`${service.url}/trainmodel/stream/${crypto.randomUUID()}`, {
      headers: auth(other.key),
    });
    assert.equal(notFound.status, 404);
    await notFound.body?.cancel();
    a.close();
    let reopened: Response | undefined;
    for (let i = 0; i < 100; i++) {
      reopened = await fetch(url, { headers: auth(ops.key) });
      if (reopened.status === 200) break;
      await reopened.body?.cancel();
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(reopened!.status, 200, "the closed stream's slot is free again");
    await reopened!.body?.cancel();
    b.close();
  } finally {
    await service.close();
  }
});

Deno.test("two API instances on one Redis share one limit", async () => {
  const gateway = await startTestGateway();
  const rest = { url: gateway.url, token: gateway.token };
  const services = [];
  try {
    for (let i = 0; i < 2; i++) {
      const config = parseConfig({
        PORT: "0",
        HOST: "127.0.0.1",
        DATA_DIR: "off",
        API_KEYS,
        RATE_LIMIT_FORECAST_PER_MINUTE: "3",
        SEED_DEMO_METERS: i === 0 ? "true" : "false",
      });
      const broker = await createRedisBroker({ ...rest, taskTtlSeconds: 60 });
      services.push(await startService(config, broker, { runJobs: false, mode: "api", rest }));
    }
    const statuses = [];
    for (let i = 0; i < 6; i++) {
      const response = await fetch(
        `${services[i % 2].url}/forecast/electricity/meter_test_001`,
        { headers: auth(ops.key) },
      );
      await response.body?.cancel();
      statuses.push(response.status);
    }
    assert.equal(statuses.filter((s) => s === 429).length, 3, `${statuses}`);
    assert.deepEqual(
      statuses.slice(3),
      [429, 429, 429],
      "the fourth, on either instance, is refused",
    );
  } finally {
    for (const service of services) await service.close();
    await gateway.close();
  }
});
