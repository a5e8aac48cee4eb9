import assert from "node:assert/strict";
import { startTestService, type TestService } from "./harness.ts";
import { openStream } from "./sse_client.ts";
import { type Exposition, parsePrometheusText } from "./prometheus_text.ts";
import type { Task } from "../src/domain/task.ts";

async function scrape(service: TestService, headers: Record<string, string> = {}) {
  const response = await fetch(`${service.url}/metrics`, { headers });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  assert.match(response.headers.get("Content-Type")!, /^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(text);
}

/** Scrapes until `ok` holds (counts move as streams close, a moment after the client sees the end). */
async function scrapeUntil(service: TestService, ok: (m: Exposition) => boolean, what: string) {
  const until = Date.now() + 15_000;
  while (true) {
    const metrics = await scrape(service);
    if (ok(metrics)) return metrics;
    if (Date.now() > until) throw new Error(`the metrics never showed ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const server of ["node", "deno"] as const) {
  Deno.test(`${server} server: /metrics is Prometheus text and moves with a real task and its stream`, async () => {
    const service = await startTestService({ HTTP_SERVER: server });
    try {
      const before = await scrape(service);
      assert.equal(before.types.get("wattcast_http_requests_total"), "counter");
      assert.equal(before.types.get("wattcast_event_delivery_delay_seconds"), "histogram");
      assert.equal(before.value("wattcast_open_streams"), 0);
      assert.ok(before.value("process_resident_memory_bytes")! > 0, "process default metrics");

      const task = await service.start("meter_test_001", { epochs: 2 });
      const stream = await openStream(`${service.url}/trainmodel/stream/${task.task_id}`);
      assert.equal(stream.response.status, 200);
      await scrapeUntil(service, (m) => m.value("wattcast_open_streams") === 1, "1 open stream");

      const events: Task[] = [];
      for await (const m of stream.messages) {
        if (m.id !== undefined) events.push(JSON.parse(m.data));
      }
      assert.equal(events.at(-1)?.status, "SUCCESS");

      const after = await scrapeUntil(
        service,
        (m) => m.value("wattcast_open_streams") === 0,
        "the stream closed",
      );
      const route = "/trainmodel/stream/:task_id";
      assert.equal(
        after.value("wattcast_http_requests_total", { method: "GET", route, status: "200" }),
        1,
        "the stream's request, by its route pattern",
      );
      assert.equal(
        after.value("wattcast_http_request_duration_seconds_count", { method: "GET", route }),
        1,
      );
      assert.ok(
        after.value("wattcast_http_request_duration_seconds_sum", { method: "GET", route })! > 0,
      );
      assert.equal(
        after.value("wattcast_http_requests_total", {
          method: "POST",
          route: "/trainmodel",
          status: "202",
        }),
        1,
      );
      assert.ok(
        after.samples.every((s) => !JSON.stringify(s.labels).includes(task.task_id)),
        "no label carries a task id",
      );
      assert.equal(after.value("wattcast_stream_events_delivered_total"), events.length);
      // The PENDING event was committed before the stream opened: delivered, not timed.
      const timed = after.value("wattcast_event_delivery_delay_seconds_count")!;
      assert.ok(timed >= 1 && timed <= events.length, `${timed} delays for ${events.length}`);
      assert.ok(after.value("wattcast_event_delivery_delay_seconds_sum")! >= 0);
      assert.equal(after.value("wattcast_task_status_changes_total", { status: "SUCCESS" }), 1);
      assert.equal(
        after.value("wattcast_task_status_changes_total", { status: "TRAINING_MODEL" }),
        events.filter((t) => t.status === "TRAINING_MODEL").length,
      );
      assert.equal(after.value("wattcast_training_duration_seconds_count"), 1);
      assert.equal(after.value("wattcast_training_epochs_per_second_count"), 1);
      assert.ok(
        after.sum("wattcast_http_requests_total", { route: "/metrics", status: "200" }) >= 2,
        "the earlier scrapes are counted",
      );
    } finally {
      await service.close();
    }
  });
}

Deno.test("METRICS_TOKEN: /metrics needs it as a Bearer token; refusals and request ids show", async () => {
  const token = "metrics-token-0123456789";
  const service = await startTestService({
    METRICS_TOKEN: token,
    RATE_LIMIT_FORECAST_PER_MINUTE: "1",
  });
  try {
    const tries: Record<string, string>[] = [{}, {
      Authorization: "Bearer wrong-token-0123456789",
    }];
    for (const headers of tries) {
      const refused = await fetch(`${service.url}/metrics`, { headers });
      assert.equal(refused.status, 401);
      assert.equal((await refused.json()).error.code, "metrics_token_required");
      assert.match(refused.headers.get("WWW-Authenticate")!, /^Bearer/);
    }

    const first = await fetch(`${service.url}/forecast/electricity/meter_test_001?horizon=24`, {
      headers: { "X-Request-Id": "my-request.42" },
    });
    await first.body?.cancel();
    assert.equal(first.headers.get("X-Request-Id"), "my-request.42", "a sane id is kept");
    const second = await fetch(`${service.url}/forecast/electricity/meter_test_001?horizon=24`, {
      headers: { "X-Request-Id": "not sane: spaces" },
    });
    await second.body?.cancel();
    assert.equal(second.status, 429);
    assert.match(
      second.headers.get("X-Request-Id")!,
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      "an insane one is replaced by a UUID, on an error answer too",
    );

    const metrics = await scrape(service, { Authorization: `Bearer ${token}` });
    assert.equal(
      metrics.value("wattcast_rate_limit_refusals_total", { kind: "forecast", reason: "rate" }),
      1,
    );
    assert.equal(
      metrics.value("wattcast_http_requests_total", {
        method: "GET",
        route: "/forecast/:meter_type/:meter_id",
        status: "429",
      }),
      1,
    );
    assert.equal(
      metrics.value("wattcast_http_requests_total", {
        method: "GET",
        route: "/metrics",
        status: "401",
      }),
      2,
    );
  } finally {
    await service.close();
  }
});

Deno.test("the Prometheus text parser refuses what the format does not allow", () => {
  assert.throws(() => parsePrometheusText("x 1\n"), /no # TYPE/);
  assert.throws(() => parsePrometheusText("# TYPE x counter\nx{a=b} 1\n"), /bad labels/);
  assert.throws(() => parsePrometheusText("# TYPE x gauge\nx one\n"), /not a number/);
  const ok = parsePrometheusText('# HELP x An x.\n# TYPE x gauge\nx{a="q\\"uote"} 2.5\n');
  assert.equal(ok.value("x", { a: 'q"uote' }), 2.5);
});
