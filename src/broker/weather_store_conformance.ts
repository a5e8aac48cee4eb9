/**
 * The weather store's behaviour, run against each broker's store (memory,
 * SQLite, Redis): temperatures merge by timestamp per site and read back
 * in order, within a range, refused whole past a cap on hours checked in
 * the merge itself; meters link to one site at a time; a site has
 * at most one working calendar, replaced whole and removed by null.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { BrokerFactory, ConformanceOptions } from "./broker_conformance.ts";
import type { Broker } from "./broker.ts";
import { TemperaturesRefused } from "./weather_store.ts";

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

  test("a merge within the cap stores; one past it stores nothing and says the counts", async (broker) => {
    const { weather } = broker;
    const hours = (from: number, n: number) => ({
      timestamps: Array.from({ length: n }, (_, i) => (from + i) * h),
      values: Array.from({ length: n }, (_, i) => from + i),
    });
    assert.deepEqual(
      await weather.mergeTemperatures("capped", hours(0, 8), { maxTemperatures: 10 }),
      { added: 8, replaced: 0 },
      "within the cap: stored",
    );
    await assert.rejects(
      weather.mergeTemperatures("capped", hours(5, 6), { maxTemperatures: 10 }),
      (e) => e instanceof TemperaturesRefused && e.stored === 8 && e.wouldHave === 11,
      "3 hours replaced and 3 new would make 11",
    );
    assert.equal(await weather.countTemperatures("capped"), 8, "nothing of the refused merge");
    assert.deepEqual(
      (await weather.getTemperatures("capped"))?.values,
      [0, 1, 2, 3, 4, 5, 6, 7],
      "the hours it would have replaced are unchanged",
    );
    assert.deepEqual(
      await weather.mergeTemperatures("capped", hours(0, 8), { maxTemperatures: 8 }),
      { added: 0, replaced: 8 },
      "replacing stored hours does not count as new, even at the cap",
    );
    assert.deepEqual(
      await weather.mergeTemperatures("capped", hours(6, 4), { maxTemperatures: 10 }),
      { added: 2, replaced: 2 },
      "exactly up to the cap: stored",
    );
    await assert.rejects(
      weather.mergeTemperatures("capped", hours(10, 1), { maxTemperatures: 10 }),
      (e) => e instanceof TemperaturesRefused && e.stored === 10 && e.wouldHave === 11,
    );
    await assert.rejects(
      weather.mergeTemperatures("fresh", hours(0, 3), { maxTemperatures: 2 }),
      (e) => e instanceof TemperaturesRefused && e.stored === 0 && e.wouldHave === 3,
    );
    assert.equal(
      await weather.getTemperatures("fresh"),
      null,
      "a refused first merge leaves no site",
    );
    assert.deepEqual(
      await weather.mergeTemperatures("capped", hours(10, 5)),
      { added: 5, replaced: 0 },
      "no limit given: none applies",
    );
    assert.equal(await weather.countTemperatures("capped"), 15);
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
    assert.equal(await weather.setCalendar("bedford", first), false, "there was none before");
    assert.deepEqual(await weather.getCalendar("bedford"), first, "round-trips, closures in order");
    first.closures.push("2019-01-01");
    assert.deepEqual(
      (await weather.getCalendar("bedford"))?.closures,
      ["2019-12-23/2020-01-03", "2019-08-05"],
      "a caller's later edit changes nothing stored",
    );
    const second = { public_holidays: null, closures: ["2020-04-14"] };
    assert.equal(await weather.setCalendar("bedford", second), true, "there was one before");
    assert.deepEqual(await weather.getCalendar("bedford"), second, "set again replaces it whole");
    await weather.setCalendar("bedford", { public_holidays: null, closures: [] });
    assert.deepEqual(
      await weather.getCalendar("bedford"),
      { public_holidays: null, closures: [] },
      "an empty calendar is a calendar, not none",
    );
    assert.equal(await weather.setCalendar("bedford", null), true, "it had one to remove");
    assert.equal(await weather.getCalendar("bedford"), null, "null removes it");
    assert.equal(await weather.setCalendar("bedford", null), false, "removing none is no error");
    assert.equal(await weather.getCalendar("bedford"), null);
  });

  test("of removals of one calendar racing each other, exactly one finds it", async (broker) => {
    const { weather } = broker;
    for (let round = 0; round < 5; round++) {
      await weather.setCalendar("bedford", { public_holidays: "scotland", closures: [] });
      const removed = await Promise.all(
        Array.from({ length: 4 }, () => weather.setCalendar("bedford", null)),
      );
      assert.equal(removed.filter(Boolean).length, 1, `round ${round}: ${removed}`);
      assert.equal(await weather.getCalendar("bedford"), null);
    }
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
