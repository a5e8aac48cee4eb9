/**
 * Embedded mode keeps the user's data: `deno task dev` is killed with
 * SIGKILL mid-training and started again on the same `DATA_DIR`.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Task } from "../src/domain/task.ts";
import { startDev } from "./processes.ts";
import { freePort } from "./redis_server.ts";
import { openStream, readUntil, type SseMessage } from "./sse_client.ts";

const root = new URL("..", import.meta.url).pathname;
const csv = await Deno.readTextFile(
  new URL("./fixtures/meters/gas_ucam_b2_2019.csv", import.meta.url),
);

/** Every event of a task, from the start, until its final one. */
async function history(url: string, taskId: string): Promise<SseMessage[]> {
  const stream = await openStream(`${url}/trainmodel/stream/${taskId}`, { lastEventId: "0-0" });
  assert.equal(stream.response.status, 200);
  const events = (await readUntil(stream, (m) => {
    const status = m.id ? JSON.parse(m.data).status : null;
    return ["SUCCESS", "FAILURE", "CANCELLED"].includes(status);
  })).filter((m) => m.id);
  stream.close();
  return events;
}

async function train(url: string, meterId: string, options: Record<string, number>) {
  const response = await fetch(`${url}/trainmodel/`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ meter_id: meterId, meter_type: "gas", ...options }),
  });
  const task = await response.json();
  assert.equal(response.status, 202, JSON.stringify(task));
  return task as Task;
}

Deno.test("embedded mode: after SIGKILL mid-training, a restart keeps readings, models, tasks and jobs, and retries the killed task", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "wattcast-restart-" });
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    PORT: String(port),
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    SEED_DEMO_METERS: "false",
  };
  let dev = await startDev(env);
  try {
    assert.match(dev.output(), /SQLite at .*wattcast\.db/, "the start-up line names the store");
    const health = await (await fetch(`${url}/health`)).json();
    assert.equal(health.mode, "embedded");
    assert.equal(health.dependencies.broker.kind, "sqlite", "/health names the store");
    assert.equal(health.dependencies.broker.location, `${dataDir}/wattcast.db`, "and where");
    for (const meter of ["b2", "b2_copy", "b2_queued"]) {
      const uploaded = await fetch(`${url}/meters/gas/${meter}/readings`, {
        method: "POST",
        headers: { "Content-Type": "text/csv" },
        body: csv,
      });
      assert.equal(uploaded.status, 200, await uploaded.text());
    }

    // A finished task, its model and forecast.
    const first = await train(url, "b2", { epochs: 3 });
    const firstEvents = await history(url, first.task_id);
    assert.equal(JSON.parse(firstEvents.at(-1)!.data).status, "SUCCESS");
    const summary = await (await fetch(`${url}/meters/gas/b2`)).json();
    assert.equal(summary.model.exists, true);
    const forecast = await fetch(`${url}/forecast/gas/b2?horizon=24`);
    assert.equal(forecast.status, 200);
    const points = (await forecast.json()).points;
    const firstStatus = await (await fetch(`${url}/trainmodel/status/${first.task_id}`)).json();

    // A second task training, a third queued behind it; then SIGKILL.
    const long = { epochs: 60, batch_size: 32 };
    const second = await train(url, "b2_copy", long);
    const queued = await train(url, "b2_queued", { epochs: 3 });
    const watch = await openStream(`${url}/trainmodel/stream/${second.task_id}`);
    await readUntil(watch, (m) => m.id !== undefined && JSON.parse(m.data).metrics?.epoch >= 1);
    watch.close();
    await dev.kill();

    dev = await startDev(env);
    assert.deepEqual(
      await (await fetch(`${url}/meters/gas/b2`)).json(),
      summary,
      "readings and model summary unchanged",
    );
    const again = await fetch(`${url}/forecast/gas/b2?horizon=24`);
    assert.equal(again.status, 200, "forecasts work at once, without retraining");
    assert.deepEqual((await again.json()).points, points, "from the same model");
    assert.deepEqual(
      await (await fetch(`${url}/trainmodel/status/${first.task_id}`)).json(),
      firstStatus,
    );
    const replay = await history(url, first.task_id);
    assert.deepEqual(
      replay.map((m) => [m.id, m.data]),
      firstEvents.map((m) => [m.id, m.data]),
      "the finished task's whole event history, ids included",
    );

    const retried = (await history(url, second.task_id)).map((m) => JSON.parse(m.data) as Task);
    const statuses = retried.map((t) => t.status);
    assert.equal(statuses.at(-1), "SUCCESS", JSON.stringify(retried.at(-1)?.error_details));
    const retry = retried.find((t) => t.status === "RETRYING");
    assert.ok(retry, `RETRYING in the stream: ${statuses.join(", ")}`);
    assert.equal(retry.attempt, 2);
    assert.ok(
      statuses.indexOf("TRAINING_MODEL") < statuses.indexOf("RETRYING"),
      "it was training when the process died",
    );

    const third = (await history(url, queued.task_id)).map((m) => JSON.parse(m.data) as Task);
    assert.equal(third.at(-1)?.status, "SUCCESS", "the queued job was kept and ran");
    assert.equal(third.at(-1)?.attempt, 1);
    assert.ok(!third.some((t) => t.status === "RETRYING"), "a queued job is not a retry");
  } finally {
    await dev.kill();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a damaged database stops the start with a message naming the file, and is left as it was", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "wattcast-damaged-" });
  try {
    const file = `${dataDir}/wattcast.db`;
    const garbage = new Uint8Array(8192).map((_, i) => (i * 7919) % 251);
    await Deno.writeFile(file, garbage);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["task", "dev"],
      cwd: root,
      env: { NO_COLOR: "1", PORT: String(freePort()), DATA_DIR: dataDir },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 1, stderr);
    assert.ok(stderr.includes(await Deno.realPath(file)) || stderr.includes(file), stderr);
    assert.match(stderr, /backup|move it away/i, "says what to do");
    assert.doesNotMatch(stderr, /at .*\.ts:\d+/, "no stack trace, just the message");
    assert.deepEqual(await Deno.readFile(file), garbage, "the file is unchanged");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
