/**
 * A site's working calendar in training and forecasts, end to end on a
 * real meter: building b0 was closed on the August bank holiday of 2018
 * (its use that Monday was a weekend day's), which nothing in the readings
 * before it announces.
 */
import assert from "node:assert/strict";
import { startTestService } from "./harness.ts";
import type { Task } from "../src/domain/task.ts";

const readings = () =>
  Deno.readTextFile(new URL("./fixtures/meters/electricity_ucam_b0_2018.csv", import.meta.url));

Deno.test("a bank holiday in the site's calendar is forecast as a weekend day, and the answer says so", async () => {
  const service = await startTestService({ SEED_DEMO_METERS: "false" }, "memory");
  try {
    const put = await fetch(`${service.url}/sites/cambridge/calendar`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ public_holidays: "england-and-wales" }),
    });
    assert.equal(put.status, 200, await put.text());
    // The same readings twice: one meter on the site, one without a site.
    for (const [id, query] of [["with_calendar", "?site_id=cambridge"], ["without", ""]]) {
      const upload = await fetch(`${service.url}/meters/electricity/${id}/readings${query}`, {
        method: "POST",
        headers: { "Content-Type": "text/csv" },
        body: await readings(),
      });
      assert.equal(upload.status, 200, await upload.text());
    }
    const trained: Record<string, Task> = {};
    for (const id of ["with_calendar", "without"]) {
      trained[id] = await service.trainToSuccess({
        meter_id: id,
        meter_type: "electricity",
        epochs: 3,
      });
    }
    const details = (id: string) => trained[id].result!.details as Record<string, unknown>;
    // 2018's eight bank holidays, all on weekdays.
    assert.equal(details("with_calendar").calendar_non_working_days, 8);
    assert.equal(details("without").calendar_non_working_days, null);

    const forecast = async (id: string) => {
      const response = await fetch(
        `${service.url}/forecast/electricity/${id}?from=2018-08-27T00:00:00Z&horizon=48`,
      );
      const body = await response.json();
      assert.equal(response.status, 200, JSON.stringify(body));
      return body;
    };
    const mean = (body: { points: { value: number }[] }, from: number, to: number) =>
      body.points.slice(from, to).reduce((s, p) => s + p.value, 0) / (to - from);
    // What the building used: Monday 27 August, the holiday, and Tuesday 28, a working day.
    const actual = (await readings()).split("\n").filter((l) => l.startsWith("2018-08-2"));
    const dayMean = (date: string) => {
      const day = actual.filter((l) => l.startsWith(date)).map((l) => Number(l.split(",")[1]));
      return day.reduce((s, v) => s + v, 0) / day.length;
    };
    const holiday = dayMean("2018-08-27"), tuesday = dayMean("2018-08-28");
    assert.ok(holiday < 0.9 * tuesday, `the holiday used ${holiday} against ${tuesday}`);

    const withCalendar = await forecast("with_calendar");
    const without = await forecast("without");
    assert.deepEqual(withCalendar.calendar, {
      site_id: "cambridge",
      used: true,
      non_working_days: ["2018-08-27"],
    });
    assert.deepEqual(without.calendar, { site_id: null, used: false, non_working_days: [] });
    const error = (body: typeof without) => Math.abs(mean(body, 0, 24) - holiday);
    assert.ok(
      error(withCalendar) < error(without) / 2,
      `holiday forecast ${mean(withCalendar, 0, 24)} (calendar) and ${
        mean(without, 0, 24)
      } (none) against ${holiday}`,
    );
    assert.ok(mean(withCalendar, 0, 24) < mean(withCalendar, 24, 48), "Tuesday works again");

    // The calendar is read when forecasting: without it, the same model forecasts a working Monday.
    const removed = await fetch(`${service.url}/sites/cambridge/calendar`, { method: "DELETE" });
    assert.equal(removed.status, 200);
    await removed.body?.cancel();
    const after = await forecast("with_calendar");
    assert.deepEqual(after.calendar, { site_id: "cambridge", used: false, non_working_days: [] });
    assert.ok(mean(after, 0, 24) > mean(withCalendar, 0, 24));
  } finally {
    await service.close();
  }
});
