import assert from "node:assert/strict";
import { createMemoryBroker } from "../broker/memory_broker.ts";
import { createModelStore } from "../models/model_store.ts";
import { cleanReadings } from "../meters/cleaning.ts";
import { parseReadingsCsv } from "../meters/csv.ts";
import { baselineForecast } from "../training/baselines.ts";
import { type SavedModel, trainModel } from "../training/train.ts";
import { createForecaster, ForecastError } from "./forecaster.ts";

/**
 * Building b21's 2019 readings stored under `meterId` in a memory broker,
 * and a model trained on them (one epoch), not yet saved.
 */
async function trainedDemoMeter(meterId: string) {
  const broker = createMemoryBroker({ taskTtlSeconds: 60 });
  const models = createModelStore({ broker, dataDir: null });
  const meter = { meter_id: meterId, meter_type: "electricity" as const };
  const csv = await Deno.readTextFile(
    new URL("../meters/demo_data/electricity_ucam_b21_2019.csv", import.meta.url),
  );
  const series = parseReadingsCsv(csv).series;
  await broker.mergeReadings(meter, series);
  const trained = await trainModel(series, "electricity", {
    epochs: 1,
    batch_size: 256,
    learning_rate: 0.003,
  });
  return { broker, models, meter, series, trained };
}

