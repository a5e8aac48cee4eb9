/**
 * Forecasts on a real export with missing hours (building b0's electricity,
 * 2018, whose last day is written as zeros): answered with the gap
 * estimated, from any earlier hour (`from=`), and a week ahead.
 */
import assert from "node:assert/strict";
import { startTestService, type TestService } from "./harness.ts";

interface Point {
  timestamp: string;
  value: number;
}

async function upload(service: TestService, csv: string): Promise<void> {
  const response = await fetch(`${service.url}/meters/electricity/b0/readings`, {
    method: "POST",
    headers: { "Content-Type": "text/csv" },
    body: csv,
  });
  assert.equal(response.status, 200, await response.text());
}

async function train(service: TestService): Promise<void> {
  await service.trainToSuccess({ meter_id: "b0", meter_type: "electricity", epochs: 3 });
}

Deno.test("a real export whose last day is missing: the summary and the forecast agree on the missing hours, and the forecast is answered, degraded", async () => {
  const service = await startTestService({ SEED_DEMO_METERS: "false" });
  const get = async (path: string) => {
    const response = await fetch(`${service.url}${path}`);
    return { status: response.status, body: await response.json() };
  };
  try {
    const csv = await Deno.readTextFile(
      new URL("./fixtures/meters/electricity_ucam_b0_2018.csv", import.meta.url),
    );
    await upload(service, csv);
    await train(service);

    // The summary counts the zeros the cleaning policy takes as missing.
    const meter = await get("/meters/electricity/b0");
    assert.equal(meter.status, 200);
    const lastDay = { from: "2018-12-31T01:00:00.000Z", to: "2018-12-31T23:00:00.000Z", hours: 23 };
    assert.ok(meter.body.readings.zeros_as_missing >= 23);
    assert.ok(meter.body.readings.missing_hours >= 23);
    assert.ok(
      meter.body.readings.longest_gaps.some((g: typeof lastDay) =>
        JSON.stringify(g) === JSON.stringify(lastDay)
      ),
      JSON.stringify(meter.body.readings.longest_gaps),
    );

    // The forecast estimates those same hours instead of refusing.
    const latest = await get("/forecast/electricity/b0");
    assert.equal(latest.status, 200, JSON.stringify(latest.body));
    assert.equal(latest.body.origin, "2019-01-01T00:00:00.000Z");
    assert.deepEqual(latest.body.inputs, {
      hours_needed: 168,
      hours_estimated: lastDay.hours,
      quality: "degraded",
    });
    assert.ok(latest.body.points.every((p: Point) => Number.isFinite(p.value) && p.value > 0));

    // From an hour with a complete week before it: good.
    const from = "2018-12-03T00:00:00.000Z"; // a Monday
    const issued = await get(`/forecast/electricity/b0?from=${from}`);
    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    assert.equal(issued.body.origin, from);
    assert.equal(issued.body.points[0].timestamp, from);
    assert.equal(issued.body.inputs.quality, "good");
    assert.equal(issued.body.beyond_first_day, null);

    // Readings at or after `from` are not used: changing them changes nothing.
    const later = csv.trim().split("\n").slice(1).filter((line) => line >= "2018-12-03")
      .map((line) => {
        const [t, v] = line.split(",");
        return `${t},${(Number(v) * 3 + 7).toFixed(1)}`;
      });
    assert.ok(later.length > 24 * 20);
    await upload(service, later.join("\n") + "\n");
    const again = await get(`/forecast/electricity/b0?from=${from}`);
    assert.equal(again.status, 200);
    assert.deepEqual(again.body.points, issued.body.points);
    assert.deepEqual(again.body.inputs, issued.body.inputs);
    // ... while a reading just before it does.
    await upload(service, "2018-12-02 23:00:00,95.0\n");
    const changed = await get(`/forecast/electricity/b0?from=${from}`);
    assert.notDeepEqual(changed.body.points, issued.body.points);

    // A week ahead, one point per hour, the first day as the day-ahead forecast.
    const week = await get(`/forecast/electricity/b0?from=${from}&horizon=168`);
    assert.equal(week.status, 200, JSON.stringify(week.body));
    assert.equal(week.body.horizon, 168);
    assert.equal(week.body.points.length, 168);
    week.body.points.forEach((p: Point, k: number) => {
      assert.equal(Date.parse(p.timestamp), Date.parse(from) + k * 3_600_000);
      assert.ok(Number.isFinite(p.value) && p.value >= 0);
    });
    assert.deepEqual(week.body.points.slice(0, 24), changed.body.points);
    assert.match(
      week.body.beyond_first_day,
      week.body.model.served === "model" ? /^recursive/ : /^persistence ensemble/,
    );
    // Its level is the building's: the real week's mean within a factor of 1.5.
    const actual = csv.trim().split("\n").filter((l) => l >= "2018-12-03" && l < "2018-12-10")
      .map((l) => Number(l.split(",")[1]));
    assert.equal(actual.length, 168);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const ratio = mean(week.body.points.map((p: Point) => p.value)) / mean(actual);
    assert.ok(ratio > 1 / 1.5 && ratio < 1.5, `week mean ratio ${ratio}`);

    // `from` off the grid, outside the readings, or not a time: a 422 naming it.
    for (
      const bad of [
        "2018-12-03T00:30:00Z",
        "2017-06-01T00:00:00Z",
        "2019-01-01T01:00:00Z",
        "yesterday",
      ]
    ) {
      const refused = await get(`/forecast/electricity/b0?from=${bad}`);
      assert.equal(refused.status, 422, bad);
      assert.equal(refused.body.error.code, "validation_failed");
      assert.equal(refused.body.error.details.fields[0].field, "from", bad);
    }
  } finally {
    await service.close();
  }
});
