import assert from "node:assert/strict";
import { startTestService } from "./harness.ts";
import { openStream, readUntil } from "./sse_client.ts";
import type { Task } from "../src/domain/task.ts";
import type { DeepPathReport } from "../src/training/train.ts";

const REQUIRED = [
  "task_id",
  "status",
  "progress",
  "message",
  "updated_at",
  "estimated_completion",
  "result",
  "error",
  "error_details",
];

for (const server of ["node", "deno"] as const) {
  Deno.test(`${server} server: a task goes from POST to a final SUCCESS event, and the stream closes`, async () => {
    const service = await startTestService({ HTTP_SERVER: server });
    try {
      const { response, json } = await service.train({
        meter_id: "meter_test_001",
        meter_type: "electricity",
        epochs: 3,
      });
      assert.equal(response.status, 202);
      assert.equal(response.headers.get("Location"), `/trainmodel/status/${json.task_id}`);
      for (const key of REQUIRED) assert.ok(key in json, `202 body has ${key}`);
      assert.equal(json.status, "PENDING");
      assert.equal(json.progress, 0);

      // Last-Event-ID 0-0 replays the task's whole history, then goes live.
      const stream = await openStream(`${service.url}/trainmodel/stream/${json.task_id}`, {
        lastEventId: "0-0",
      });
      assert.equal(stream.response.status, 200);
      assert.equal(stream.response.headers.get("Content-Type"), "text/event-stream");
      assert.equal(stream.response.headers.get("Cache-Control"), "no-cache, no-transform");
      assert.equal(stream.response.headers.get("X-Accel-Buffering"), "no");

      const messages = [];
      for await (const m of stream.messages) messages.push(m); // ends only if the server closes
      const events = messages.filter((m) => m.id !== undefined);
      const tasks: Task[] = events.map((m) => JSON.parse(m.data));
      assert.ok(
        messages.every((m) => m.event === undefined),
        "no event: field, so onmessage gets them",
      );
      assert.equal(tasks[0].status, "PENDING");
      assert.deepEqual([...new Set(tasks.map((t) => t.status))], [
        "PENDING",
        "FETCHING_DATA",
        "PREPROCESSING",
        "TRAINING_MODEL",
        "SAVING_MODEL",
        "SUCCESS",
      ]);
      for (const task of tasks) {
        for (const key of REQUIRED) assert.ok(key in task, `event has ${key}`);
        assert.ok(Number.isInteger(task.progress) && task.progress >= 0 && task.progress <= 100);
      }
      const progress = tasks.map((t) => t.progress);
      assert.deepEqual(progress, [...progress].sort((a, b) => a - b), "progress never goes down");
      const ids = events.map((m) => m.id!);
      assert.ok(ids.every((id) => /^\d+-\d+$/.test(id)));
      assert.equal(new Set(ids).size, ids.length);
      const epochs = tasks.filter((t) => t.metrics?.epoch).map((t) => t.metrics!.epoch);
      assert.deepEqual([...new Set(epochs)], [1, 2, 3]);
      assert.ok(
        tasks.some((t) => t.status === "TRAINING_MODEL" && t.estimated_completion !== null),
        "an estimate appears once training speed is measured",
      );

      const final = tasks.at(-1)!;
      assert.equal(final.status, "SUCCESS");
      assert.equal(final.progress, 100);
      assert.equal(final.result?.status, "success");
      assert.equal(
        final.result?.message,
        "Model trained and saved at models/electricity/meter_test_001",
      );
      const d = final.result!.details;
      assert.equal(d.meter_id, "meter_test_001");
      assert.equal(d.meter_type, "electricity");
      assert.equal(d.data_points, 8760);
      assert.equal(d.model_path, "models/electricity/meter_test_001");
      assert.ok(d.training_time_seconds > 0 && d.data_fetch_time_seconds >= 0);
      assert.ok(!Number.isNaN(Date.parse(d.training_completed)));
      const deepPath = d.deep_path as DeepPathReport;
      assert.equal(
        typeof deepPath.kept,
        "boolean",
        "the result says whether the deep path is used",
      );
      assert.ok(deepPath.validation_gain >= 0);

      assert.deepEqual(
        await service.status(json.task_id as string),
        final,
        "status endpoint agrees with the final event",
      );
    } finally {
      await service.close();
    }
  });
}

Deno.test("heartbeats have no id, name the task, and come on schedule", async () => {
  const service = await startTestService({ HEARTBEAT_INTERVAL_SECONDS: "0.2" });
  try {
    // A second task on the same runner stays PENDING: only heartbeats flow.
    const busy = await service.start("meter_test_001", { epochs: 500, batch_size: 256 });
    const idle = await service.start("meter_test_002", { epochs: 1 });
    const stream = await openStream(`${service.url}/trainmodel/stream/${idle.task_id}`);
    const opened = performance.now();
    const messages = await readUntil(
      stream,
      (m) => JSON.parse(m.data).type === "heartbeat" && m.at - opened > 1000,
    );
    stream.close();
    await fetch(`${service.url}/trainmodel/${busy.task_id}`, { method: "DELETE" }).then((r) =>
      r.body?.cancel()
    );
    const beats = messages.filter((m) => JSON.parse(m.data).type === "heartbeat");
    assert.ok(beats.length >= 4);
    for (const beat of beats) {
      const body = JSON.parse(beat.data);
      assert.equal(beat.id, undefined, "heartbeats carry no id");
      assert.equal(body.task_id, idle.task_id);
      assert.ok(!Number.isNaN(Date.parse(body.timestamp)));
    }
    assert.equal(JSON.parse(messages[0].data).status, "PENDING", "first the current state");
  } finally {
    await service.close();
  }
});

Deno.test("CORS lets a page on another origin read statuses and streams", async () => {
  const service = await startTestService();
  try {
    const preflight = await fetch(`${service.url}/trainmodel/`, {
      method: "OPTIONS",
      headers: {
        Origin: "https://dashboard.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
      },
    });
    await preflight.body?.cancel();
    assert.equal(preflight.headers.get("Access-Control-Allow-Origin"), "*");
    assert.match(preflight.headers.get("Access-Control-Allow-Methods") ?? "", /POST/);
    // Linking a meter to a site and setting a site's calendar are PUTs.
    const put = await fetch(`${service.url}/sites/cambridge/calendar`, {
      method: "OPTIONS",
      headers: {
        Origin: "https://dashboard.example",
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "content-type",
      },
    });
    await put.body?.cancel();
    assert.match(put.headers.get("Access-Control-Allow-Methods") ?? "", /\bPUT\b/);
    const health = await fetch(`${service.url}/health/`, {
      headers: { Origin: "https://x.example" },
    });
    assert.equal(health.headers.get("Access-Control-Allow-Origin"), "*");
    const body = await health.json();
    assert.equal(body.status, "ok");
    assert.equal(body.dependencies.broker.up, true);
    assert.equal(
      body.dependencies.broker.kind,
      "sqlite",
      "the test service runs on the default store",
    );
    assert.match(body.dependencies.broker.location, /wattcast\.db$/);
    assert.equal(body.dependencies.job_runner.up, true);
    assert.equal(body.dependencies.model_store.up, true);
    const bare = await fetch(`${service.url}/health`);
    assert.equal((await bare.json()).status, "ok");
  } finally {
    await service.close();
  }
});
