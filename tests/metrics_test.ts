import assert from "node:assert/strict";
import { startTestService, type TestService } from "./harness.ts";
import { openStream } from "./sse_client.ts";
import { type Exposition, parsePrometheusText } from "./prometheus_text.ts";
import type { Task } from "../src/domain/task.ts";
import { parseConfig } from "../src/config.ts";
import { startService } from "../src/server.ts";
import { createMetrics } from "../src/metrics/metrics.ts";
import { startRedisBroker } from "./test_brokers.ts";

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

Deno.test("Redis: tasks by status, the queue and broker calls and commands move with a real queued task", async () => {
  const metrics = createMetrics();
  const broker = await startRedisBroker({ taskTtlSeconds: 3600, onCommand: metrics.redisCommand });
  const dataDir = await Deno.makeTempDir({ prefix: "wattcast-test-" });
  const config = parseConfig({ PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir });
  // No runner: the job stays queued until this test claims it, as a worker would.
  const service = await startService(config, broker, { runJobs: false, mode: "api", metrics });
  const scrapeIt = () => scrape(service as unknown as TestService);
  try {
    const before = await scrapeIt();
    assert.equal(before.types.get("wattcast_tasks"), "gauge");
    assert.equal(before.value("wattcast_tasks", { status: "PENDING" }), 0);
    assert.equal(before.value("wattcast_queue_jobs", { state: "waiting" }), 0);
    assert.equal(before.value("wattcast_queue_oldest_job_age_seconds"), 0);

    const response = await fetch(`${service.url}/trainmodel/`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ meter_id: "meter_test_001", meter_type: "electricity", epochs: 2 }),
    });
    assert.equal(response.status, 202, await response.text());
    await new Promise((r) => setTimeout(r, 300));
    const queued = await scrapeIt();
    assert.equal(queued.value("wattcast_tasks", { status: "PENDING" }), 1);
    assert.equal(queued.value("wattcast_queue_jobs", { state: "waiting" }), 1);
    assert.equal(queued.value("wattcast_queue_jobs", { state: "delivered" }), 0);
    const age = queued.value("wattcast_queue_oldest_job_age_seconds")!;
    assert.ok(age >= 0.25 && age < 30, `the job has waited ${age} s`);
    assert.equal(queued.value("wattcast_broker_calls_total", { operation: "createTask" }), 1);
    assert.ok(queued.value("wattcast_broker_calls_total", { operation: "stats" })! >= 1);
    assert.equal(
      queued.value("wattcast_broker_errors_total", { operation: "createTask" }) ?? 0,
      0,
    );
    // EVALSHA, and EVAL after it when Redis did not know the script yet.
    const creates = queued.value("wattcast_redis_commands_total", { command: "script:create" })!;
    assert.ok(creates >= 1 && creates <= 2, `the create script, by name: ${creates}`);

    const delivery = await broker.claimJob("test-worker", 60_000);
    assert.ok(delivery);
    const claimed = await scrapeIt();
    assert.equal(claimed.value("wattcast_queue_jobs", { state: "waiting" }), 0);
    assert.equal(claimed.value("wattcast_queue_jobs", { state: "delivered" }), 1);
    await broker.ackJob(delivery);
    const done = await scrapeIt();
    assert.equal(done.value("wattcast_queue_jobs", { state: "delivered" }), 0);
    assert.equal(done.value("wattcast_queue_oldest_job_age_seconds"), 0);

    // A cursor the broker did not hand out: its listing call fails, and is counted.
    const bad = await fetch(`${service.url}/trainmodel/tasks?cursor=${btoa("garbage")}`);
    assert.equal(bad.status, 400, await bad.text());
    const failed = await scrapeIt();
    assert.equal(failed.value("wattcast_broker_errors_total", { operation: "listTasks" }), 1);
    assert.ok(
      failed.value("wattcast_broker_call_duration_seconds_count", { operation: "listTasks" })! >= 1,
    );
  } finally {
    await service.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("the Prometheus text parser refuses what the format does not allow", () => {
  assert.throws(() => parsePrometheusText("x 1\n"), /no # TYPE/);
  assert.throws(() => parsePrometheusText("# TYPE x counter\nx{a=b} 1\n"), /bad labels/);
  assert.throws(() => parsePrometheusText("# TYPE x gauge\nx one\n"), /not a number/);
  const ok = parsePrometheusText('# HELP x An x.\n# TYPE x gauge\nx{a="q\\"uote"} 2.5\n');
  assert.equal(ok.value("x", { a: 'q"uote' }), 2.5);
});

Deno.test("HTTP methods a client makes up do not each add a series to /metrics", async () => {
  // The node server refuses unknown methods in its parser; Deno.serve passes them on.
  const service = await startTestService({ HTTP_SERVER: "deno" });
  try {
    for (let i = 0; i < 20; i++) {
      const response = await fetch(`${service.url}/health`, { method: `MADEUP${i}` });
      await response.body?.cancel();
    }
    const metrics = await scrape(service);
    const methods = new Set(
      metrics.samples
        .filter((s) => s.name === "wattcast_http_requests_total")
        .map((s) => s.labels.method),
    );
    assert.ok(
      [...methods].every((m) => !m.startsWith("MADEUP")),
      `methods counted: ${[...methods].join(", ")}`,
    );
    assert.equal(metrics.sum("wattcast_http_requests_total", { method: "other" }), 20);
  } finally {
    await service.close();
  }
});
