/**
 * Training a fleet at once (`POST /trainmodel/batch`): a batch of 20 meters
 * ends with 20 SUCCESS events on its stream and a group summary that says
 * so; a meter with an active task is skipped and reported; bad input is
 * refused naming the field, queueing nothing; a single task started after
 * the batch does not wait for the whole batch. Each meter holds 42 days of
 * a real meter's readings (`tests/fixtures/meters`), trained for one epoch.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Task } from "../src/domain/task.ts";
import { type BrokerKind, startTestService, type TestService } from "./harness.ts";
import { needsRedis } from "./redis_server.ts";
import { openStream } from "./sse_client.ts";
import { groupSchema, startedBatchSchema } from "../src/api/openapi_batch.ts";

const FIXTURE = new URL("./fixtures/meters/electricity_ucam_b0_2018.csv", import.meta.url);
const FAST = { epochs: 1, batch_size: 256 };

/** The fixture's first 42 days, as an upload body. */
async function month(): Promise<string> {
  const lines = (await Deno.readTextFile(FIXTURE)).split("\n");
  return lines.slice(0, 1 + 42 * 24).join("\n") + "\n";
}

/** Uploads the same month of readings to `count` electricity meters `fleet_<i>`. */
async function uploadFleet(service: TestService, count: number): Promise<string[]> {
  const body = await month();
  const ids = Array.from({ length: count }, (_, i) => `fleet_${String(i).padStart(2, "0")}`);
  for (const id of ids) {
    const response = await fetch(`${service.url}/meters/electricity/${id}/readings`, {
      method: "POST",
      headers: { "Content-Type": "text/csv" },
      body,
    });
    assert.equal(response.status, 200, await response.text());
  }
  return ids;
}

