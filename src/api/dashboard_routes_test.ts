import assert from "node:assert/strict";
import { DASHBOARD_ASSETS, DASHBOARD_PAGE, prefersHtml } from "./dashboard_routes.ts";
import { DEMO_METERS } from "../meters/demo_meters.ts";

Deno.test("prefersHtml: browsers get HTML, programs and ties get JSON", () => {
  const chrome =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";
  const firefox = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
  assert.equal(prefersHtml(chrome), true);
  assert.equal(prefersHtml(firefox), true);
  assert.equal(prefersHtml("text/html"), true);
  assert.equal(prefersHtml("text/*"), true);
  assert.equal(prefersHtml(undefined), false, "curl sends */*, fetch() may send nothing");
  assert.equal(prefersHtml("*/*"), false, "a tie goes to JSON");
  assert.equal(prefersHtml("application/json"), false);
  assert.equal(prefersHtml("application/json, text/html;q=0.5"), false);
  assert.equal(prefersHtml("text/html;q=0.9, application/json"), false);
  assert.equal(prefersHtml("TEXT/HTML; Q=1, application/json;q=0.2"), true);
  assert.equal(prefersHtml("text/html;q=0, */*"), false, "q=0 refuses HTML");
  assert.equal(prefersHtml("text/html;q=bad"), false, "a bad q counts as 0");
});

Deno.test("assets: content-hashed URLs, modules import each other by those URLs", () => {
  const urls = [...DASHBOARD_ASSETS.values()].map((a) => a.url);
  for (const url of urls) assert.match(url, /^\/assets\/[a-z_]+\.[0-9a-f]{10}\.(js|css)$/);
  assert.equal(new Set(urls).size, urls.length);
  const app = DASHBOARD_ASSETS.get("app.js")!;
  for (const dependency of ["api.js", "charts.js", "live.js", "tasks.js"]) {
    assert.ok(app.body.includes(`from "${DASHBOARD_ASSETS.get(dependency)!.url}"`), dependency);
  }
  for (const asset of DASHBOARD_ASSETS.values()) {
    assert.doesNotMatch(asset.body, /from "\.\//, `${asset.url} has no relative import left`);
  }
});

Deno.test("the page names every asset by its URL and offers the demo meters", () => {
  for (const name of ["app.js", "app.css", "uplot.js", "uplot.css"]) {
    assert.ok(DASHBOARD_PAGE.includes(DASHBOARD_ASSETS.get(name)!.url), name);
  }
  assert.doesNotMatch(DASHBOARD_PAGE, /\{\{/, "every placeholder filled");
  for (const meter of DEMO_METERS) assert.ok(DASHBOARD_PAGE.includes(meter.meter_id));
  assert.match(DASHBOARD_PAGE, /<option value="electricity">/);
});
