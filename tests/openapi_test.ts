/**
 * The published contract: `GET /openapi.json` documents every route the app
 * serves (and nothing it does not), is valid OpenAPI 3.1, and describes real
 * answers; `GET /docs` is an interactive page whose assets all come from the
 * app itself, and renders every operation in a real browser without
 * reaching any other origin.
 *
 * @module
 */
import { parseConfig } from "../src/config.ts";
import { openLimits } from "../src/limits/limits.ts";
import { openAuthenticator } from "../src/auth/open_authenticator.ts";
import assert from "node:assert/strict";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import type { OpenAPIHono } from "@hono/zod-openapi";
import { createMemoryBroker } from "../src/broker/memory_broker.ts";
import { createEventHub } from "../src/broker/event_hub.ts";
import { createTracker } from "../src/tracker/tracker.ts";
import { createApp } from "../src/api/app.ts";
import { createModelStore } from "../src/models/model_store.ts";
import { createOpenStreams } from "../src/api/open_streams.ts";
import { serveApp } from "../src/http_server.ts";

/** The configuration of a service given no environment, with no data directory. */
const defaults = parseConfig({ DATA_DIR: "off" });

type Document = {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, Response31> }>>;
  components: { schemas: Record<string, unknown> };
};
type Response31 = { content?: Record<string, { schema: unknown }> };

