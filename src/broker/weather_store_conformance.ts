/**
 * The weather store's behaviour, run against each broker's store (memory,
 * SQLite, Redis): temperatures merge by timestamp per site and read back
 * in order, within a range; meters link to one site at a time; a site has
 * at most one working calendar, replaced whole and removed by null.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { BrokerFactory, ConformanceOptions } from "./broker_conformance.ts";
import type { Broker } from "./broker.ts";

/** Registers the weather store cases for one broker implementation. */
export function weatherStoreConformance(
  name: string,
  factory: BrokerFactory,
  options: ConformanceOptions = {},
): void {
  const test = (title: string, fn: (broker: Broker) => Promise<void>) =>
    Deno.test({
      ...options.testOptions,
      name: `${name} weather store: ${title}`,
      fn: async () => {
        const broker = await factory({ taskTtlSeconds: 3600 });
        try {
          await fn(broker);
        } finally {
          await broker.close();
        }
      },
    });

  const h = 3_600_000;

  test("temperatures merge by timestamp, per site, and read back in order", async (broker) => {
    const { weather } = broker;
    assert.equal(await weather.getTemperatures("bedford"), null);
    assert.equal(await weather.countTemperatures("bedford"), 0);
    assert.deepEqual(
      await weather.mergeTemperatures("bedford", {
        timestamps: [2 * h, 0, h],
        values: [-3.5, 1.25, 0],
      }),
      { added: 3, replaced: 0 },
    );
    // A forecast for later hours, replaced by observations.
    assert.deepEqual(
      await weather.mergeTemperatures("bedford", { timestamps: [2 * h, 3 * h], values: [-1, 4] }),
      { added: 1, replaced: 1 },
    );
    assert.deepEqual(await weather.getTemperatures("bedford"), {
      timestamps: [0, h, 2 * h, 3 * h],
      values: [1.25, 0, -1, 4],
    });
    assert.deepEqual(await weather.getTemperatures("bedford", h, 3 * h), {
      timestamps: [h, 2 * h],
      values: [0, -1],
    });
    assert.deepEqual(await weather.getTemperatures("bedford", 10 * h, 20 * h), {
      timestamps: [],
      values: [],
    });
    assert.equal(await weather.countTemperatures("bedford"), 4);
    assert.equal(await weather.getTemperatures("cambridge"), null, "sites are apart");
    const year = Array.from({ length: 8760 }, (_, i) => i * h);
    const merged = await weather.mergeTemperatures("year", {
      timestamps: year,
      values: year.map((_, i) => (i % 30) - 10.5),
    });
    assert.equal(merged.added, 8760, "a year of hours fits in one merge");
    const back = await weather.getTemperatures("year");
    assert.equal(back?.values.length, 8760);
    assert.equal(back?.values[4321], (4321 % 30) - 10.5);
  });

  test("a meter links to one site at a time, and unlinks", async (broker) => {
    const { weather } = broker;
    const meter = { meter_id: "b2", meter_type: "gas" as const };
    assert.equal(await weather.meterSite(meter), null);
    await weather.setMeterSite(meter, "bedford");
    assert.equal(await weather.meterSite(meter), "bedford");
    assert.equal(await weather.meterSite({ ...meter, meter_type: "electricity" }), null);
    await weather.setMeterSite(meter, "cambridge");
    assert.equal(await weather.meterSite(meter), "cambridge");
    await weather.setMeterSite(meter, null);
    assert.equal(await weather.meterSite(meter), null);
  });

  test("a site's calendar is none until set, round-trips, is replaced whole, and is removed by null", async (broker) => {
    const { weather } = broker;
    assert.equal(await weather.getCalendar("bedford"), null, "none until set");
    const first = {
      public_holidays: "england-and-wales" as const,
      closures: ["2019-12-23/2020-01-03", "2019-08-05"],
    };
    await weather.setCalendar("bedford", first);
    assert.deepEqual(await weather.getCalendar("bedford"), first, "round-trips, closures in order");
    first.closures.push("2019-01-01");
    assert.deepEqual(
      (await weather.getCalendar("bedford"))?.closures,
      ["2019-12-23/2020-01-03", "2019-08-05"],
      "a caller's later edit changes nothing stored",
    );
    const second = { public_holidays: null, closures: ["2020-04-14"] };
    await weather.setCalendar("bedford", second);
    assert.deepEqual(await weather.getCalendar("bedford"), second, "set again replaces it whole");
    await weather.setCalendar("bedford", { public_holidays: null, closures: [] });
    assert.deepEqual(
      await weather.getCalendar("bedford"),
      { public_holidays: null, closures: [] },
      "an empty calendar is a calendar, not none",
    );
    await weather.setCalendar("bedford", null);
    assert.equal(await weather.getCalendar("bedford"), null, "null removes it");
    await weather.setCalendar("bedford", null);
    assert.equal(await weather.getCalendar("bedford"), null, "removing none is no error");
  });

  test("sites' calendars are apart, and apart from their temperatures", async (broker) => {
    const { weather } = broker;
    const bedford = { public_holidays: "england-and-wales" as const, closures: [] };
    const cambridge = { public_holidays: null, closures: ["2021-03-01/2021-03-05"] };
    await weather.setCalendar("bedford", bedford);
    await weather.setCalendar("cambridge", cambridge);
    assert.deepEqual(await weather.getCalendar("bedford"), bedford);
    assert.deepEqual(await weather.getCalendar("cambridge"), cambridge);
    assert.equal(await weather.getCalendar("bedford2"), null);
    await weather.mergeTemperatures("bedford", { timestamps: [0], values: [4] });
    assert.equal(await weather.countTemperatures("cambridge"), 0, "a calendar is no temperature");
    await weather.setCalendar("bedford", null);
    assert.equal(await weather.getCalendar("bedford"), null);
    assert.deepEqual(await weather.getCalendar("cambridge"), cambridge, "the other site's stays");
    assert.equal(await weather.countTemperatures("bedford"), 1, "the site's temperatures stay");
  });
}
