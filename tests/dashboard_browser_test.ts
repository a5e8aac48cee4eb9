/**
 * The dashboard in a real browser (headless Chromium, `browser.ts`) against
 * the real service started as `deno task dev` in its own process: a task
 * started by clicking is watched to SUCCESS with its loss curve and result;
 * and after the server drops the stream (ending it at STREAM_MAX_SECONDS,
 * and a SIGKILL and restart of the process mid-training), the page resumes
 * with no event lost or repeated. A screenshot mid-training goes to
 * `test-artifacts/`.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Page } from "puppeteer-core";
import type { Task } from "../src/domain/task.ts";
import { browserTestsRun, launchBrowser } from "./browser.ts";
import { createApiKey } from "../src/auth/api_keys.ts";
import { type DevProcess, startDev } from "./processes.ts";
import { openSqliteBroker } from "../src/broker/sqlite_broker.ts";
import { DATABASE_FILE } from "../src/connect_broker.ts";
import type { MeterRef } from "../src/domain/meter.ts";
import { freePort } from "./redis_server.ts";
import { openStream, readUntil } from "./sse_client.ts";

/** The few DOM shapes the page-side functions below use (they run in the browser). */
interface PageNode {
  textContent: string | null;
}
declare const document: {
  querySelector(selector: string): PageNode | null;
  querySelectorAll(selector: string): Iterable<PageNode> & { length: number };
  documentElement: { scrollWidth: number };
};
interface Canvas {
  width: number;
  height: number;
  getContext(kind: "2d"): { getImageData(...box: number[]): { data: Uint8ClampedArray } };
}

const root = new URL("..", import.meta.url).pathname;
const ARTIFACTS = `${root}test-artifacts`;
const run = browserTestsRun();

type Dev = DevProcess;

/** A fresh data directory and free port, as `deno task dev` takes them. */
async function devEnv(extra: Record<string, string> = {}) {
  const dataDir = await Deno.makeTempDir({ prefix: "wattcast-dashboard-" });
  const port = freePort();
  const env = { PORT: String(port), HOST: "127.0.0.1", DATA_DIR: dataDir, ...extra };
  return { env, dataDir, url: `http://127.0.0.1:${port}` };
}

/** A page that records script errors and any request leaving the origin. */
async function openDashboard(page: Page, url: string) {
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(String(error)));
  page.on("console", (message) => {
    // Chromium logs network failures itself (a dropped stream, a refused reconnect, the 422 of
    // a bad upload): expected, and the page shows them; script errors are not.
    const network = /net::ERR_|Failed to load resource/.test(message.text());
    if (message.type() === "error" && !network) {
      problems.push(message.text());
    }
  });
  page.on("request", (request) => {
    const target = request.url();
    if (!target.startsWith(url) && !target.startsWith("data:")) problems.push(`left: ${target}`);
  });
  await page.setViewport({ width: 1280, height: 800 });
  await page.goto(`${url}/`, { waitUntil: "domcontentloaded" });
  await page.waitForSelector("#connection[data-state=live]", { timeout: 30_000 });
  await page.waitForSelector('#meters tr[data-meter="electricity/meter_test_001"]');
  return problems;
}

/** Starts training the demo meter by clicking, as a person would; returns the new task's id. */
async function startByClicking(page: Page, epochs: number): Promise<string> {
  await page.click('[data-demo-meter*="meter_test_001"]');
  assert.equal(
    await page.$eval(
      "#train-form [name=meter_id]",
      (e) => (e as unknown as { value: string }).value,
    ),
    "meter_test_001",
  );
  await page.type("#train-form [name=epochs]", String(epochs));
  await page.click("#train-form button[type=submit]");
  const card = await page.waitForSelector("li.task[data-task-id]", { timeout: 30_000 });
  return await card!.evaluate((node) => node.getAttribute("data-task-id")!);
}

/** The events the page shows it received for a task, in order. */
function eventsShown(page: Page, taskId: string): Promise<string[]> {
  return page.$$eval(
    `li.task[data-task-id="${taskId}"] .events li`,
    (items) => items.map((item) => item.textContent ?? ""),
  );
}

