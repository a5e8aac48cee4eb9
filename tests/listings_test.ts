/**
 * Listings: `GET /trainmodel/tasks` (newest first, filtered, paginated with
 * an opaque cursor) and `GET /meters`, `GET /meters/{meter_type}`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startTestService, type TestService } from "./harness.ts";

async function json(response: Response) {
  const body = await response.json();
  return { status: response.status, body };
}

/** Every task of a listing, following next_cursor. */
async function allPages(service: TestService, query: string, limit: number) {
  const ids: string[] = [];
  let cursor = "";
  for (let page = 0; page < 20; page++) {
    const { status, body } = await json(
      await fetch(`${service.url}/trainmodel/tasks?limit=${limit}&${query}&cursor=${cursor}`),
    );
    assert.equal(status, 200, JSON.stringify(body));
    assert.ok(body.tasks.length <= limit);
    ids.push(...body.tasks.map((t: { task_id: string }) => t.task_id));
    if (!body.next_cursor) return ids;
    cursor = body.next_cursor;
  }
  throw new Error("the listing did not end");
}

Deno.test("tasks are listed newest first, page by page, and filtered", async () => {
  const service = await startTestService();
  try {
    const started: string[] = [];
    for (const meter of ["meter_test_001", "meter_test_002", "meter_gas_001"]) {
      const task = await service.start(meter, { epochs: 500, batch_size: 256 });
      started.push(task.task_id);
      await fetch(`${service.url}/trainmodel/${task.task_id}`, { method: "DELETE" }).then((r) =>
        r.body?.cancel()
      );
      await new Promise((r) => setTimeout(r, 5)); // distinct creation times
    }
    const running = await service.start("meter_test_001", { epochs: 500, batch_size: 256 });
    started.push(running.task_id);
    const newest = [...started].reverse();

    assert.deepEqual(await allPages(service, "", 3), newest);
    assert.deepEqual(await allPages(service, "", 1), newest, "any page size, same order");
    assert.deepEqual(await allPages(service, "status=CANCELLED", 2), newest.slice(1));
    assert.deepEqual(await allPages(service, "meter_type=gas", 2), [started[2]]);
    assert.deepEqual(await allPages(service, "meter_id=meter_test_001", 5), [
      running.task_id,
      started[0],
    ]);
    assert.deepEqual(
      await allPages(service, "status=pending,training_model,fetching_data,preprocessing", 5),
      [running.task_id],
      "statuses in any case, several at once",
    );

    const first = (await json(await fetch(`${service.url}/trainmodel/tasks?limit=1`))).body;
    assert.equal(first.tasks[0].task_id, running.task_id);
    assert.equal(first.tasks[0].meter_id, "meter_test_001", "whole status objects");
    assert.match(first.next_cursor, /^[A-Za-z0-9_-]+$/, "an opaque, URL-safe cursor");

    const bad = [
      ["limit=0", 422, "limit"],
      ["limit=201", 422, "limit"],
      ["limit=x", 422, "limit"],
      ["status=DONE", 422, "status"],
      ["meter_type=plutonium", 422, "meter_type"],
      ["meter_id=../x", 422, "meter_id"],
    ] as const;
    for (const [query, status, field] of bad) {
      const { status: got, body } = await json(
        await fetch(`${service.url}/trainmodel/tasks?${query}`),
      );
      assert.equal(got, status, query);
      assert.equal(body.error.details.fields[0].field, field, query);
    }
    const forged = await json(await fetch(`${service.url}/trainmodel/tasks?cursor=bm9wZQ`));
    assert.equal(forged.status, 400);
    assert.equal(forged.body.error.code, "bad_cursor");
    await fetch(`${service.url}/trainmodel/${running.task_id}`, { method: "DELETE" }).then((r) =>
      r.body?.cancel()
    );
  } finally {
    await service.close();
  }
});

Deno.test("stored meters are listed with their readings count and model state, by type too", async () => {
  const service = await startTestService();
  try {
    const all = await json(await fetch(`${service.url}/meters`));
    assert.equal(all.status, 200);
    const keys = all.body.meters.map((m: { meter_type: string; meter_id: string }) =>
      `${m.meter_type}/${m.meter_id}`
    );
    assert.deepEqual(keys, [
      "electricity/meter_test_001",
      "electricity/meter_test_002",
      "gas/meter_gas_001",
    ]);
    for (const meter of all.body.meters) {
      assert.ok(meter.readings_count > 1000, "the demo meters hold readings");
      assert.equal(meter.model, null);
      const summary = await fetch(`${service.url}${meter.href}`);
      assert.equal(summary.status, 200);
      await summary.body?.cancel();
    }
    assert.equal(all.body.next_cursor, null);

    const paged = await json(await fetch(`${service.url}/meters?limit=2`));
    assert.equal(paged.body.meters.length, 2);
    const rest = await json(
      await fetch(`${service.url}/meters?limit=2&cursor=${paged.body.next_cursor}`),
    );
    assert.deepEqual(rest.body.meters.map((m: { meter_id: string }) => m.meter_id), [
      "meter_gas_001",
    ]);
    assert.equal(rest.body.next_cursor, null);

    const gas = await json(await fetch(`${service.url}/meters/gas`));
    assert.deepEqual(gas.body.meters.map((m: { meter_id: string }) => m.meter_id), [
      "meter_gas_001",
    ]);
    const unknown = await json(await fetch(`${service.url}/meters/plutonium`));
    assert.equal(unknown.status, 422);
    assert.equal(unknown.body.error.details.fields[0].field, "meter_type");
  } finally {
    await service.close();
  }
});