Deno.test("a model of an earlier feature layout is refused with a 409 that says to retrain", async () => {
  const broker = createMemoryBroker({ taskTtlSeconds: 60 });
  const models = createModelStore({ broker, dataDir: null });
  const meter = { meter_id: "old1", meter_type: "electricity" as const };
  const old = {
    modelTopology: { class_name: "Model" },
    weightSpecs: [],
    weightData: new ArrayBuffer(0),
    metadata: {
      scaling: { mean: 0, std: 1 },
      window: { lookback: 168, horizon: 24 },
      trained_at: "2026-01-01T00:00:00.000Z",
      backend: "wasm",
      metrics: { epoch: 1, epochs: 1, loss: 0.1, val_loss: 0.1 },
    },
  } as unknown as SavedModel; // saved before `format` existed
  await models.save(meter, old);
  const forecaster = createForecaster({ broker, models });
  try {
    await assert.rejects(forecaster.forecast(meter, 24), (e: unknown) => {
      assert.ok(e instanceof ForecastError);
      assert.equal(e.status, 409);
      assert.equal(e.code, "model_outdated");
      assert.match(e.message, /Train it again: POST \/trainmodel\//);
      return true;
    });
  } finally {
    forecaster.close();
    await broker.close();
  }
});

Deno.test("a model that did not beat the persistence ensemble is not served: the forecast says so", async () => {
  const { broker, models, meter, series, trained } = await trainedDemoMeter("b21");
  const forecaster = createForecaster({ broker, models });
  try {
    await models.save(meter, trained.model);
    const served = await forecaster.forecast(meter, 24);
    assert.equal(served.model.served, "model");

    const worse = structuredClone(trained.model);
    worse.metadata.trained_at = new Date(Date.now() + 1000).toISOString();
    worse.metadata.evaluation!.served = "persistence_ensemble";
    await models.save(meter, worse);
    const fallback = await forecaster.forecast(meter, 24);
    assert.equal(fallback.model.served, "persistence_ensemble");
    const clean = cleanReadings(series, "electricity");
    const expected = baselineForecast(
      clean.values,
      clean.values.length,
      24,
      "persistence_ensemble",
    );
    assert.deepEqual(fallback.points.map((p) => p.value), [...expected]);
    assert.notDeepEqual(fallback.points, served.points, "the model's forecast differs");
    // Each forecaster has its own intervals, calibrated on its own holdout errors.
    const width = (f: typeof served) => f.points.map((p) => p.high! - p.low!);
    assert.ok(served.points.every((p) => p.low! <= p.value && p.value <= p.high!));
    assert.ok(fallback.points.every((p) => p.low! <= p.value && p.value <= p.high!));
    assert.notDeepEqual(width(fallback), width(served));
    assert.match(
      (fallback.intervals as { calibrated_on: string }).calibrated_on,
      /persistence ensemble/,
    );

    // Identical forecasts asked at once are made once, from one read of the readings.
    let reads = 0;
    const counting = createForecaster({
      broker: { ...broker, getReadings: (m) => (reads++, broker.getReadings(m)) },
      models,
    });
    const together = await Promise.all(
      Array.from({ length: 10 }, () => counting.forecast(meter, 24)),
    );
    assert.equal(reads, 1);
    assert.ok(together.every((f) => f === together[0]));
    await counting.forecast(meter, 24);
    assert.equal(reads, 2, "a later one is made afresh");
    counting.close();

    // D2: a reading from decades before changes nothing (the forecast cleans the last year only).
    const far = { timestamps: [Date.UTC(2000, 0, 1)], values: [5] };
    await broker.mergeReadings(meter, far);
    const spanning = createForecaster({ broker, models });
    const withFar = await spanning.forecast(meter, 24);
    spanning.close();
    assert.deepEqual(withFar.points, fallback.points);

    // A model trained before intervals: no low and high, and the forecast says why.
    const older = structuredClone(trained.model);
    older.metadata.trained_at = new Date(Date.now() + 2000).toISOString();
    delete older.metadata.intervals;
    await models.save(meter, older);
    const plain = await forecaster.forecast(meter, 24);
    assert.ok(plain.points.every((p) => !("low" in p) && !("high" in p)));
    assert.equal(plain.intervals.quantiles, null);
    assert.match((plain.intervals as { reason: string }).reason, /train the meter again/);
  } finally {
    forecaster.close();
    await broker.close();
  }
});

Deno.test("a forecast by the persistence ensemble does not claim to follow the site's calendar", async () => {
  const { broker, models, meter, trained } = await trainedDemoMeter("b21cal");
  await broker.weather.setMeterSite(meter, "cambridge");
  await broker.weather.setCalendar("cambridge", {
    public_holidays: "england-and-wales",
    closures: [],
  });
  const worse = structuredClone(trained.model);
  worse.metadata.evaluation!.served = "persistence_ensemble";
  await models.save(meter, worse);
  const forecaster = createForecaster({ broker, models });
  try {
    // From the hour after the last reading of 2019: New Year's Day 2020, a Wednesday.
    const withCalendar = await forecaster.forecast(meter, 24);
    assert.equal(withCalendar.model.served, "persistence_ensemble");
    await broker.weather.setCalendar("cambridge", null);
    const without = await forecaster.forecast(meter, 24);
    assert.deepEqual(withCalendar.points, without.points, "the ensemble ignores the calendar");
    assert.deepEqual(withCalendar.calendar, {
      site_id: "cambridge",
      used: false,
      non_working_days: [],
    });
  } finally {
    forecaster.close();
    await broker.close();
  }
});

Deno.test("a forecast's hours do not depend on how far ahead it is asked: the calendar covers every hour the model's days read", async () => {
  const { broker, models, meter, trained } = await trainedDemoMeter("b21reach");
  await broker.weather.setMeterSite(meter, "cambridge");
  // Friday 13 December 2019 closed; the model forecasts a day at a time, each reading its whole day's anchor.
  await broker.weather.setCalendar("cambridge", {
    public_holidays: null,
    closures: ["2019-12-13"],
  });
  await models.save(meter, trained.model);
  const forecaster = createForecaster({ broker, models });
  try {
    // From Thursday 12 December 13:00: the first 11 hours end that day, the day's forecast reaches into Friday.
    const from = Date.UTC(2019, 11, 12, 13);
    const short = await forecaster.forecast(meter, 11, from);
    const long = await forecaster.forecast(meter, 35, from);
    assert.equal(short.model.served, "model");
    assert.deepEqual(short.calendar.non_working_days, []);
    assert.deepEqual(long.calendar.non_working_days, ["2019-12-13"]);
    assert.deepEqual(
      short.points.map((p) => p.value),
      long.points.slice(0, 11).map((p) => p.value),
    );
  } finally {
    forecaster.close();
    await broker.close();
  }
});