/** The task's whole event log from the service, in the page's words. */
async function eventLog(url: string, taskId: string): Promise<Task[]> {
  const stream = await openStream(`${url}/trainmodel/stream/${taskId}`, { lastEventId: "0-0" });
  assert.equal(stream.response.status, 200);
  const messages = await readUntil(stream, (m) => {
    const status = m.id ? JSON.parse(m.data).status : null;
    return ["SUCCESS", "FAILURE", "CANCELLED"].includes(status);
  });
  stream.close();
  return messages.filter((m) => m.id).map((m) => JSON.parse(m.data));
}

const asShown = (task: Task) => `${task.status} ${task.progress}% ${task.message}`;

/** Rewrites the meter's stored model as one trained before intervals: its metadata without them. */
async function dropIntervals(dataDir: string, meter: MeterRef): Promise<void> {
  const broker = openSqliteBroker({ path: `${dataDir}/${DATABASE_FILE}`, taskTtlSeconds: 3600 });
  try {
    const stored = await broker.getModel(meter);
    assert.ok(stored, "a stored model");
    const json = JSON.parse(stored.json);
    assert.ok(json.userDefinedMetadata.intervals, "a new model has intervals");
    delete json.userDefinedMetadata.intervals;
    await broker.putModel(meter, { ...stored, json: JSON.stringify(json) });
  } finally {
    await broker.close();
  }
}

/**
 * Pixels of the forecast band's shade on the meter chart: BAND_FILL in
 * charts.js, rgba(180, 35, 24, 0.18), on the chart's transparent canvas.
 */
function bandPixels(page: Page): Promise<number> {
  return page.$eval("#meter-chart canvas", (canvas) => {
    const c = canvas as unknown as Canvas;
    const data = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
    let count = 0;
    for (let i = 0; i < data.length; i += 4) {
      const near = Math.abs(data[i] - 180) + Math.abs(data[i + 1] - 35) +
        Math.abs(data[i + 2] - 24);
      if (Math.abs(data[i + 3] - 46) <= 8 && near < 30) count++;
    }
    return count;
  });
}

/** Pixels of the loss line's colour (#0b5cad) drawn on a task's loss chart. */
function lossPixels(page: Page, taskId: string): Promise<number> {
  return page.$eval(`li.task[data-task-id="${taskId}"] .loss canvas`, (canvas) => {
    const c = canvas as unknown as Canvas;
    const data = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
    let count = 0;
    for (let i = 0; i < data.length; i += 4) {
      const near = Math.abs(data[i] - 11) + Math.abs(data[i + 1] - 92) +
        Math.abs(data[i + 2] - 173);
      if (data[i + 3] > 200 && near < 60) count++;
    }
    return count;
  });
}

async function waitForSuccess(page: Page, taskId: string) {
  const card = `li.task[data-task-id="${taskId}"]`;
  await page.waitForSelector(`${card}[data-status=SUCCESS]`, { timeout: 240_000 });
  assert.equal(await page.$eval(`${card} .progress-value`, (e) => e.textContent), "100%");
  assert.equal(
    await page.$eval(`${card} progress`, (e) => (e as unknown as { value: number }).value),
    100,
  );
}