async function postBatch(service: TestService, body: unknown) {
  const response = await fetch(`${service.url}/trainmodel/batch`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { response, json: await response.json() };
}

async function group(service: TestService, groupId: string) {
  const response = await fetch(`${service.url}/trainmodel/groups/${groupId}`);
  assert.equal(response.status, 200);
  return await response.json();
}

for (const kind of ["sqlite", "redis"] as BrokerKind[]) {
  Deno.test({
    name: `${kind}: a batch of 20 meters ends with 20 SUCCESS events and a summary of 20 succeeded`,
    ...(kind === "redis" ? needsRedis() : {}),
    fn: () => batchOfTwenty(kind),
  });
}

async function batchOfTwenty(kind: BrokerKind) {
  const service = await startTestService({ TRAINING_CONCURRENCY: "2" }, kind);
  try {
    const ids = await uploadFleet(service, 20);
    const { response, json } = await postBatch(service, {
      meters: ids.map((meter_id) => ({ meter_id, meter_type: "electricity" })),
      ...FAST,
    });
    assert.equal(response.status, 202, JSON.stringify(json));
    startedBatchSchema.parse(json); // as documented
    assert.equal(response.headers.get("Location"), `/trainmodel/groups/${json.group_id}`);
    assert.deepEqual(json.tasks.map((t: Task) => t.meter_id), ids);
    assert.deepEqual(json.skipped, []);
    assert.equal(json.streams.length, 1);
    const stream = await openStream(`${service.url}${json.streams[0].stream_url}`);
    const successes = new Set<string>();
    for await (const message of stream.messages) {
      if (!message.id) continue;
      const task = JSON.parse(message.data) as Task;
      assert.notEqual(task.status, "FAILURE", task.error ?? "");
      assert.equal(task.group_id, json.group_id);
      if (task.status === "SUCCESS") successes.add(task.task_id);
    }
    assert.equal(successes.size, 20);
    const summary = await group(service, json.group_id);
    groupSchema.parse(summary); // as documented
    assert.deepEqual(
      [summary.total, summary.succeeded, summary.queued, summary.running, summary.failed],
      [20, 20, 0, 0, 0],
    );
    assert.equal(summary.done, true);
    assert.deepEqual(new Set(summary.tasks.map((t: { task_id: string }) => t.task_id)), successes);
    // Every meter has its model now.
    const meter = await (await fetch(`${service.url}/meters/electricity/${ids[7]}`)).json();
    assert.ok(meter.model, JSON.stringify(meter));
  } finally {
    await service.close();
  }
}

Deno.test("a meter with an active task, or without readings, is skipped and reported", async () => {
  const service = await startTestService({ TRAINING_CONCURRENCY: "1" });
  try {
    const ids = await uploadFleet(service, 3);
    const busy = await service.start(ids[1], { epochs: 200 });
    const { response, json } = await postBatch(service, {
      meters: [...ids, "no_such_meter"].map((meter_id) => ({
        meter_id,
        meter_type: "electricity",
      })),
      ...FAST,
    });
    assert.equal(response.status, 202, JSON.stringify(json));
    assert.deepEqual(json.tasks.map((t: Task) => t.meter_id), [ids[0], ids[2]]);
    assert.deepEqual(
      json.skipped.map((s: Record<string, string>) => [s.meter_id, s.reason, s.task_id]),
      [["no_such_meter", "no_readings", undefined], [ids[1], "task_already_active", busy.task_id]],
    );
    // The whole batch is busy now: nothing to start, and nothing is queued.
    const again = await postBatch(service, {
      meters: [ids[0], ids[2]].map((meter_id) => ({ meter_id, meter_type: "electricity" })),
    });
    assert.equal(again.response.status, 409);
    assert.equal(again.json.error.code, "nothing_to_train");
    assert.equal(again.json.error.details.skipped.length, 2);
    const summary = await group(service, json.group_id);
    assert.equal(summary.total, 2);
    await fetch(`${service.url}/trainmodel/${busy.task_id}`, { method: "DELETE" });
  } finally {
    await service.close();
  }
});

Deno.test("bad batches are refused naming the field, and queue nothing", async () => {
  const service = await startTestService({ MAX_QUEUED_TASKS: "2" });
  try {
    const ids = await uploadFleet(service, 3);
    const cases: [unknown, number, RegExp][] = [
      ["{not json", 422, /\(body\) must be JSON/],
      [{ meters: [] }, 422, /meters must name at least one meter/],
      [{ meter_type: "gas" }, 422, /meters is required/],
      [{ all: true }, 422, /meter_type is required with "all"/],
      [{ meters: [{ meter_id: "a b", meter_type: "gas" }] }, 422, /meters\.0\.meter_id/],
      [{ meters: [{ meter_id: ids[0], meter_type: "electricity" }], epochs: 0 }, 422, /epochs/],
      [
        { meters: [{ meter_id: ids[0], meter_type: "electricity" }], meters_: 1 },
        422,
        /meters_ is not a known field/,
      ],
      [
        '{"meters": [{"meter_id": "a", "meter_type": "gas"}], "meters": []}',
        422,
        /meters appears twice/,
      ],
      [{ meters: [{ meter_id: "none_here", meter_type: "gas" }] }, 422, /None of the meters/],
      // Three fit in no queue of two: refused whole, naming the room.
      [
        { meters: ids.map((meter_id) => ({ meter_id, meter_type: "electricity" })) },
        503,
        /room for 2 more tasks/,
      ],
      [
        { meter_type: "electricity", all: true },
        503,
        /room for 2 more tasks .* not the \d+ of this batch/,
      ],
    ];
    for (const [body, status, message] of cases) {
      const { response, json } = await postBatch(service, body);
      assert.equal(response.status, status, `${JSON.stringify(body)}: ${JSON.stringify(json)}`);
      assert.match(json.error.message, message);
    }
    const tasks = await (await fetch(`${service.url}/trainmodel/tasks`)).json();
    assert.deepEqual(tasks.tasks, [], "nothing was queued");
    const unknown = await fetch(`${service.url}/trainmodel/groups/${crypto.randomUUID()}`);
    assert.equal(unknown.status, 404);
    assert.equal((await unknown.json()).error.code, "group_not_found");
  } finally {
    await service.close();
  }
});

Deno.test("a single task started after a 20-meter batch runs before the batch finishes", async () => {
  const service = await startTestService({ TRAINING_CONCURRENCY: "1" });
  try {
    const ids = await uploadFleet(service, 20);
    const { json } = await postBatch(service, {
      meters: ids.map((meter_id) => ({ meter_id, meter_type: "electricity" })),
      ...FAST,
    });
    const single = await service.start("meter_test_002", { epochs: 1 });
    const stream = await openStream(`${service.url}/trainmodel/stream/${single.task_id}`);
    for await (const message of stream.messages) {
      if (message.id && JSON.parse(message.data).status === "SUCCESS") break;
    }
    stream.close();
    const summary = await group(service, json.group_id);
    // One worker: the batch's first task may have been claimed before the
    // single task was queued; then the single task goes next.
    assert.ok(summary.succeeded <= 2, JSON.stringify(summary));
    assert.ok(summary.queued >= 17, JSON.stringify(summary));
    for (const { task_id } of json.tasks) {
      await fetch(`${service.url}/trainmodel/${task_id}`, { method: "DELETE" });
    }
  } finally {
    await service.close();
  }
});