/** The app on an in-memory broker, as the service builds it. */
async function testApp() {
  const broker = createMemoryBroker({ taskTtlSeconds: 60 });
  const tracker = createTracker(broker);
  const hub = createEventHub(broker);
  const streams = createOpenStreams({ heartbeatMs: 60_000, streamMaxMs: 60_000 });
  const app = createApp({
    broker,
    hub,
    tracker,
    models: createModelStore({ broker, dataDir: null }),
    forecaster: { forecast: () => Promise.reject(new Error("unused")), close: () => {} },
    health: [],
    info: { service: "wattcast", mode: "test" },
    streams,
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
  return {
    app,
    tracker,
    close() {
      streams.close();
      hub.close();
    },
  };
}

/** `METHOD /path/{param}` of every route the app serves: no middleware, HEAD or OPTIONS. */
function servedRoutes(app: OpenAPIHono): Set<string> {
  return new Set(
    app.routes
      .filter((r) => !["ALL", "HEAD", "OPTIONS"].includes(r.method) && !r.path.endsWith("/*"))
      .map((r) => `${r.method} ${r.path.replace(/:([^/{]+)(\{[^}]*\})?/g, "{$1}")}`),
  );
}

/** `METHOD /path/{param}` of every operation in the document. */
function documentedRoutes(document: Document): Set<string> {
  return new Set(
    Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`)
    ),
  );
}

async function fetchDocument(app: OpenAPIHono): Promise<Document> {
  const response = await app.request("/openapi.json");
  assert.equal(response.status, 200);
  assert.match(response.headers.get("Content-Type") ?? "", /^application\/json/);
  return await response.json();
}

Deno.test("every route the app serves is in the document, and every documented one is served", async () => {
  const { app, close } = await testApp();
  try {
    const document = await fetchDocument(app);
    const served = servedRoutes(app);
    const documented = documentedRoutes(document);
    assert.ok(served.size >= 15, `the route scan sees the routes: ${[...served].join(", ")}`);
    assert.deepEqual([...served].filter((r) => !documented.has(r)), [], "served, not documented");
    assert.deepEqual([...documented].filter((r) => !served.has(r)), [], "documented, not served");
  } finally {
    close();
  }
});

Deno.test("the endpoint list at GET / names every documented route", async () => {
  const { app, close } = await testApp();
  try {
    const document = await fetchDocument(app);
    const list = await (await app.request("/", { headers: { Accept: "application/json" } }))
      .json() as { endpoints: Record<string, string> };
    // "GET|DELETE /a/{id}?q=, POST /b" → GET /a/{}, DELETE /a/{}, POST /b
    const listed = new Set(
      Object.values(list.endpoints).flatMap((entry) =>
        entry.split(", ").flatMap((one) => {
          const [methods, path] = one.split(" ");
          const bare = path.split("?")[0].replace(/\{[^}]*\}/g, "{}").replace(/(.)\/$/, "$1");
          return methods.split("|").map((m) => `${m} ${bare}`);
        })
      ),
    );
    const missing = [...documentedRoutes(document)]
      .map((r) => r.replace(/\{[^}]*\}/g, "{}"))
      // The page, its assets and the docs page's own files are for browsers.
      .filter((r) => r !== "GET /" && !/^GET \/(assets|docs)\/\{\}$/.test(r) && !listed.has(r));
    assert.deepEqual(missing, [], "documented, not in the list at GET /");
  } finally {
    close();
  }
});

Deno.test("the document is valid OpenAPI 3.1, with the shared shapes as components", async () => {
  const { app, close } = await testApp();
  try {
    const document = await fetchDocument(app);
    assert.match(document.openapi, /^3\.1\.\d+$/);
    const result = await new Validator().validate(structuredClone(document));
    assert.deepEqual(result.errors ?? [], [], JSON.stringify(result.errors, null, 1));
    assert.equal(result.valid, true);
    for (
      const name of [
        "TaskStatus",
        "ErrorBody",
        "Heartbeat",
        "ErrorEvent",
        "MeterSummary",
        "TaskPage",
        "MeterPage",
        "Forecast",
        "TrainRequest",
      ]
    ) {
      assert.ok(document.components.schemas[name], `component ${name}`);
    }
    // Every $ref points at a component that exists.
    for (
      const [, name] of JSON.stringify(document).matchAll(/"#\/components\/schemas\/([^"]+)"/g)
    ) {
      assert.ok(document.components.schemas[name], `$ref to ${name}`);
    }
  } finally {
    close();
  }
});

Deno.test("each route documents its status codes; errors in the one shape, streams as text/event-stream", async () => {
  const { app, close } = await testApp();
  try {
    const { paths } = await fetchDocument(app);
    const codes = (path: string, method: string) =>
      Object.keys(paths[path]?.[method]?.responses ?? {}).sort();
    const expected: Array<[string, string, string[]]> = [
      ["/trainmodel", "post", ["202", "401", "403", "409", "413", "422", "429", "500", "503"]],
      ["/trainmodel/tasks", "get", ["200", "400", "401", "403", "422", "500"]],
      ["/trainmodel/status/{task_id}", "get", ["200", "401", "403", "404", "500"]],
      ["/trainmodel/stream/{task_id}", "get", [
        "200",
        "204",
        "400",
        "401",
        "403",
        "404",
        "422",
        "500",
        "503",
      ]],
      ["/trainmodel/stream", "get", [
        "200",
        "204",
        "400",
        "401",
        "403",
        "404",
        "422",
        "500",
        "503",
      ]],
      ["/trainmodel/events", "get", ["200", "401", "403", "422", "500", "503"]],
      ["/trainmodel/{task_id}", "delete", ["202", "401", "403", "404", "409", "500"]],
      ["/meters/{meter_type}/{meter_id}/readings", "post", [
        "200",
        "401",
        "403",
        "413",
        "422",
        "500",
      ]],
      ["/meters/{meter_type}/{meter_id}/readings", "delete", [
        "200",
        "401",
        "403",
        "404",
        "422",
        "500",
      ]],
      ["/meters/{meter_type}/{meter_id}", "delete", [
        "200",
        "401",
        "403",
        "404",
        "409",
        "422",
        "500",
      ]],
      ["/meters", "get", ["200", "400", "401", "403", "422", "500"]],
      ["/meters/{meter_type}", "get", ["200", "400", "401", "403", "422", "500"]],
      ["/meters/{meter_type}/{meter_id}", "get", ["200", "401", "403", "404", "422", "500"]],
      ["/forecast/{meter_type}/{meter_id}", "get", [
        "200",
        "401",
        "403",
        "404",
        "409",
        "422",
        "500",
      ]],
      ["/auth/stream-token", "post", ["201", "401", "403", "404", "413", "422", "500"]],
      ["/sites/{site_id}/calendar", "put", ["200", "401", "403", "413", "415", "422", "500"]],
      ["/sites/{site_id}/calendar", "get", ["200", "401", "403", "404", "422", "500"]],
      ["/sites/{site_id}/calendar", "delete", ["200", "401", "403", "404", "422", "500"]],
      ["/health", "get", ["200", "500", "503"]],
    ];
    for (const [path, method, want] of expected) {
      assert.deepEqual(codes(path, method), want, `${method.toUpperCase()} ${path}`);
      for (const [code, response] of Object.entries(paths[path][method].responses)) {
        if (code === "503" && path === "/health") continue; // the degraded report
        if (Number(code) >= 400) {
          assert.deepEqual(
            response.content?.["application/json"]?.schema,
            { $ref: "#/components/schemas/ErrorBody" },
            `${method.toUpperCase()} ${path} ${code}`,
          );
        }
      }
    }
    for (
      const path of ["/trainmodel/stream/{task_id}", "/trainmodel/stream", "/trainmodel/events"]
    ) {
      const content = paths[path].get.responses["200"].content!;
      assert.deepEqual(Object.keys(content), ["text/event-stream"], path);
      assert.deepEqual(content["text/event-stream"].schema, {
        $ref: "#/components/schemas/StreamEvent",
      });
    }
    const root = paths["/"].get.responses["200"].content!;
    assert.deepEqual(Object.keys(root).sort(), ["application/json", "text/html"]);
  } finally {
    close();
  }
});

Deno.test("real answers match their documented schemas", async () => {
  const { app, tracker, close } = await testApp();
  try {
    const document = await fetchDocument(app);
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    ajv.addSchema({ $id: "openapi.json", components: document.components });
    const check = async (path: string, init: RequestInit, route: string, method: string) => {
      const response = await app.request(path, init);
      const documented = document.paths[route][method].responses[String(response.status)];
      assert.ok(documented, `${method} ${path} answered an undocumented ${response.status}`);
      const type = response.headers.get("Content-Type")!.split(";")[0];
      const schema = documented.content?.[type]?.schema;
      assert.ok(schema, `${path}: ${type} is documented`);
      const { $ref } = schema as { $ref?: string };
      assert.ok($ref, `${path}: the answer is a component`);
      const validate = ajv.getSchema(`openapi.json${$ref}`)!;
      const body = await response.json();
      assert.ok(
        validate(body),
        `${path}: ${JSON.stringify(validate.errors)}\n${JSON.stringify(body)}`,
      );
    };
    const created = await tracker.create({ meter_id: "m1", meter_type: "gas" }, {
      epochs: 1,
      batch_size: 8,
      learning_rate: 0.1,
    });
    assert.ok(created.created);
    const id = created.task.task_id;
    await check("/", {}, "/", "get");
    await check(`/trainmodel/status/${id}`, {}, "/trainmodel/status/{task_id}", "get");
    await check("/trainmodel/tasks?limit=5", {}, "/trainmodel/tasks", "get");
    await check("/trainmodel/tasks?limit=0", {}, "/trainmodel/tasks", "get");
    await check("/trainmodel/status/nope", {}, "/trainmodel/status/{task_id}", "get");
    await check(
      "/meters/gas/m2/readings",
      { method: "POST", body: "2024-01-01 00:00:00,1.5\n2024-01-01 01:00:00,2\n" },
      "/meters/{meter_type}/{meter_id}/readings",
      "post",
    );
    const train = {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: '{"meter_id": "m2", "meter_type": "gas"}',
    };
    await check("/trainmodel/", train, "/trainmodel", "post"); // 202
    await check("/trainmodel/", train, "/trainmodel", "post"); // 409
    await check("/trainmodel/", { ...train, body: "{" }, "/trainmodel", "post"); // 422
    await check("/meters/gas/m2", {}, "/meters/{meter_type}/{meter_id}", "get");
    await check("/meters?limit=10", {}, "/meters", "get");
    await check("/meters/plutonium", {}, "/meters/{meter_type}", "get");
    await check("/health", {}, "/health", "get");
    const range = "/meters/gas/m2/readings?from=2024-01-01T01:00:00Z";
    await check(range, { method: "DELETE" }, "/meters/{meter_type}/{meter_id}/readings", "delete");
    await check(range, { method: "DELETE" }, "/meters/{meter_type}/{meter_id}/readings", "delete");
    await check(
      "/meters/gas/m2",
      { method: "DELETE" },
      "/meters/{meter_type}/{meter_id}",
      "delete",
    ); // 409
    await check(
      "/meters/gas/m3",
      { method: "DELETE" },
      "/meters/{meter_type}/{meter_id}",
      "delete",
    ); // 404
    await check(`/trainmodel/${id}`, { method: "DELETE" }, "/trainmodel/{task_id}", "delete");
    await check(`/trainmodel/${id}`, { method: "DELETE" }, "/trainmodel/{task_id}", "delete");
    const calendar = "/sites/{site_id}/calendar";
    const putCalendar = (body: string) => ({
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body,
    });
    await check("/sites/bedford/calendar", {}, calendar, "get"); // 404
    await check("/sites/bedford/calendar", putCalendar('{"closures": ["2x"]}'), calendar, "put");
    await check(
      "/sites/bedford/calendar",
      putCalendar('{"public_holidays": "england-and-wales", "closures": ["2026-12-24"]}'),
      calendar,
      "put",
    );
    await check("/sites/bedford/calendar", {}, calendar, "get");
    await check("/sites/bedford/calendar", { method: "DELETE" }, calendar, "delete");
    await check("/sites/bedford/calendar", { method: "DELETE" }, calendar, "delete"); // 404
  } finally {
    close();
  }
});

Deno.test("zod-validated routes answer bad values in the one error shape, naming each field", async () => {
  const { app, close } = await testApp();
  try {
    const cases: Array<[string, string[], RegExp]> = [
      ["/meters/plutonium/x..y", ["meter_type", "meter_id"], /must be one of: electricity/],
      ["/trainmodel/tasks?limit=0", ["limit"], /limit must be a whole number, 1 to 200/],
      ["/trainmodel/tasks?status=DONE", ["status"], /DONE is not a status/],
      ["/trainmodel/stream?events=nope", ["events", "task_ids"], /nope is not a kind of event/],
      ["/forecast/gas/m1?horizon=169", ["horizon"], /from 1 to 168/],
      ["/forecast/gas/m1?from=noon", ["from"], /from must be an ISO 8601 time/],
      ["/forecast/plutonium/m1?horizon=0", ["meter_type", "horizon"], /^Invalid request: meter_t/],
      ["/meters/plutonium?limit=0", ["meter_type", "limit"], /^Invalid request: meter_type/],
    ];
    for (const [path, fields, message] of cases) {
      const response = await app.request(path);
      const body = await response.json();
      assert.equal(response.status, 422, path);
      assert.equal(body.error.code, "validation_failed");
      assert.match(body.error.message, message);
      assert.deepEqual(body.error.details.fields.map((f: { field: string }) => f.field), fields);
    }
  } finally {
    close();
  }
});

Deno.test("/docs is HTML whose assets all come from the app, served with their types and a long cache", async () => {
  const { app, close } = await testApp();
  try {
    const page = await app.request("/docs");
    assert.equal(page.status, 200);
    assert.match(page.headers.get("Content-Type") ?? "", /^text\/html/);
    assert.match(page.headers.get("Content-Security-Policy") ?? "", /script-src 'self'/);
    const html = await page.text();
    const urls = [...html.matchAll(/(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
    assert.ok(urls.length >= 3, html);
    for (const url of urls) {
      assert.ok(/^\/(?!\/)/.test(url) || url.startsWith("data:"), `${url} is on the same origin`);
    }
    const wanted: Record<string, string> = {
      "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
      "swagger-ui.css": "text/css; charset=utf-8",
      "swagger-initializer.js": "text/javascript; charset=utf-8",
    };
    for (const file of Object.keys(wanted)) {
      assert.ok(urls.some((u) => u.startsWith(`/docs/${file}?`)), `the page loads ${file}`);
    }
    for (const url of urls.filter((u) => u.startsWith("/"))) {
      const asset = await app.request(url);
      const text = await asset.text();
      assert.equal(asset.status, 200, url);
      const file = url.slice("/docs/".length).split("?")[0];
      assert.equal(asset.headers.get("Content-Type"), wanted[file], url);
      assert.match(asset.headers.get("Cache-Control") ?? "", /max-age=31536000/);
      assert.ok(text.length > 100, url);
      if (url.includes("initializer")) assert.match(text, /"\/openapi\.json"/);
    }
    const bundle = await app.request("/docs/swagger-ui-bundle.js");
    assert.ok((await bundle.text()).length > 500_000, "the whole bundle");
    const missing = await app.request("/docs/nope.js");
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error.code, "not_found");
  } finally {
    close();
  }
});

const chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((path) => {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
});

Deno.test({
  name: "in a browser, /docs renders every operation without reaching another origin",
  ignore: chromium === undefined,
  fn: async () => {
    const { default: puppeteer } = await import("puppeteer-core");
    const { app, close } = await testApp();
    const server = await serveApp(app, { kind: "node", port: 0, hostname: "127.0.0.1" });
    const browser = await puppeteer.launch({
      executablePath: chromium,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    });
    try {
      const document = await fetchDocument(app);
      const page = await browser.newPage();
      const elsewhere: string[] = [];
      const failures: string[] = [];
      page.on("request", (request) => {
        const url = request.url();
        if (!url.startsWith(server.url) && !url.startsWith("data:")) elsewhere.push(url);
      });
      page.on("pageerror", (error) => failures.push(String(error)));
      page.on("console", (message) => {
        if (message.type() === "error") failures.push(message.text());
      });
      await page.goto(`${server.url}/docs`, { waitUntil: "networkidle0" });
      await page.waitForSelector(".opblock", { timeout: 15_000 });
      const operations = await page.$$eval(".opblock", (blocks) => blocks.length);
      assert.equal(operations, documentedRoutes(document).size, "one block per operation");
      const title = await page.$eval(".info .title", (element) => element.textContent ?? "");
      assert.match(title, /Wattcast API/);
      assert.deepEqual(elsewhere, [], "no request leaves the origin");
      assert.deepEqual(failures, [], "no script error (the Content-Security-Policy allows it all)");
    } finally {
      await browser.close();
      await server.close();
      close();
    }
  },
});

Deno.test("every documented route taking a JSON body refuses a key given twice, naming it, rather than keeping one", async () => {
  const { app, close } = await testApp();
  try {
    const document = await fetchDocument(app);
    const tried: string[] = [];
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations as Record<string, unknown>)) {
        const content = (operation as { requestBody?: { content?: Record<string, unknown> } })
          .requestBody?.content ?? {};
        if (!("application/json" in content)) continue;
        const url = path.replace("{meter_type}", "gas").replace(/\{[^}]+\}/g, "x1");
        // Uploads take an array of items; the other routes one object.
        const object = '{"zz": 1, "zz": 2}';
        const response = await app.request(url, {
          method: method.toUpperCase(),
          headers: { "Content-Type": "application/json" },
          body: /\/(readings|weather)$/.test(path) ? `[${object}]` : object,
        });
        const body = await response.json();
        const route = `${method.toUpperCase()} ${path}`;
        tried.push(route);
        assert.equal(response.status, 422, `${route}: ${JSON.stringify(body)}`);
        // In the routes' own words: a field of the body, or an item of an upload.
        assert.match(JSON.stringify(body.error.details), /zz\\?"?[^}]*appears twice/, route);
      }
    }
    assert.ok(tried.length >= 8, `JSON routes tried: ${tried.join(", ")}`);
  } finally {
    close();
  }
});
