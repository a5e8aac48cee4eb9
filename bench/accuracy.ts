/**
 * Forecast accuracy on every real meter, through the product's own HTTP
 * API (embedded mode): upload the training period, train, then roll
 * day-ahead forecasts through the following weeks, uploading each day's
 * real readings before the next forecast. Scores the model, a closed-form
 * ridge regression (the linear reference it must beat) and the baselines.
 *
 * @module
 */
import { cleanReadings } from "../src/meters/cleaning.ts";
import { parseReadingsCsv } from "../src/meters/csv.ts";
import type { ReadingSeries } from "../src/domain/series.ts";
import type { MeterType } from "../src/domain/meter.ts";
import type { SiteCalendar } from "../src/domain/calendar.ts";
import { baselineForecast, BASELINES } from "../src/training/baselines.ts";
import { complete } from "../src/training/features.ts";
import { HOUR_MS } from "../src/domain/series.ts";
import { type Accuracy, accuracy } from "../src/training/metrics.ts";
import { fitRidgeReference, forecastRidgeReference } from "./ridge_reference.ts";
import { startTestService } from "../tests/harness.ts";
import { UNLIMITED } from "./unlimited.ts";

/** One meter's results. */
export interface MeterAccuracy {
  meter: string;
  type: MeterType;
  days: number;
  model: Accuracy;
  ridge: Accuracy;
  persistence_ensemble: Accuracy;
  previous_day: Accuracy;
  previous_week: Accuracy;
  served: string;
  /** Model over persistence ensemble, CV(RMSE), for forecasts issued at 13:00. */
  afternoonRatio: number;
  trainingSeconds: number;
  readingsPerSecond: number;
  /** Hours of the scored day-ahead forecasts whose actual value fell within `[low, high]`. */
  covered: number;
  /** Hours scored for coverage. */
  coverageHours: number;
}

const data = (name: string) =>
  parseReadingsCsv(Deno.readTextFileSync(new URL(`./data/${name}`, import.meta.url))).series;

/** Readings `from` to `to` (indices) of `series`. */
export function slice(series: ReadingSeries, from: number, to: number): ReadingSeries {
  return { timestamps: series.timestamps.slice(from, to), values: series.values.slice(from, to) };
}

/** `series` as the CSV a readings upload takes. */
export function toCsv(series: ReadingSeries): string {
  return series.timestamps.map((t, i) => `${new Date(t).toISOString()},${series.values[i]}`).join(
    "\n",
  );
}

/**
 * The working calendar of the benchmark's buildings (all University of
 * Cambridge): England and Wales' bank holidays, as a facilities team
 * would set it. Every benchmark meter is linked to a site that has it.
 */
export const BENCH_CALENDAR: SiteCalendar = { public_holidays: "england-and-wales", closures: [] };

/** The site the accuracy benchmarks link meters to (no temperature: only the calendar). */
export const CALENDAR_SITE = "cambridge";

/** Sets `BENCH_CALENDAR` on `site` of the service at `url`. */
export async function setBenchCalendar(url: string, site: string): Promise<void> {
  const response = await fetch(`${url}/sites/${site}/calendar`, {
    method: "PUT",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(BENCH_CALENDAR),
  });
  if (response.status !== 200) throw new Error(`calendar refused: ${await response.text()}`);
  await response.body?.cancel();
}

/** Hours of a day uploaded before the afternoon forecast: it is issued at 13:00. */
const AFTERNOON = 13;

/**
 * The 24 hours of `dayReadings` as cleaning reads them once they follow
 * `all` (whose cleaned grid ends at `origin`): what a day-ahead forecast
 * from the end of `all` is judged against.
 */
export function nextDayTruth(
  all: ReadingSeries,
  dayReadings: ReadingSeries,
  type: MeterType,
  origin: number,
): Float64Array {
  return cleanReadings(
    {
      timestamps: [...all.timestamps, ...dayReadings.timestamps],
      values: [...all.values, ...dayReadings.values],
    },
    type,
  ).values.subarray(origin, origin + 24);
}

/** The meters and their train/evaluate split. */
export function benchmarkMeters(): {
  meter: string;
  type: MeterType;
  train: ReadingSeries;
  next: ReadingSeries;
}[] {
  const out = [];
  for (const b of ["b0", "b5", "b21", "b40", "b119"]) {
    out.push({
      meter: `ucam_${b}`,
      type: "electricity" as const,
      train: data(`electricity_ucam_${b}_2018.csv`),
      next: data(`electricity_ucam_${b}_2019_first6weeks.csv`),
    });
  }
  for (const b of ["b2", "b40", "b57"]) {
    const year = data(`gas_ucam_${b}_2019.csv`);
    const split = year.timestamps.findIndex((t) => t >= Date.UTC(2019, 10, 1));
    out.push({
      meter: `ucam_${b}`,
      type: "gas" as const,
      train: slice(year, 0, split),
      next: slice(year, split, split + 42 * 24),
    });
  }
  return out;
}

