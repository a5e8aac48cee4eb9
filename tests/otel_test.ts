/**
 * OpenTelemetry: with Deno's built-in export on (`OTEL_DENO=true`), a real
 * `main.ts` process sends a training job's span and its stages' spans to
 * an OTLP receiver (here a small HTTP server taking OTLP/JSON); without it
 * the spans are non-recording no-ops.
 */
import assert from "node:assert/strict";
import { trace } from "@opentelemetry/api";
import { spawnDeno } from "./processes.ts";
import { inSpan } from "../src/jobs/job_tracing.ts";

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: { key: string; value: Record<string, unknown> }[];
}

/** The spans of OTLP/JSON trace exports. */
function spansOf(body: {
  resourceSpans?: { scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}): OtlpSpan[] {
  return (body.resourceSpans ?? []).flatMap((r) =>
    (r.scopeSpans ?? []).flatMap((s) => s.spans ?? [])
  );
}

function attribute(span: OtlpSpan, key: string): unknown {
  const value = span.attributes?.find((a) => a.key === key)?.value;
  return value && Object.values(value)[0];
}

Deno.test("without OTEL_DENO the job spans are non-recording no-ops", async () => {
  assert.notEqual(Deno.env.get("OTEL_DENO"), "true", "this test runs without the export");
  let recording: boolean | undefined;
  const result = await inSpan("wattcast.test", { a: 1 }, (span) => {
    recording = span.isRecording();
    return Promise.resolve(42);
  });
  assert.equal(result, 42);
  assert.equal(recording, false);
  assert.equal(trace.getActiveSpan(), undefined, "nothing stays active");
  await assert.rejects(
    inSpan("wattcast.test", {}, () => Promise.reject(new Error("boom"))),
    /boom/,
    "an error goes through",
  );
});

Deno.test("OTEL_DENO=true: a training job's span and its stages reach an OTLP receiver", async () => {
  const spans: OtlpSpan[] = [];
  const receiver = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      if (new URL(req.url).pathname === "/v1/traces") spans.push(...spansOf(await req.json()));
      else await req.body?.cancel();
      return Response.json({});
    },
  );
  const dataDir = await Deno.makeTempDir({ prefix: "wattcast-otel-" });
  const proc = spawnDeno("api", "main.ts", {
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    OTEL_DENO: "true",
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiver.addr.port}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_SERVICE_NAME: "wattcast-test",
    OTEL_DENO_CONSOLE: "ignore",
  });
  try {
    await proc.waitFor(/listening on/);
    const url = /listening on (http:\/\/[^\s(]+)/.exec(proc.output())![1];
    const created = await fetch(`${url}/trainmodel/`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ meter_id: "meter_test_001", meter_type: "electricity", epochs: 2 }),
    });
    assert.equal(created.status, 202);
    const { task_id } = await created.json();
    const until = Date.now() + 60_000;
    let job: OtlpSpan | undefined;
    while (!job) {
      if (Date.now() > until) {
        throw new Error(`no job span arrived; got ${spans.map((s) => s.name)}\n${proc.output()}`);
      }
      await new Promise((r) => setTimeout(r, 200));
      job = spans.find((s) =>
        s.name === "wattcast.training_job" && attribute(s, "wattcast.task_id") === task_id
      );
    }
    assert.equal(attribute(job, "wattcast.outcome"), "succeeded");
    assert.equal(attribute(job, "wattcast.meter"), "electricity/meter_test_001");
    const stages = spans.filter((s) => s.parentSpanId === job.spanId).map((s) => s.name);
    assert.deepEqual(stages.sort(), [
      "wattcast.fetch_readings",
      "wattcast.save_model",
      "wattcast.train",
    ]);
    const train = spans.find((s) => s.name === "wattcast.train" && s.parentSpanId === job.spanId)!;
    assert.equal(train.traceId, job.traceId);
    assert.equal(Number(attribute(train, "wattcast.epochs")), 2);
  } finally {
    await proc.stop();
    await receiver.shutdown();
    await Deno.remove(dataDir, { recursive: true });
  }
});
