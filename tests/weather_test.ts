import assert from "node:assert/strict";
import { type BrokerKind, startTestService, type TestService } from "./harness.ts";
import { needsRedis } from "./redis_server.ts";
import type { Task } from "../src/domain/task.ts";

const fixture = (name: string) => Deno.readTextFile(new URL(`./fixtures/${name}`, import.meta.url));

function postWeather(service: TestService, site: string, body: string, json = false) {
  return fetch(`${service.url}/sites/${site}/weather`, {
    method: "POST",
    headers: { "Content-Type": json ? "application/json" : "text/csv" },
    body,
  });
}

for (const kind of ["memory", "sqlite", "redis"] as BrokerKind[]) {
  Deno.test({
    name: `${kind} broker: a weather upload with bad lines names each and stores nothing`,
    ...(kind === "redis" ? needsRedis() : {}),
    fn: async () => {
      const service = await startTestService({ SEED_DEMO_METERS: "false" }, kind);
      try {
        const bad = await postWeather(
          service,
          "bedford",
          [
            "datetime,air_temperature [degC],rltv_hum [%]",
            "2019-01-01 00:00:00,8.2,81.6",
            "2019-01-01 01:00:00,,79.1",
            "2019-13-01 02:00:00,7.0,80.0",
            "2019-01-01 03:00:00,280.15,80.0",
          ].join("\n"),
        );
        const body = await bad.json();
        assert.equal(bad.status, 422);
        assert.equal(body.error.code, "invalid_weather");
        assert.deepEqual(
          body.error.details.problems.map((p: { line: number }) => p.line),
          [3, 4, 5],
        );
        assert.match(body.error.message, /nothing was stored\. First: line 3: temperature ""/);
        const none = await fetch(`${service.url}/sites/bedford/weather`);
        assert.equal(none.status, 404, "the good line was not stored either");
        assert.equal((await none.json()).error.code, "site_not_found");

        const badSite = await postWeather(service, "no%20spaces", "2019-01-01 00:00:00,1\n");
        assert.equal(badSite.status, 422);
        assert.equal((await badSite.json()).error.details.fields[0].field, "site_id");

        // Observations, then a forecast for later hours, then observations replacing it.
        const first = await postWeather(
          service,
          "bedford",
          "timestamp,temperature\n2019-01-01T00:00:00Z,8.2\n2019-01-01T01:00:00Z,8.5\n",
        );
        assert.equal(first.status, 200);
        assert.deepEqual((await first.json()).temperatures.count, 2);
        const forecast = await postWeather(
          service,
          "bedford",
          JSON.stringify([
            { timestamp: "2019-01-01T02:00:00Z", temperature: 9 },
            { timestamp: "2019-01-01T03:00:00Z", temperature: 9.5 },
          ]),
          true,
        );
        assert.deepEqual(
          { ...(await forecast.json()), temperatures: undefined },
          { site_id: "bedford", accepted: 2, added: 2, replaced: 0, temperatures: undefined },
        );
        const observed = await postWeather(service, "bedford", "2019-01-01T03:00:00Z,7.25\n");
        assert.equal((await observed.json()).replaced, 1);
        const read = await fetch(
          `${service.url}/sites/bedford/weather?from=2019-01-01T01:00:00Z&to=2019-01-01T04:00:00Z`,
        );
        assert.deepEqual((await read.json()).points, [
          { timestamp: "2019-01-01T01:00:00.000Z", temperature: 8.5 },
          { timestamp: "2019-01-01T02:00:00.000Z", temperature: 9 },
          { timestamp: "2019-01-01T03:00:00.000Z", temperature: 7.25 },
        ]);
      } finally {
        await service.close();
      }
    },
  });
}