/** Runs the rolling day-ahead evaluation on every meter. */
export async function measureAccuracy(): Promise<MeterAccuracy[]> {
  const service = await startTestService({ SEED_DEMO_METERS: "false", ...UNLIMITED });
  const results: MeterAccuracy[] = [];
  try {
    await setBenchCalendar(service.url, CALENDAR_SITE);
    for (const { meter, type, train, next } of benchmarkMeters()) {
      const base = `${service.url}/meters/${type}/${meter}/readings`;
      const post = (series: ReadingSeries, query = "") =>
        fetch(base + query, {
          method: "POST",
          headers: { "Content-Type": "text/csv" },
          body: toCsv(series),
        })
          .then(async (r) => {
            if (r.status !== 200) throw new Error(`upload failed: ${await r.text()}`);
          });
      await post(train, `?site_id=${CALENDAR_SITE}`);
      const last = await service.trainToSuccess({ meter_id: meter, meter_type: type });
      const trainingSeconds = Number(last.result!.details.training_time_seconds);

      // The linear reference, fitted on the same cleaned training readings.
      const cleanTrain = cleanReadings(train, type);
      const reference = fitRidgeReference({ start: cleanTrain.start, values: cleanTrain.values });

      const actual: number[] = [];
      const f: Record<string, number[]> = {
        model: [],
        ridge: [],
        ...Object.fromEntries(BASELINES.map((b) => [b, []])),
      };
      let served = "";
      const afternoonForecasts: { timestamp: string; value: number }[][] = [];
      let days = 0, covered = 0, coverageHours = 0;
      const all: ReadingSeries = { timestamps: [...train.timestamps], values: [...train.values] };
      for (let day = 0; (day + 1) * 24 <= next.timestamps.length; day++) {
        const response = await fetch(`${service.url}/forecast/${type}/${meter}?horizon=24`);
        const dayReadings = slice(next, day * 24, (day + 1) * 24);
        if (response.status === 200) {
          const body = await response.json();
          served = body.model.served;
          const clean = cleanReadings(all, type);
          const grid = { start: clean.start, values: clean.values };
          const origin = grid.values.length;
          const r = forecastRidgeReference(reference, grid, origin);
          const truth = nextDayTruth(all, dayReadings, type, origin);
          if (complete(truth, 0, 24)) {
            days++;
            for (let k = 0; k < 24; k++) {
              const point = body.points[k];
              actual.push(truth[k]);
              f.model.push(point.value);
              f.ridge.push(r[k]);
              if (point.low !== undefined && point.high !== undefined) {
                coverageHours++;
                if (truth[k] >= point.low && truth[k] <= point.high) covered++;
              }
            }
            for (const b of BASELINES) f[b].push(...baselineForecast(grid.values, origin, 24, b));
          }
        } else {
          await response.body?.cancel();
        }
        // The same day again, issued at 13:00: upload the morning, forecast, upload the rest.
        await post(slice(dayReadings, 0, AFTERNOON));
        const afternoon = await fetch(`${service.url}/forecast/${type}/${meter}?horizon=24`);
        if (afternoon.status === 200) {
          const body = await afternoon.json();
          afternoonForecasts.push(body.points);
        } else {
          await afternoon.body?.cancel();
        }
        await post(slice(dayReadings, AFTERNOON, 24));
        all.timestamps.push(...dayReadings.timestamps);
        all.values.push(...dayReadings.values);
      }
      // Forecasts issued at 13:00, scored against the cleaned readings, next to the persistence
      // ensemble issued at the same hours.
      const final = cleanReadings(all, type);
      const afternoonActual: number[] = [],
        afternoonModel: number[] = [],
        afternoonBase: number[] = [];
      for (const points of afternoonForecasts) {
        const origin = Math.round((Date.parse(points[0].timestamp) - final.start) / HOUR_MS);
        if (!complete(final.values, origin, origin + 24)) continue;
        const base = baselineForecast(final.values, origin, 24, "persistence_ensemble");
        for (let k = 0; k < 24; k++) {
          afternoonActual.push(final.values[origin + k]);
          afternoonModel.push(points[k].value);
          afternoonBase.push(base[k]);
        }
      }
      const afternoonRatio = accuracy(afternoonActual, afternoonModel).cv_rmse /
        accuracy(afternoonActual, afternoonBase).cv_rmse;
      results.push({
        meter,
        type,
        days,
        model: accuracy(actual, f.model),
        ridge: accuracy(actual, f.ridge),
        persistence_ensemble: accuracy(actual, f.persistence_ensemble),
        previous_day: accuracy(actual, f.previous_day),
        previous_week: accuracy(actual, f.previous_week),
        served,
        afternoonRatio,
        trainingSeconds,
        readingsPerSecond: train.timestamps.length / trainingSeconds,
        covered,
        coverageHours,
      });
    }
  } finally {
    await service.close();
  }
  return results;
}
