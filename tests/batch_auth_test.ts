/**
 * A batch with authentication on: meters outside the caller's restriction
 * are skipped and reported, its streams come with stream tokens that open
 * them, and a group with a meter the caller may not use is a `403`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createApiKey } from "../src/auth/api_keys.ts";
import { startTestService } from "./harness.ts";
import { openStream } from "./sse_client.ts";

const admin = await createApiKey({ name: "ops", scopes: ["read", "train"], meters: null });
const gasTeam = await createApiKey({
  name: "gas team",
  scopes: ["read", "train"],
  meters: ["*gas*"],
});
const API_KEYS = JSON.stringify([admin.record, gasTeam.record]);

Deno.test("a restricted caller's batch skips other meters; its stream token opens its stream", async () => {
  const service = await startTestService({ API_KEYS, TRAINING_CONCURRENCY: "1" });
  const post = (key: string, body: unknown) =>
    fetch(`${service.url}/trainmodel/batch`, {
      method: "POST",
      headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  try {
    const response = await post(gasTeam.key, {
      meters: [
        { meter_id: "meter_gas_001", meter_type: "gas" },
        { meter_id: "meter_test_001", meter_type: "electricity" },
      ],
      epochs: 1,
    });
    const json = await response.json();
    assert.equal(response.status, 202, JSON.stringify(json));
    assert.deepEqual(json.tasks.map((t: { meter_id: string }) => t.meter_id), ["meter_gas_001"]);
    assert.deepEqual(
      json.skipped.map((s: { meter_id: string; reason: string }) => [s.meter_id, s.reason]),
      [["meter_test_001", "forbidden_meter"]],
    );
    assert.ok(json.streams[0].stream_token);
    const stream = await openStream(`${service.url}${json.streams[0].stream_url}`);
    assert.equal(stream.response.status, 200);
    let last = "";
    for await (const message of stream.messages) {
      if (message.id) last = JSON.parse(message.data).status;
    }
    assert.equal(last, "SUCCESS");

    // "all" leaves out what the caller may not use: only gas meters here.
    const all = await post(gasTeam.key, { meter_type: "electricity", all: true });
    assert.equal(all.status, 422);
    const nothing = await all.json();
    assert.equal(nothing.error.code, "nothing_to_train");
    assert.doesNotMatch(JSON.stringify(nothing), /meter_test_00/, "no id the key may not see");

    // The admin's group holds an electricity meter: the gas team may not read it.
    const adminBatch = await (await post(admin.key, {
      meters: [{ meter_id: "meter_test_002", meter_type: "electricity" }],
      epochs: 1,
    })).json();
    const forbidden = await fetch(`${service.url}${adminBatch.status_url}`, {
      headers: { Authorization: `Bearer ${gasTeam.key}` },
    });
    assert.equal(forbidden.status, 403);
    assert.equal((await forbidden.json()).error.code, "forbidden_meter");
    const allowed = await fetch(`${service.url}${adminBatch.status_url}`, {
      headers: { Authorization: `Bearer ${admin.key}` },
    });
    const summary = await allowed.json();
    assert.equal(allowed.status, 200);
    assert.equal(summary.requested_by, "ops");
    assert.equal(summary.total, 1);
    await fetch(`${service.url}/trainmodel/${adminBatch.tasks[0].task_id}`, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${admin.key}` },
    });
  } finally {
    await service.close();
  }
});

Deno.test("a batch past the caller's MAX_QUEUED_TASKS_PER_PRINCIPAL is refused whole, naming the room", async () => {
  const service = await startTestService({ API_KEYS, MAX_QUEUED_TASKS_PER_PRINCIPAL: "1" });
  try {
    const response = await fetch(`${service.url}/trainmodel/batch`, {
      method: "POST",
      headers: { Authorization: `Bearer ${admin.key}`, "Content-Type": "application/json" },
      body: JSON.stringify({
        meters: [
          { meter_id: "meter_test_001", meter_type: "electricity" },
          { meter_id: "meter_test_002", meter_type: "electricity" },
        ],
      }),
    });
    const json = await response.json();
    assert.equal(response.status, 429, JSON.stringify(json));
    assert.equal(json.error.code, "too_many_queued_tasks");
    assert.deepEqual([json.error.details.room, json.error.details.requested], [1, 2]);
    assert.match(json.error.message, /room for 1 more, not the 2 of this batch/);
    assert.ok(response.headers.get("Retry-After"));
    const tasks = await (await fetch(`${service.url}/trainmodel/tasks`, {
      headers: { Authorization: `Bearer ${admin.key}` },
    })).json();
    assert.deepEqual(tasks.tasks, [], "nothing was queued");
  } finally {
    await service.close();
  }
});
