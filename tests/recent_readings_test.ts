/**
 * `GET /meters/{meter_type}/{meter_id}/readings?hours=`: a meter's latest
 * readings (what the dashboard charts beside the forecast).
 *
 * @module
 */
import assert from "node:assert/strict";
import { startTestService } from "./harness.ts";

Deno.test("recent readings: the last hours up to the latest reading, 404 and 422 named", async () => {
  const service = await startTestService({ SEED_DEMO_METERS: "false" });
  try {
    // 10 hours of readings with one missing (05:00).
    const lines = ["timestamp,value"];
    for (let h = 0; h < 10; h++) if (h !== 5) lines.push(`2024-03-01T0${h}:00:00Z,${h + 0.5}`);
    const upload = await fetch(`${service.url}/meters/gas/recent_1/readings`, {
      method: "POST",
      headers: { "Content-Type": "text/csv" },
      body: lines.join("\n") + "\n",
    });
    assert.equal(upload.status, 200, await upload.text());

    const get = async (query: string) => {
      const response = await fetch(`${service.url}/meters/gas/recent_1/readings${query}`);
      return { status: response.status, body: await response.json() };
    };
    const six = await get("?hours=6");
    assert.equal(six.status, 200);
    assert.equal(six.body.hours, 6);
    assert.deepEqual(
      six.body.points.map((p: { timestamp: string }) => p.timestamp.slice(11, 13)),
      ["04", "06", "07", "08", "09"],
      "04:00 to 09:00, the missing hour left out",
    );
    assert.deepEqual(six.body.points.map((p: { value: number }) => p.value), [
      4.5,
      6.5,
      7.5,
      8.5,
      9.5,
    ]);

    const all = await get("");
    assert.equal(all.body.hours, 168, "a week by default");
    assert.equal(all.body.points.length, 9);

    for (const bad of ["0", "2209", "1.5", "x"]) {
      const { status, body } = await get(`?hours=${bad}`);
      assert.equal(status, 422, bad);
      assert.equal(body.error.details.fields[0].field, "hours");
    }
    const missing = await fetch(`${service.url}/meters/gas/nobody/readings`);
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error.code, "meter_not_found");
    const badType = await fetch(`${service.url}/meters/steamx/recent_1/readings`);
    assert.equal(badType.status, 422);
    await badType.body?.cancel();
  } finally {
    await service.close();
  }
});