for (const kind of ["memory", "sqlite", "redis"] as BrokerKind[]) {
  Deno.test({
    name:
      `${kind} broker: weather uploads racing each other never pass the site's cap on hours together`,
    ...(kind === "redis" ? needsRedis() : {}),
    fn: async () => {
      // The real cap (MAX_TEMPERATURES_PER_SITE, 200,000 hours), as the
      // readings race test uses the real per-meter cap: readings may start
      // in 1980 so that three 100,000-hour uploads fit in the window.
      const service = await startTestService(
        { SEED_DEMO_METERS: "false", READINGS_EARLIEST: "1980-01-01" },
        kind,
      );
      const hours = (from: number, n: number) =>
        Array.from({ length: n }, (_, i) => {
          const t = new Date(Date.UTC(1980, 0, 1) + (from + i) * 3_600_000);
          return `${t.toISOString().slice(0, 19).replace("T", " ")},${(from + i) % 30}`;
        }).join("\n");
      const outcome = async (response: Response) => {
        const body = await response.json();
        return response.status === 200 ? "200" : `${response.status} ${body.error.code}`;
      };
      try {
        // Three disjoint 100,000-hour uploads at once, each under the cap:
        // any two fit exactly, the third would pass it.
        const three = await Promise.all(
          [0, 1, 2].map((i) => postWeather(service, "raced", hours(i * 100_000, 100_000))),
        );
        const statuses = await Promise.all(three.map(outcome));
        assert.deepEqual(
          statuses.toSorted(),
          ["200", "200", "422 too_many_temperatures"],
          "two uploads whole, the third not at all",
        );
        const summary = await (await fetch(`${service.url}/sites/raced/weather`)).json();
        assert.equal(summary.temperatures.count, 200_000, "never over the cap");

        // At the cap, hours already stored are replaced (they do not count);
        // one new hour is refused, saying the limit and what to do.
        const winner = statuses.indexOf("200"),
          loser = statuses.indexOf("422 too_many_temperatures");
        const again = await postWeather(service, "raced", hours(winner * 100_000, 10));
        assert.equal(again.status, 200);
        assert.deepEqual({ ...(await again.json()), temperatures: undefined }, {
          site_id: "raced",
          accepted: 10,
          added: 0,
          replaced: 10,
          temperatures: undefined,
        });
        const refused = await postWeather(service, "raced", hours(loser * 100_000, 1));
        assert.equal(refused.status, 422);
        const { error } = await refused.json();
        assert.equal(error.code, "too_many_temperatures");
        assert.match(
          error.message,
          /at most 200000 hours.*holds 200000 and this upload would make 200001\. Nothing was stored\. Send at most 0 new hours/,
        );
        const after = await (await fetch(`${service.url}/sites/raced/weather`)).json();
        assert.equal(after.temperatures.count, 200_000);
      } finally {
        await service.close();
      }
    },
  });
}

Deno.test("a meter links to a site, by PUT or on upload, and its summary shows it", async () => {
  const service = await startTestService({ SEED_DEMO_METERS: "false" }, "memory");
  const put = (body: unknown) =>
    fetch(`${service.url}/meters/gas/b40`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  try {
    for (
      const [type, text] of [
        ["text/csv", "timestamp,value\n2021-02-29 00:00:00,1\n"],
        ["text/plain", '{"site_id": "bedford"}'],
        ["", "site_id=bedford"],
      ]
    ) {
      const notJson = await fetch(`${service.url}/meters/gas/b40`, {
        method: "PUT",
        headers: type ? { "Content-Type": type } : {},
        body: new TextEncoder().encode(text),
      });
      assert.equal(notJson.status, 415, `a ${type || "bare"} body is refused, not a 500`);
      const error = (await notJson.json()).error;
      assert.equal(error.code, "unsupported_media_type");
      assert.match(error.message, /Content-Type: application\/json/);
    }
    for (const text of ["", '{"site_id": ', "[1,"]) {
      const malformed = await fetch(`${service.url}/meters/gas/b40`, {
        method: "PUT",
        headers: { "Content-Type": "application/json" },
        body: text,
      });
      assert.equal(malformed.status, 422, `${JSON.stringify(text)} is named, not a 500`);
      assert.equal((await malformed.json()).error.details.fields[0].field, "(body)");
    }
    // A repeated key is refused, naming it, rather than one of the two kept silently.
    const twice = await fetch(`${service.url}/meters/gas/b40`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: '{"site_id": "bedford", "site_id": null}',
    });
    assert.equal(twice.status, 422);
    assert.deepEqual((await twice.json()).error.details.fields, [{
      field: "site_id",
      message: "appears twice in the body; send each field once",
    }]);
    const huge = await put({ site_id: "bedford", padding: "x".repeat(64 * 1024) });
    assert.equal(huge.status, 413, "a body far larger than a site id is refused unread");
    assert.equal((await huge.json()).error.code, "body_too_large");
    const untouched = await fetch(`${service.url}/meters/gas/b40`);
    assert.equal(untouched.status, 404, "nothing was linked");
    await untouched.body?.cancel();
    const bad = await put({ site_id: "not a site" });
    assert.equal(bad.status, 422);
    assert.equal((await bad.json()).error.details.fields[0].field, "site_id");
    // A body without site_id (or not a string) says what to send.
    for (const body of [{}, { site_id: 5 }]) {
      const missing = await put(body);
      assert.equal(missing.status, 422);
      assert.deepEqual((await missing.json()).error.details.fields, [{
        field: "site_id",
        message: 'is required: a site id (a string, such as "bedford"), or null to unlink',
      }]);
    }
    const linked = await put({ site_id: "bedford" });
    assert.deepEqual(await linked.json(), {
      meter_id: "b40",
      meter_type: "gas",
      site: { site_id: "bedford", temperature_hours: 0, calendar: false },
    });
    assert.equal(
      (await (await fetch(`${service.url}/meters/gas/b40`)).json()).site.site_id,
      "bedford",
    );
    assert.equal((await (await put({ site_id: null })).json()).site, null);

    const badQuery = await fetch(`${service.url}/meters/gas/b40/readings?site_id=-x`, {
      method: "POST",
      headers: { "Content-Type": "text/csv" },
      body: "2019-01-01 00:00:00,1\n",
    });
    assert.equal(badQuery.status, 422);
    assert.equal((await badQuery.json()).error.details.fields[0].field, "site_id");
    assert.equal((await fetch(`${service.url}/meters/gas/b40`)).status, 404, "nothing stored");

    const upload = await fetch(`${service.url}/meters/gas/b40/readings?site_id=cambridge`, {
      method: "POST",
      headers: { "Content-Type": "text/csv" },
      body: "2019-01-01 00:00:00,1\n",
    });
    assert.equal(upload.status, 200);
    assert.deepEqual((await upload.json()).site, {
      site_id: "cambridge",
      temperature_hours: 0,
      calendar: false,
    });
    // A calendar set on the site shows on the meter's summary.
    const calendar = await fetch(`${service.url}/sites/cambridge/calendar`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ public_holidays: "england-and-wales" }),
    });
    assert.equal(calendar.status, 200);
    await calendar.body?.cancel();
    const meter = await (await fetch(`${service.url}/meters/gas/b40`)).json();
    assert.deepEqual(meter.site, { site_id: "cambridge", temperature_hours: 0, calendar: true });

    // Deleting the meter removes its link too.
    const deleted = await fetch(`${service.url}/meters/gas/b40`, { method: "DELETE" });
    assert.equal(deleted.status, 200);
    await deleted.body?.cancel();
    assert.equal((await fetch(`${service.url}/meters/gas/b40`)).status, 404);
  } finally {
    await service.close();
  }
});

