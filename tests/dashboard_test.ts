/**
 * The dashboard without a browser: `GET /` by `Accept` (the page for
 * browsers, the endpoint list for programs), its assets (types, cache
 * headers), and no URL leaving the origin. The browser tests are in
 * `dashboard_browser_test.ts`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startTestService } from "./harness.ts";

const BROWSER_ACCEPT =
  "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

Deno.test("GET /: the page for browsers, the endpoint list for others, Vary: Accept", async () => {
  const service = await startTestService({ SEED_DEMO_METERS: "false" });
  try {
    const page = await fetch(`${service.url}/`, { headers: { Accept: BROWSER_ACCEPT } });
    const html = await page.text();
    assert.equal(page.status, 200);
    assert.match(page.headers.get("Content-Type") ?? "", /^text\/html/);
    assert.match(page.headers.get("Vary") ?? "", /Accept/);
    assert.equal(page.headers.get("Cache-Control"), "no-cache");
    assert.match(page.headers.get("Content-Security-Policy") ?? "", /script-src 'self'/);
    assert.match(html, /<title>Wattcast dashboard<\/title>/);
    assert.match(html, /id="train-form"/);

    for (const accept of [null, "*/*", "application/json", "application/json, text/html;q=0.8"]) {
      const response = await fetch(`${service.url}/`, {
        headers: accept === null ? {} : { Accept: accept },
      });
      assert.equal(response.status, 200, String(accept));
      assert.match(response.headers.get("Content-Type") ?? "", /^application\/json/, `${accept}`);
      assert.match(response.headers.get("Vary") ?? "", /Accept/, `${accept}`);
      const body = await response.json();
      assert.equal(body.service, "wattcast");
      assert.equal(
        body.endpoints.readings,
        "GET /meters/{meter_type}/{meter_id}/readings?hours=168",
      );
    }
  } finally {
    await service.close();
  }
});

Deno.test("assets: served with their types, cached for a year, nothing from another origin", async () => {
  const service = await startTestService({ SEED_DEMO_METERS: "false" });
  try {
    const html = await (await fetch(`${service.url}/`, { headers: { Accept: "text/html" } }))
      .text();
    const urls = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    const assets = urls.filter((url) => url.startsWith("/assets/"));
    assert.ok(assets.length >= 4, `the page's assets: ${assets}`);
    assert.deepEqual(
      urls.filter((url) => /^[a-z]+:/i.test(url) && !url.startsWith("data:")),
      [],
      "no absolute URL in the page",
    );
    const seen = new Set<string>();
    const queue = [...assets];
    while (queue.length) {
      const url = queue.shift()!;
      if (seen.has(url)) continue;
      seen.add(url);
      const response = await fetch(`${service.url}${url}`);
      const text = await response.text();
      assert.equal(response.status, 200, url);
      const type = url.endsWith(".js") ? "text/javascript" : "text/css";
      assert.equal(response.headers.get("Content-Type"), `${type}; charset=utf-8`, url);
      assert.equal(response.headers.get("Cache-Control"), "public, max-age=31536000, immutable");
      assert.doesNotMatch(
        text,
        /\b(?:from|import)\s*\(?\s*["']https?:/,
        `${url} imports nothing remote`,
      );
      assert.doesNotMatch(text, /url\(\s*["']?https?:/, `${url} loads no remote style`);
      assert.doesNotMatch(text, /fetch\(\s*["'`]https?:|EventSource\(\s*["'`]https?:/, url);
      // Modules import each other by their hashed URLs: follow them.
      for (const m of text.matchAll(/from "(\/assets\/[^"]+)"/g)) queue.push(m[1]);
    }
    assert.ok(
      [...seen].some((url) => /\/assets\/tasks\.[0-9a-f]+\.js$/.test(url)),
      "imports followed",
    );
    assert.ok([...seen].some((url) => /\/assets\/uplot\.[0-9a-f]+\.js$/.test(url)), "uPlot served");

    const stale = await fetch(`${service.url}/assets/app.0000000000.js`);
    assert.equal(stale.status, 404);
    assert.equal((await stale.json()).error.code, "not_found");
  } finally {
    await service.close();
  }
});

Deno.test("GET /: Vary names Accept beside the CORS middleware's Origin", async () => {
  const service = await startTestService({
    SEED_DEMO_METERS: "false",
    CORS_ORIGIN: "https://dash.example",
  });
  try {
    for (const accept of [BROWSER_ACCEPT, "application/json"]) {
      const response = await fetch(`${service.url}/`, {
        headers: { Accept: accept, Origin: "https://dash.example" },
      });
      await response.body?.cancel();
      const vary = (response.headers.get("Vary") ?? "").split(/\s*,\s*/);
      assert.ok(vary.includes("Accept") && vary.includes("Origin"), `${accept}: ${vary}`);
    }
  } finally {
    await service.close();
  }
});
