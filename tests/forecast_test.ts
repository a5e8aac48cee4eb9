import assert from "node:assert/strict";
import { type BrokerKind, startTestService, type TestService } from "./harness.ts";
import { needsRedis } from "./redis_server.ts";
import type { Task } from "../src/domain/task.ts";

function trainAndWait(service: TestService, meterId: string): Promise<Task> {
  return service.trainToSuccess({ meter_id: meterId, meter_type: "gas", epochs: 3 });
}

for (const kind of ["memory", "sqlite", "redis"] as BrokerKind[]) {
  Deno.test({
    name: `${kind} broker: upload, train and forecast a real meter end to end`,
    ...(kind === "redis" ? needsRedis() : {}),
    fn: async () => {
      const service = await startTestService({ SEED_DEMO_METERS: "false" }, kind);
      const forecast = (query = "") => fetch(`${service.url}/forecast/gas/b2${query}`);
      try {
        const csv = await Deno.readTextFile(
          new URL("./fixtures/meters/gas_ucam_b2_2019.csv", import.meta.url),
        );
        const uploaded = await fetch(`${service.url}/meters/gas/b2/readings`, {
          method: "POST",
          headers: { "Content-Type": "text/csv" },
          body: csv,
        });
        assert.equal(uploaded.status, 200);

        const before = await forecast();
        assert.equal(before.status, 404);
        assert.match((await before.json()).error.message, /Train one first: POST \/trainmodel\//);

        const trained = await trainAndWait(service, "b2");
        const details = trained.result!.details as Record<string, unknown>;
        assert.ok(details.metrics, "the result carries the holdout metrics");
        const byDay = details.accuracy_by_day_ahead as { day: number; model: { n: number } }[];
        assert.deepEqual(
          byDay.map((d) => d.day),
          [1, 2, 3, 4, 5, 6, 7],
          "accuracy by day ahead, a week of them",
        );
        assert.ok(byDay.every((d) => d.model.n > 0), "each day ahead scored on holdout hours");

        const response = await forecast("?horizon=24");
        const body = await response.json();
        assert.equal(response.status, 200, JSON.stringify(body));
        assert.equal(body.meter_id, "b2");
        assert.equal(body.points.length, 24);
        assert.equal(
          body.points[0].timestamp,
          "2020-01-01T00:00:00.000Z",
          "continues the meter's hourly grid",
        );
        assert.equal(body.points[23].timestamp, "2020-01-01T23:00:00.000Z");
        assert.ok(
          body.points.every((p: { value: number }) => Number.isFinite(p.value) && p.value >= 0),
        );
        assert.ok(["model", "persistence_ensemble"].includes(body.model.served));
        const mean = csv.trim().split("\n").slice(-24 * 7).reduce((s, l) =>
          s + Number(l.split(",")[1]), 0) / (24 * 7);
        const forecastMean = body.points.reduce((s: number, p: { value: number }) =>
          s + p.value, 0) / 24;
        assert.ok(
          forecastMean > 0.3 * mean && forecastMean < 3 * mean,
          `plausible level: ${forecastMean} vs ${mean}`,
        );

        // Every point has its 10–90% interval around it, a week ahead too.
        assert.deepEqual(body.intervals.quantiles, { low: 0.1, high: 0.9 });
        assert.equal(body.intervals.widened, 1, "complete inputs: as calibrated");
        const week = await (await forecast("?horizon=168")).json();
        assert.equal(week.points.length, 168);
        for (const p of [...body.points, ...week.points]) {
          assert.ok(p.low <= p.value && p.value <= p.high, JSON.stringify(p));
          assert.ok(p.low >= 0 && Number.isFinite(p.high), JSON.stringify(p));
        }
        const width = (points: { low: number; high: number }[]) =>
          points.reduce((s, p) =>
            s + p.high - p.low, 0);
        assert.ok(width(body.points) > 0, "the intervals have a width");

        assert.equal((await (await forecast("?horizon=6")).json()).points.length, 6);
        for (const bad of ["0", "169", "abc"]) {
          const r = await forecast(`?horizon=${bad}`);
          assert.equal(r.status, 422);
          assert.equal((await r.json()).error.details.fields[0].field, "horizon");
        }

        // A newer model is picked up by the cached forecaster.
        const retrained = await trainAndWait(service, "b2");
        const again = await (await forecast()).json();
        assert.notEqual(again.model.trained_at, body.model.trained_at);
        assert.equal(
          again.model.trained_at,
          (await (await fetch(`${service.url}/meters/gas/b2`)).json()).model.trained_at,
        );
        assert.ok(retrained.result);

        // A recent gap is estimated: the forecast is answered, and says so.
        await fetch(`${service.url}/meters/gas/b2/readings`, {
          method: "POST",
          headers: { "Content-Type": "text/csv" },
          body: "2020-01-01 10:00:00,5.5\n",
        });
        const gapped = await forecast();
        const estimated = await gapped.json();
        assert.equal(gapped.status, 200, JSON.stringify(estimated));
        assert.equal(estimated.origin, "2020-01-01T11:00:00.000Z");
        assert.deepEqual(estimated.inputs, {
          hours_needed: 168,
          hours_estimated: 10,
          quality: "degraded",
        });
        // Calibrated on complete inputs: wider for these (1 + 0.42 × √(10/168)).
        assert.equal(estimated.intervals.widened, 1.102);

        // Too little left in the last week: a 422 saying how much is missing, and where.
        await fetch(`${service.url}/meters/gas/b2/readings`, {
          method: "POST",
          headers: { "Content-Type": "text/csv" },
          body: "2020-01-07 00:00:00,5.5\n",
        });
        const gap = await forecast();
        assert.equal(gap.status, 422);
        const error = (await gap.json()).error;
        assert.equal(error.code, "not_enough_recent_readings");
        assert.match(error.message, /of the last 168 hours/);
        assert.match(
          error.message,
          /133 h from 2020-01-01T11:00:00.000Z to 2020-01-06T23:00:00.000Z/,
        );
        assert.equal(error.details.hours_missing, 10 + 133);
      } finally {
        await service.close();
      }
    },
  });
}
