import assert from "node:assert/strict";
import { startTestService } from "./harness.ts";
import { openStream, readUntil, type SseMessage } from "./sse_client.ts";

const statusOf = (m: SseMessage) => JSON.parse(m.data).status;

Deno.test("DELETE cancels a running task: 202, the stream ends CANCELLED, a second DELETE is 409", async () => {
  const service = await startTestService();
  try {
    const task = await service.start("meter_test_001", { epochs: 500, batch_size: 256 });
    const stream = await openStream(`${service.url}/trainmodel/stream/${task.task_id}`);
    await readUntil(stream, (m) => statusOf(m) === "TRAINING_MODEL");

    const cancel = await fetch(`${service.url}/trainmodel/${task.task_id}`, { method: "DELETE" });
    assert.equal(cancel.status, 202);
    const body = await cancel.json();
    assert.equal(body.status, "CANCELLED");
    assert.equal(body.task_id, task.task_id);

    const rest: SseMessage[] = [];
    for await (const m of stream.messages) rest.push(m); // the server ends the stream
    const statuses = rest.filter((m) => m.id).map(statusOf);
    assert.equal(statuses.at(-1), "CANCELLED");
    assert.equal(statuses.filter((s) => s === "CANCELLED").length, 1);

    const again = await fetch(`${service.url}/trainmodel/${task.task_id}`, { method: "DELETE" });
    assert.equal(again.status, 409);
    assert.equal((await again.json()).error.code, "task_already_finished");

    for (let i = 0; i < 100 && service.runner!.active() > 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(service.runner!.active(), 0, "training stopped");
    const after = await service.status(task.task_id);
    assert.equal(after.status, "CANCELLED");
    // The meter is free again.
    const next = await service.start("meter_test_001", { epochs: 1 });
    assert.notEqual(next.task_id, task.task_id);
  } finally {
    await service.close();
  }
});

Deno.test("a pending task can be cancelled before it runs", async () => {
  const service = await startTestService();
  try {
    const busy = await service.start("meter_test_001", { epochs: 500, batch_size: 256 });
    const waiting = await service.start("meter_test_002", { epochs: 1 });
    assert.equal((await service.status(waiting.task_id)).status, "PENDING");
    const cancel = await fetch(`${service.url}/trainmodel/${waiting.task_id}`, {
      method: "DELETE",
    });
    assert.equal(cancel.status, 202);
    assert.equal((await cancel.json()).status, "CANCELLED");
    await fetch(`${service.url}/trainmodel/${busy.task_id}`, { method: "DELETE" }).then((r) =>
      r.body?.cancel()
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await service.status(waiting.task_id)).status, "CANCELLED", "it never ran");
  } finally {
    await service.close();
  }
});

Deno.test("cancelling many tasks at once, the running one included, starts no training thread", async () => {
  const service = await startTestService({ TRAINING_CONCURRENCY: "1" });
  try {
    const csv = await Deno.readTextFile(
      new URL("./fixtures/meters/gas_ucam_b2_2019.csv", import.meta.url),
    );
    const ids = Array.from({ length: 12 }, (_, i) => `b2_copy_${i}`);
    for (const id of ids) {
      const upload = await fetch(`${service.url}/meters/gas/${id}/readings`, {
        method: "POST",
        headers: { "Content-Type": "text/csv" },
        body: csv,
      });
      assert.equal(upload.status, 200, await upload.text());
    }
    const tasks = [];
    for (const id of ids) {
      const { response, json } = await service.train({
        meter_id: id,
        meter_type: "gas",
        epochs: 500,
        batch_size: 16,
      });
      assert.equal(response.status, 202);
      tasks.push(json.task_id as string);
    }
    const stream = await openStream(`${service.url}/trainmodel/stream/${tasks[0]}`);
    await readUntil(stream, (m) => statusOf(m) === "TRAINING_MODEL");
    stream.close();
    const before = service.runner!.threads()!;
    assert.deepEqual(before, { alive: 1, started: 1 });

    // The running task and every queued one but the last, all at once.
    const cancels = await Promise.all(
      tasks.slice(0, -1).map((id) =>
        fetch(`${service.url}/trainmodel/${id}`, { method: "DELETE" }).then(async (r) => {
          await r.body?.cancel();
          return r.status;
        })
      ),
    );
    assert.deepEqual(cancels, cancels.map(() => 202));
    for (const id of tasks.slice(0, -1)) {
      assert.equal((await service.status(id)).status, "CANCELLED");
    }
    // The last one trains on the thread the cancelled one used.
    const last = await openStream(`${service.url}/trainmodel/stream/${tasks.at(-1)}`);
    await readUntil(last, (m) => statusOf(m) === "TRAINING_MODEL");
    last.close();
    assert.deepEqual(service.runner!.threads(), { alive: 1, started: 1 });
    const health = await (await fetch(`${service.url}/health`)).json();
    const runner = health.dependencies.job_runner;
    assert.deepEqual(runner.training_threads, { alive: 1, started: 1 });
    await fetch(`${service.url}/trainmodel/${tasks.at(-1)}`, { method: "DELETE" }).then((r) =>
      r.body?.cancel()
    );
  } finally {
    await service.close();
  }
});