Deno.test({
  name:
    "dashboard: start a task by clicking, watch it live to SUCCESS with its loss curve and result",
  ignore: !run,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const browser = await launchBrowser();
    const { env, dataDir, url } = await devEnv();
    let dev: Dev | undefined;
    try {
      dev = await startDev(env, 90_000);
      const page = await browser.newPage();
      const problems = await openDashboard(page, url);
      const taskId = await startByClicking(page, 60);
      const card = `li.task[data-task-id="${taskId}"]`;

      // Mid-training: a loss curve growing, a progress bar below 100%.
      await page.waitForFunction(
        (selector) => document.querySelectorAll(`${selector} .events li`).length >= 8,
        { timeout: 120_000 },
        card,
      );
      await page.waitForSelector(`${card} .loss canvas`);
      await Deno.mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}/dashboard_training.png` });

      await waitForSuccess(page, taskId);
      const task: Task = await (await fetch(`${url}/trainmodel/status/${taskId}`)).json();
      assert.equal(task.status, "SUCCESS");
      assert.ok(await lossPixels(page, taskId) > 50, "the loss curve is drawn");
      const facts = await page.$$eval(`${card} .result dd`, (d) => d.map((e) => e.textContent));
      const details = task.result!.details as Record<string, unknown>;
      assert.equal(facts[0], String(details.data_points), "data points, as the result says");
      assert.equal(facts[1], String(details.epochs));
      const rows = await page.$$eval(
        `${card} .accuracy tbody th`,
        (t) => t.map((e) => e.textContent),
      );
      assert.ok(rows.includes("Model") && rows.includes("Persistence ensemble"), `${rows}`);

      // Every event of the task, each once, in order.
      const log = await eventLog(url, taskId);
      assert.deepEqual(await eventsShown(page, taskId), log.map(asShown));
      const epochs = log.filter((t) => t.status === "TRAINING_MODEL" && t.metrics?.loss != null);
      assert.equal(epochs.length, 60, "one event per epoch");

      // The meter is now trained; its readings and forecast on one chart.
      await page.waitForFunction(() =>
        document.querySelector('#meters tr[data-meter="electricity/meter_test_001"]')
          ?.textContent?.includes("trained ")
      );
      await page.click(`${card} .actions button`);
      await page.waitForSelector("#chart-panel:not([hidden]) #meter-chart canvas");
      await page.waitForFunction(() =>
        /168 hourly readings and a 24-hour forecast/.test(
          document.querySelector("#chart-message")?.textContent ?? "",
        )
      );
      // The forecast's 10–90% band, drawn from the forecast the API gives (a new model has one).
      const forecast = await (await fetch(`${url}/forecast/electricity/meter_test_001?horizon=24`))
        .json();
      assert.deepEqual(forecast.intervals.quantiles, { low: 0.1, high: 0.9 }, "a new model's band");
      const banded = forecast.points.filter((p: { low?: number; high?: number }) =>
        p.low !== undefined && p.high !== undefined && p.low < p.high
      );
      assert.equal(banded.length, 24, "every hour has a low below its high");
      const chart = await page.$eval("#meter-chart", (e) => ({
        series: e.getAttribute("data-series"),
        band: e.getAttribute("data-band-points"),
      }));
      assert.deepEqual(chart, { series: "4", band: "24" }, "readings, forecast, low, high");
      // Measured: about 2,100 such pixels with the band, 158 without it (the dashed edges' anti-aliasing).
      const shaded = await bandPixels(page);
      assert.ok(shaded > 1000, `the band is shaded on the chart (${shaded} pixels)`);
      const legend = await page.$eval(".band-legend", (e) => e.textContent ?? "");
      assert.match(legend, /10–90% range/);
      assert.ok(legend.includes(forecast.intervals.calibrated_on), legend);
      const quality = await page.$eval(".quality", (e) => e.textContent ?? "");
      assert.ok(
        quality.includes(
          `${forecast.inputs.quality}. ${forecast.inputs.hours_estimated} of the ${forecast.inputs.hours_needed} hours`,
        ),
        quality,
      );
      // The text alternative: every hour's forecast, low and high, as the API gives them.
      await page.focus(".forecast-table summary");
      await page.keyboard.press("Enter");
      const tableRows = await page.$$eval(
        ".forecast-table[open] tbody tr",
        (trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")),
      );
      await page.screenshot({ path: `${ARTIFACTS}/dashboard_forecast.png`, fullPage: true });
      const asNumber = (text: string) => Number(text.replaceAll(",", ""));
      assert.equal(tableRows.length, forecast.points.length);
      forecast.points.forEach((p: { value: number; low: number; high: number }, i: number) => {
        assert.deepEqual(
          tableRows[i].map(asNumber),
          [p.value, p.low, p.high].map((v) => Math.round(v * 100) / 100),
        );
      });

      // An upload with a bad line shows the API's own message; a good one is stored.
      const bad = "timestamp,value\n2024-01-01 00:00:00,12.5\n2024-01-01 01:00:00,abc\n";
      const expected = await (await fetch(`${url}/meters/gas/upload_1/readings`, {
        method: "POST",
        headers: { "Content-Type": "text/csv" },
        body: bad,
      })).json();
      const file = `${dataDir}/bad.csv`;
      await Deno.writeTextFile(file, bad);
      await page.type("#upload-form [name=meter_id]", "upload_1");
      await page.select("#upload-form [name=meter_type]", "gas");
      const input = await page.$("#upload-form [name=file]");
      await (input as unknown as { uploadFile(path: string): Promise<void> }).uploadFile(file);
      await page.click("#upload-form button[type=submit]");
      await page.waitForSelector("#upload-message .error");
      const shown = await page.$eval("#upload-message", (e) => e.textContent ?? "");
      assert.ok(shown.includes(expected.error.message), shown);
      assert.match(shown, /line 3: /, "the bad line named");
      await Deno.writeTextFile(file, "timestamp,value\n2024-01-01 00:00:00,12.5\n");
      await (input as unknown as { uploadFile(path: string): Promise<void> }).uploadFile(file);
      await page.click("#upload-form button[type=submit]");
      await page.waitForSelector("#upload-message .success");
      await page.waitForSelector('#meters tr[data-meter="gas/upload_1"]');

      // Keyboard and phone: every control focusable and named, no sideways scrolling.
      const unnamed = await page.$$eval(
        "button, input, select, a[href]",
        (controls) =>
          controls.filter((c) => {
            const e = c as unknown as {
              labels?: { length: number };
              tabIndex: number;
              textContent: string | null;
              getAttribute(name: string): string | null;
            };
            const named = (e.labels?.length ?? 0) > 0 || e.textContent?.trim() ||
              e.getAttribute("aria-label");
            return e.tabIndex < 0 || !named;
          }).map((c) => c.outerHTML.slice(0, 80)),
      );
      assert.deepEqual(unnamed, []);
      await page.setViewport({ width: 390, height: 844 });
      await page.waitForFunction(() => document.documentElement.scrollWidth <= 390);
      assert.deepEqual(problems, []);

      // A day of readings after a day without any: the forecast's inputs are degraded.
      const after = forecast.points.map((p: { timestamp: string; value: number }) =>
        `${new Date(Date.parse(p.timestamp) + 24 * 3600_000).toISOString()},${p.value.toFixed(2)}`
      );
      const uploaded = await fetch(`${url}/meters/electricity/meter_test_001/readings`, {
        method: "POST",
        headers: { "Content-Type": "text/csv" },
        body: ["timestamp,value", ...after].join("\n") + "\n",
      });
      assert.equal(uploaded.status, 200, await uploaded.text());

      // The next forecast's day (the one after the day just uploaded: a Friday, 3 January 2020)
      // becomes a closure of the meter's site: the page says so.
      const firstDay = plainDay(Date.parse(forecast.points[0].timestamp) + 48 * 3600_000);
      const site = await fetch(`${url}/sites/hq/calendar`, {
        method: "PUT",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ closures: [firstDay] }),
      });
      assert.equal(site.status, 200, await site.text());
      const link = await fetch(`${url}/meters/electricity/meter_test_001`, {
        method: "PUT",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ site_id: "hq" }),
      });
      assert.equal(link.status, 200, await link.text());

      // A model trained before intervals (its stored metadata without them): the line alone,
      // and the reason the API gives. The service is stopped while the model is rewritten.
      await dev.kill();
      await dropIntervals(dataDir, { meter_type: "electricity", meter_id: "meter_test_001" });
      dev = await startDev(env, 90_000);
      const older = await browser.newPage();
      const olderProblems = await openDashboard(older, url);
      await older.waitForSelector('#meters tr[data-meter="electricity/meter_test_001"] button');
      await older.click(
        '#meters tr[data-meter="electricity/meter_test_001"] button[aria-label^="Readings"]',
      );
      await older.waitForSelector(".band-legend");
      const plain = await (await fetch(`${url}/forecast/electricity/meter_test_001?horizon=24`))
        .json();
      assert.equal(plain.intervals.quantiles, null);
      assert.ok(plain.points.every((p: object) => !("low" in p) && !("high" in p)));
      assert.deepEqual(
        await older.$eval("#meter-chart", (e) => [
          e.getAttribute("data-series"),
          e.getAttribute("data-band-points"),
        ]),
        ["2", "0"],
        "readings and forecast only",
      );
      const noBand = await bandPixels(older);
      assert.ok(noBand < 500, `no band shaded (${noBand} pixels)`);
      const reason = await older.$eval(".band-legend", (e) => e.textContent ?? "");
      assert.equal(reason, `No range shown: ${plain.intervals.reason}`);
      assert.equal(plain.inputs.quality, "degraded", "a day estimated");
      const degraded = await older.$eval(".quality", (e) => ({
        quality: e.getAttribute("data-quality"),
        text: e.textContent ?? "",
      }));
      assert.equal(degraded.quality, "degraded");
      assert.ok(
        degraded.text.startsWith(
          `Inputs: degraded. ${plain.inputs.hours_estimated} of the ${plain.inputs.hours_needed} hours`,
        ),
        degraded.text,
      );
      const closed = await older.$eval(".calendar", (e) => ({
        days: e.getAttribute("data-days"),
        text: e.textContent ?? "",
      }));
      assert.deepEqual(plain.calendar.non_working_days, [firstDay], JSON.stringify(plain.calendar));
      assert.equal(closed.days, firstDay);
      assert.match(closed.text, new RegExp(`site hq's calendar.*: ${firstDay}\\.$`));
      const columns = await older.$$eval(".forecast-table thead th", (t) => t.length);
      assert.equal(columns, 2, "hour and forecast");
      assert.deepEqual(olderProblems, []);
    } finally {
      await browser.close();
      await dev?.kill();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "dashboard: after the server drops the stream, the page resumes with no event lost or repeated",
  ignore: !run,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    // The server ends every stream after 2 s, and is killed and restarted mid-training.
    const { env, dataDir, url } = await devEnv({ STREAM_MAX_SECONDS: "2" });
    const browser = await launchBrowser();
    let dev: Dev | undefined;
    try {
      dev = await startDev(env, 90_000);
      const page = await browser.newPage();
      const problems = await openDashboard(page, url);
      const taskId = await startByClicking(page, 80);
      const card = `li.task[data-task-id="${taskId}"]`;
      await page.waitForFunction(
        (selector) =>
          [...document.querySelectorAll(`${selector} .events li`)]
            .filter((li) => li.textContent?.startsWith("TRAINING_MODEL")).length >= 5,
        { timeout: 120_000 },
        card,
      );

      await dev.kill();
      await page.waitForSelector("#connection[data-state=reconnecting]", { timeout: 30_000 });
      dev = await startDev(env, 90_000);
      await page.waitForSelector("#connection[data-state=live]", { timeout: 60_000 });
      await waitForSuccess(page, taskId);

      const log = await eventLog(url, taskId);
      const statuses = log.map((t) => t.status);
      assert.ok(statuses.includes("RETRYING"), `the killed task was retried: ${statuses}`);
      const shown = await eventsShown(page, taskId);
      assert.deepEqual(shown, log.map(asShown), "every event once, in order, across the drops");
      const epochsShown = shown.filter((s) => s.startsWith("TRAINING_MODEL")).length;
      const epochsLogged = log.filter((t) => t.status === "TRAINING_MODEL").length;
      assert.equal(epochsShown, epochsLogged);
      assert.ok(epochsLogged >= 80, `every epoch of the final attempt, ${epochsLogged}`);
      assert.ok(await lossPixels(page, taskId) > 50, "the loss curve is drawn");
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
      await dev?.kill();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "dashboard with authentication on: it asks for a key, then lists and streams with a stream token",
  ignore: !run,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const made = await createApiKey({
      name: "facilities",
      scopes: ["read", "train"],
      meters: null,
    });
    const browser = await launchBrowser();
    const { env, dataDir, url } = await devEnv({ API_KEYS: JSON.stringify([made.record]) });
    let dev: Dev | undefined;
    try {
      dev = await startDev(env, 90_000);
      const page = await browser.newPage();
      const streams: string[] = [];
      page.on("request", (request) => {
        if (request.url().includes("/trainmodel/events")) streams.push(request.url());
      });
      await page.setViewport({ width: 1280, height: 800 });
      await page.goto(`${url}/`, { waitUntil: "domcontentloaded" });
      await page.waitForSelector("#key-form:not([hidden])", { timeout: 30_000 });
      await page.type("#key-form [name=credential]", made.key);
      await page.click("#key-form button[type=submit]");
      await page.waitForSelector("#connection[data-state=live]", { timeout: 30_000 });
      await page.waitForSelector('#meters tr[data-meter="electricity/meter_test_001"]');
      assert.ok(
        streams.some((s) => /[?&]token=ey/.test(s)),
        `the stream opened with a stream token: ${streams}`,
      );
      const taskId = await startByClicking(page, 5);
      await waitForSuccess(page, taskId);
      const status = await fetch(`${url}/trainmodel/status/${taskId}`, {
        headers: { Authorization: `Bearer ${made.key}` },
      }).then((r) => r.json());
      assert.equal(status.requested_by, "facilities");
      assert.ok(!dev.output().includes(made.key), "the key is not in the service's output");
    } finally {
      await dev?.kill();
      await browser.close();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

/** The calendar day (`YYYY-MM-DD`) of a time, on the readings' clock. */
function plainDay(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}
