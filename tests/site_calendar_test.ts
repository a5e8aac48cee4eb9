/**
 * A site's working calendar over HTTP, on every broker: set, read, replaced
 * and removed; every kind of bad input answered with the field named and
 * nothing stored; the count of non-working weekdays the answer gives.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type BrokerKind, startTestService, type TestService } from "./harness.ts";
import { needsRedis } from "./redis_server.ts";
import { calendarAnswer } from "../src/api/site_routes.ts";
import { createApiKey } from "../src/auth/api_keys.ts";
import { createSiteRoutes } from "../src/api/site_routes.ts";
import { openSqliteBroker } from "../src/broker/sqlite_broker.ts";
import { DatabaseSync } from "node:sqlite";

const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` of the UTC day `offset` days from today. */
function dateFromToday(offset: number): string {
  return new Date(Date.now() + offset * DAY_MS).toISOString().slice(0, 10);
}

/** Whether a `YYYY-MM-DD` day is Monday to Friday (by `Date`, not by the code under test). */
function isWeekday(date: string): boolean {
  const day = new Date(`${date}T00:00:00Z`).getUTCDay();
  return day !== 0 && day !== 6;
}

function put(service: TestService, site: string, body: unknown, contentType = "application/json") {
  return fetch(`${service.url}/sites/${site}/calendar`, {
    method: "PUT",
    headers: { "Content-Type": contentType },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function get(service: TestService, site: string) {
  const response = await fetch(`${service.url}/sites/${site}/calendar`);
  return { status: response.status, body: await response.json() };
}

for (const kind of ["memory", "sqlite", "redis"] as BrokerKind[]) {
  Deno.test({
    name: `${kind} broker: a site's calendar is set, read, replaced and removed`,
    ...(kind === "redis" ? needsRedis() : {}),
    fn: async () => {
      const service = await startTestService({ SEED_DEMO_METERS: "false" }, kind);
      try {
        const none = await get(service, "bedford");
        assert.equal(none.status, 404);
        assert.equal(none.body.error.code, "calendar_not_found");
        assert.match(
          none.body.error.message,
          /^Site "bedford" has no calendar\. Set one with PUT \/sites\/bedford\/calendar /,
        );
        const deleteNone = await fetch(`${service.url}/sites/bedford/calendar`, {
          method: "DELETE",
        });
        assert.equal(deleteNone.status, 404);
        assert.equal((await deleteNone.json()).error.code, "calendar_not_found");

        // Both fields may be left out.
        const empty = await put(service, "bedford", {});
        assert.equal(empty.status, 200);
        assert.deepEqual(await empty.json(), {
          site_id: "bedford",
          public_holidays: null,
          closures: [],
          non_working_weekdays_next_365_days: 0,
          next_non_working_weekday: null,
        });

        // Closures only, in the coming year: 14 days in a row hold exactly 10
        // weekdays; a day inside that range is not counted twice; a past day
        // and a day beyond the year are not counted.
        const range = `${dateFromToday(10)}/${dateFromToday(23)}`;
        const single = dateFromToday(30);
        const closures = [range, dateFromToday(12), single, dateFromToday(-5), dateFromToday(400)];
        const expected = 10 + (isWeekday(single) ? 1 : 0);
        let first = 10;
        while (!isWeekday(dateFromToday(first))) first++;
        const set = await put(service, "bedford", { closures });
        assert.equal(set.status, 200);
        const calendar = {
          site_id: "bedford",
          public_holidays: null,
          closures,
          non_working_weekdays_next_365_days: expected,
          next_non_working_weekday: dateFromToday(first),
        };
        assert.deepEqual(await set.json(), calendar);
        assert.deepEqual(await get(service, "bedford"), { status: 200, body: calendar });
        assert.equal((await get(service, "cambridge")).status, 404, "sites' calendars are apart");

        // Public holidays add to the closures' weekdays (England and Wales has 8 a year, some may fall in the range).
        const withHolidays = await put(service, "bedford", {
          public_holidays: "england-and-wales",
          closures,
        });
        const counted = (await withHolidays.json()).non_working_weekdays_next_365_days;
        assert.ok(counted > expected && counted <= expected + 9, `${counted} non-working weekdays`);

        // Set again: replaced whole.
        const replaced = await put(service, "bedford", { public_holidays: "england-and-wales" });
        assert.equal(replaced.status, 200);
        const stored = (await get(service, "bedford")).body;
        assert.equal(stored.public_holidays, "england-and-wales");
        assert.deepEqual(stored.closures, [], "the old closures are gone");
        assert.ok(stored.non_working_weekdays_next_365_days >= 7, "a year of bank holidays");

        const deleted = await fetch(`${service.url}/sites/bedford/calendar`, { method: "DELETE" });
        assert.equal(deleted.status, 200);
        assert.deepEqual(await deleted.json(), { site_id: "bedford", deleted: true });
        assert.equal((await get(service, "bedford")).status, 404, "removed");
        const weather = await fetch(`${service.url}/sites/bedford/weather`);
        assert.equal(weather.status, 404, "a calendar is no temperature");
        await weather.body?.cancel();

        // Two DELETEs at once: one removes the calendar, the other finds none.
        const again = await put(service, "bedford", {});
        assert.equal(again.status, 200);
        await again.body?.cancel();
        const racing = await Promise.all([0, 1].map(async () => {
          const r = await fetch(`${service.url}/sites/bedford/calendar`, { method: "DELETE" });
          await r.body?.cancel();
          return r.status;
        }));
        assert.deepEqual(racing.sort(), [200, 404]);
      } finally {
        await service.close();
      }
    },
  });

  Deno.test({
    name: `${kind} broker: a bad calendar names the field and what is wrong, and stores nothing`,
    ...(kind === "redis" ? needsRedis() : {}),
    fn: async () => {
      const service = await startTestService({ SEED_DEMO_METERS: "false" }, kind);
      try {
        const good = { public_holidays: "england-and-wales", closures: ["2026-12-24/2027-01-01"] };
        assert.equal((await put(service, "bedford", good)).status, 200);
        const before = await get(service, "bedford");

        const cases: [body: unknown, field: string, message: RegExp][] = [
          [
            { public_holidays: "wales" },
            "public_holidays",
            /^must be one of: england-and-wales, scotland, northern-ireland, united-states; or null for none$/,
          ],
          [{ public_holidays: true }, "public_holidays", /england-and-wales/],
          [
            { closures: ["2027-01-04", "2027-02-30"] },
            "closures.1",
            /^is not a real calendar date$/,
          ],
          [
            { closures: ["2027-01"] },
            "closures.0",
            /^must be a date "YYYY-MM-DD" or a range "YYYY-MM-DD\/YYYY-MM-DD"$/,
          ],
          [
            { closures: ["2027-01-01", "2027-01-08/2027-01-04"] },
            "closures.1",
            /^ends before it starts$/,
          ],
          [{ closures: ["2027-01-01/2028-06-01"] }, "closures.0", /a closure spans at most 366/],
          [{ closures: [20270101] }, "closures.0", /^must be a string/],
          [{ closures: "2027-01-01" }, "closures", /^must be a list of dates/],
          [
            { closures: Array.from({ length: 1001 }, (_, i) => dateFromToday(i)) },
            "closures",
            /^must list at most 1000 closures/,
          ],
          [
            { public_holidays: null, holidays: ["2027-01-01"] },
            "holidays",
            /^is not a known field$/,
          ],
          // A repeated key is refused, naming it, rather than one of the two kept silently.
          [
            '{"public_holidays": "england-and-wales", "public_holidays": null}',
            "public_holidays",
            /^appears twice in the body; send each field once$/,
          ],
          [[good], "(body)", /^must be a JSON object/],
          ["{", "(body)", /^must be JSON/],
          ["", "(body)", /^must be JSON/],
        ];
        for (const [body, field, message] of cases) {
          const response = await put(service, "bedford", body);
          const answer = await response.json();
          const what = JSON.stringify(body).slice(0, 80);
          assert.equal(response.status, 422, `${what}: ${JSON.stringify(answer)}`);
          assert.equal(answer.error.code, "validation_failed", what);
          const fields = answer.error.details.fields as { field: string; message: string }[];
          assert.equal(fields[0].field, field, `${what}: ${JSON.stringify(fields)}`);
          assert.match(fields[0].message, message, what);
          assert.deepEqual(await get(service, "bedford"), before, `${what}: nothing stored`);
        }

        const notJson = await put(service, "bedford", JSON.stringify(good), "text/plain");
        assert.equal(notJson.status, 415);
        assert.equal((await notJson.json()).error.code, "unsupported_media_type");
        assert.deepEqual(await get(service, "bedford"), before, "nothing stored");

        const badSite = await put(service, "no%20spaces", good);
        assert.equal(badSite.status, 422);
        assert.equal((await badSite.json()).error.details.fields[0].field, "site_id");
        for (const method of ["GET", "DELETE"]) {
          const response = await fetch(`${service.url}/sites/no%20spaces/calendar`, { method });
          assert.equal(response.status, 422, method);
          assert.equal((await response.json()).error.details.fields[0].field, "site_id");
        }
      } finally {
        await service.close();
      }
    },
  });
}

Deno.test("the answer counts a known year's non-working weekdays: England and Wales' 8 bank holidays of 2026, and closures", () => {
  const now = Date.parse("2026-01-01T12:00:00Z");
  const holidays = calendarAnswer("bedford", {
    public_holidays: "england-and-wales",
    closures: [],
  }, now);
  // 1 Jan, 3 and 6 Apr, 4 and 25 May, 31 Aug, 25 and 28 Dec (Boxing Day falls on a Saturday).
  assert.equal(holidays.non_working_weekdays_next_365_days, 8);
  assert.equal(holidays.next_non_working_weekday, "2026-01-01", "today counts");
  const both = calendarAnswer("bedford", {
    public_holidays: "england-and-wales",
    // Mon 28 Dec is a bank holiday already; Sat 2 Jan 2027 is a weekend day; 1 Jan 2027 is past the 365 days.
    closures: ["2026-12-28/2027-01-02", "2026-07-06"],
  }, now);
  assert.equal(both.non_working_weekdays_next_365_days, 8 + 3 + 1);
});

Deno.test("with authentication on, a calendar is written with the train scope, like weather, and read with read", async () => {
  const writer = await createApiKey({
    name: "gas team",
    scopes: ["read", "train"],
    meters: ["*gas*"],
  });
  const reader = await createApiKey({ name: "viewer", scopes: ["read"], meters: null });
  const service = await startTestService({
    API_KEYS: JSON.stringify([writer.record, reader.record]),
    SEED_DEMO_METERS: "false",
  });
  const call = async (method: string, key: string, body?: unknown) => {
    const response = await fetch(`${service.url}/sites/bedford/calendar`, {
      method,
      headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: await response.json() };
  };
  try {
    const calendar = { public_holidays: "england-and-wales", closures: [] };
    const byReader = await call("PUT", reader.key, calendar);
    assert.equal(byReader.status, 403);
    assert.equal(byReader.json.error.code, "forbidden_scope");
    assert.equal((await call("GET", reader.key)).status, 404, "nothing stored");
    assert.equal((await call("PUT", writer.key, calendar)).status, 200, "sites are shared");
    assert.equal((await call("GET", reader.key)).json.public_holidays, "england-and-wales");
    assert.equal((await call("DELETE", reader.key)).status, 403);
    assert.equal((await call("DELETE", writer.key)).status, 200);
  } finally {
    await service.close();
  }
});

Deno.test("an unreadable stored calendar is named as such, and DELETE still removes it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wattcast-calendar-" });
  const path = `${dir}/wattcast.db`;
  try {
    openSqliteBroker({ path, taskTtlSeconds: 60 }).close();
    // What another version, or a hand edit, may have left: not JSON; a region this one does not know.
    const db = new DatabaseSync(path);
    db.prepare("INSERT INTO site_calendars (site_id, json) VALUES (?, ?)").run("bedford", "{oops");
    db.prepare("INSERT INTO site_calendars (site_id, json) VALUES (?, ?)").run(
      "cambridge",
      JSON.stringify({ public_holidays: "atlantis", closures: [] }),
    );
    db.close();
    const broker = openSqliteBroker({ path, taskTtlSeconds: 60 });
    const routes = createSiteRoutes({ broker, readingsSpan: { earliest: 0 } });
    try {
      for (const site of ["bedford", "cambridge"]) {
        await assert.rejects(
          broker.weather.getCalendar(site),
          new RegExp(
            `^Error: The stored calendar of site "${site}" is unreadable .*PUT /sites/${site}/calendar`,
          ),
        );
        const removed = await routes.request(`/${site}/calendar`, { method: "DELETE" });
        assert.equal(removed.status, 200, await removed.text());
        assert.equal(await broker.weather.getCalendar(site), null, "removed");
      }
    } finally {
      await broker.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a calendar body over the limit is a 413, not read whole: the largest valid calendar fits", async () => {
  const service = await startTestService({ SEED_DEMO_METERS: "false" }, "memory");
  try {
    // The largest calendar there is: 1000 ranges, pretty-printed.
    const largest = {
      public_holidays: "england-and-wales",
      closures: Array.from({ length: 1000 }, () => "2026-01-01/2026-12-31"),
    };
    const fits = await put(service, "bedford", JSON.stringify(largest, null, 4));
    assert.equal(fits.status, 200, await fits.text());
    const huge = await put(service, "bedford", {
      closures: ["2026-01-01"],
      pad: "x".repeat(2 ** 20),
    });
    assert.equal(huge.status, 413);
    assert.equal((await huge.json()).error.code, "body_too_large");
    assert.equal((await get(service, "bedford")).body.closures.length, 1000, "nothing stored");
  } finally {
    await service.close();
  }
});