function trainAndWait(service: TestService, meterId: string): Promise<Task> {
  return service.trainToSuccess({ meter_id: meterId, meter_type: "gas", epochs: 3 });
}

Deno.test("a weather-linked gas model uses the site's temperature when the forecast hours have it, and falls back when not", async () => {
  const service = await startTestService({ SEED_DEMO_METERS: "false" }, "memory");
  const forecast = async (query = "") => {
    const response = await fetch(`${service.url}/forecast/gas/b40${query}`);
    const body = await response.json();
    assert.equal(response.status, 200, JSON.stringify(body));
    return body;
  };
  const mean = (body: { points: { value: number }[] }) =>
    body.points.reduce((s, p) => s + p.value, 0) / body.points.length;
  try {
    // A year of real gas readings and the real temperature of the same year, linked.
    const uploaded = await fetch(`${service.url}/meters/gas/b40/readings?site_id=bedford`, {
      method: "POST",
      headers: { "Content-Type": "text/csv" },
      body: await fixture("meters/gas_ucam_b40_2019.csv"),
    });
    assert.equal(uploaded.status, 200);
    const weather = await postWeather(
      service,
      "bedford",
      await fixture("weather/bedford_2019.csv"),
    );
    assert.equal((await weather.json()).temperatures.count, 8760);

    const trained = await trainAndWait(service, "b40");
    const report = (trained.result!.details as Record<string, unknown>).weather as {
      used: boolean;
      site_id: string;
      validation: { without: number; with: number };
      holdout: { cv_rmse_without: number; cv_rmse_with: number };
    };
    assert.equal(report.used, true, JSON.stringify(report));
    assert.match(trained.message, /corrects for the temperature at site "bedford"/);
    assert.equal(report.site_id, "bedford");
    assert.ok(report.validation.with < report.validation.without, JSON.stringify(report));
    assert.ok(Number.isFinite(report.holdout.cv_rmse_with), JSON.stringify(report));
    const meter = await (await fetch(`${service.url}/meters/gas/b40`)).json();
    assert.equal(meter.model.weather_aware, true, "the stored model records it");

    // From an hour in December, the forecast hours have observed temperatures.
    const december = await forecast("?from=2019-12-10T00:00:00Z");
    assert.equal(december.weather.used, true, JSON.stringify(december.weather));
    assert.equal(december.weather.hours, 24);

    // After the last reading, 2020 has no temperature yet: the model without weather.
    const fallback = await forecast();
    assert.equal(fallback.origin, "2020-01-01T00:00:00.000Z");
    assert.equal(fallback.weather.used, false);
    assert.match(
      fallback.weather.message,
      /no temperature for the forecast hours.*without weather\. .*POST \/sites\/bedford\/weather/,
    );

    // A weather forecast for the day arrives: a cold day asks for more gas than a mild one.
    const day = (celsius: number) =>
      JSON.stringify(Array.from({ length: 24 }, (_, h) => ({
        timestamp: `2020-01-01T${String(h).padStart(2, "0")}:00:00`,
        temperature: celsius,
      })));
    assert.equal((await postWeather(service, "bedford", day(-6), true)).status, 200);
    const cold = await forecast();
    assert.equal(cold.weather.used, true, JSON.stringify(cold.weather));
    assert.equal((await postWeather(service, "bedford", day(14), true)).status, 200);
    const mild = await forecast();
    assert.equal(mild.weather.used, true);
    assert.ok(
      mean(cold) > mean(mild),
      `cold day ${mean(cold).toFixed(1)} kWh/h vs mild ${mean(mild).toFixed(1)}`,
    );
    assert.notDeepEqual(mild.points, fallback.points, "the temperature changed the forecast");
  } finally {
    await service.close();
  }
});
