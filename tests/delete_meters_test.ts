/**
 * Deleting a range of a meter's readings, and a meter with its model, over
 * HTTP on the SQLite and the Redis broker.
 */
import assert from "node:assert/strict";
import { type BrokerKind, startTestService, type TestService } from "./harness.ts";
import { needsRedis } from "./redis_server.ts";

async function call(service: TestService, method: string, path: string) {
  const response = await fetch(`${service.url}${path}`, { method });
  return { status: response.status, body: await response.json() };
}

async function trainToEnd(service: TestService, epochs: number): Promise<void> {
  await service.trainToSuccess({ meter_id: "b0", meter_type: "electricity", epochs });
}

for (const kind of ["sqlite", "redis"] as BrokerKind[]) {
  Deno.test({
    name: `${kind} broker: a range of readings and a whole meter are deleted over HTTP`,
    ...(kind === "redis" ? needsRedis() : {}),
    fn: async () => {
      const service = await startTestService({ SEED_DEMO_METERS: "false" }, kind);
      try {
        const csv = await Deno.readTextFile(
          new URL("./fixtures/meters/electricity_ucam_b0_2018.csv", import.meta.url),
        );
        const uploaded = await fetch(`${service.url}/meters/electricity/b0/readings`, {
          method: "POST",
          headers: { "Content-Type": "text/csv" },
          body: csv,
        });
        assert.equal(uploaded.status, 200);
        const count = csv.trim().split("\n").length - 1;

        // The export's last day is zeros: delete them.
        const readings = "/meters/electricity/b0/readings";
        const cut = await call(service, "DELETE", `${readings}?from=2018-12-31T01:00:00Z`);
        assert.equal(cut.status, 200, JSON.stringify(cut.body));
        assert.equal(cut.body.deleted, 23);
        assert.equal(cut.body.readings.count, count - 23);
        assert.equal(cut.body.readings.last, "2018-12-31T00:00:00.000Z");
        const meter = await call(service, "GET", "/meters/electricity/b0");
        assert.deepEqual(meter.body.readings, cut.body.readings);

        // A range in the middle: from inclusive, to exclusive.
        const mid = await call(
          service,
          "DELETE",
          `${readings}?from=2018-06-01T00:00:00Z&to=2018-06-01T06:00:00Z`,
        );
        assert.equal(mid.body.deleted, 6);
        assert.equal(mid.body.readings.count, count - 29);
        assert.ok(
          mid.body.readings.longest_gaps.some((g: { from: string; to: string }) =>
            g.from === "2018-06-01T00:00:00.000Z" && g.to === "2018-06-01T05:00:00.000Z"
          ),
        );
        const empty = await call(
          service,
          "DELETE",
          `${readings}?from=2018-06-01T00:00:00Z&to=2018-06-01T06:00:00Z`,
        );
        assert.equal(empty.body.deleted, 0);

        // Bad ranges name the field; nothing is removed.
        for (
          const [query, field] of [
            ["", "from"],
            ["?from=yesterday", "from"],
            ["?to=2018-13-01", "to"],
            ["?from=2018-06-02T00:00:00Z&to=2018-06-01T00:00:00Z", "to"],
          ]
        ) {
          const bad = await call(service, "DELETE", `${readings}${query}`);
          assert.equal(bad.status, 422, query);
          assert.equal(bad.body.error.details.fields[0].field, field, query);
        }
        const none = await call(
          service,
          "DELETE",
          "/meters/electricity/nope/readings?from=2018-01-01T00:00:00Z",
        );
        assert.equal(none.status, 404);
        assert.equal(none.body.error.code, "meter_not_found");

        // A meter with a model: refused while a task for it is active.
        await trainToEnd(service, 1);
        const { json: busy } = await service.train({
          meter_id: "b0",
          meter_type: "electricity",
          epochs: 500,
        });
        const refused = await call(service, "DELETE", "/meters/electricity/b0");
        assert.equal(refused.status, 409);
        assert.equal(refused.body.error.code, "task_active");
        assert.equal(refused.body.error.details.task_id, busy.task_id);
        assert.equal((await call(service, "GET", "/meters/electricity/b0")).status, 200);
        const cancelled = await fetch(`${service.url}/trainmodel/${busy.task_id}`, {
          method: "DELETE",
        });
        assert.equal(cancelled.status, 202);
        await cancelled.body?.cancel();

        const deleted = await call(service, "DELETE", "/meters/electricity/b0");
        assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
        assert.deepEqual(deleted.body, {
          meter_id: "b0",
          meter_type: "electricity",
          deleted: { readings: count - 29, model: true },
        });
        assert.equal((await call(service, "GET", "/meters/electricity/b0")).status, 404);
        assert.equal((await call(service, "GET", "/forecast/electricity/b0")).status, 404);
        const listed = await call(service, "GET", "/meters");
        assert.deepEqual(listed.body.meters, []);
        const again = await call(service, "DELETE", "/meters/electricity/b0");
        assert.equal(again.status, 404);
        assert.equal(again.body.error.code, "meter_not_found");
      } finally {
        await service.close();
      }
    },
  });
}
