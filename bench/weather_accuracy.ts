/**
 * Forecast accuracy with weather, through the product's HTTP API (embedded
 * mode): every benchmark meter is trained twice on the same readings, once
 * unlinked and once linked to the site holding the Bedford station's
 * hourly temperature (`bench/data/weather_bedford_*.csv`), then both roll
 * day-ahead forecasts (issued at midnight) through the following weeks,
 * uploading each day's real readings before the next forecast.
 *
 * The whole year's observed temperature is uploaded first, so the linked
 * meter's forecasts read the observed temperature of the forecast day: a
 * perfect weather forecast. A real one errs by a degree or two a day ahead,
 * so this measures the most weather can give.
 *
 * @module
 */
import { cleanReadings } from "../src/meters/cleaning.ts";
import type { ReadingSeries } from "../src/domain/series.ts";
import type { MeterType } from "../src/domain/meter.ts";
import { baselineForecast } from "../src/training/baselines.ts";
import { complete } from "../src/training/features.ts";
import { type Accuracy, accuracy } from "../src/training/metrics.ts";
import type { WeatherReport } from "../src/training/weather_training.ts";
import {
  benchmarkMeters,
  CALENDAR_SITE,
  nextDayTruth,
  setBenchCalendar,
  slice,
  toCsv,
} from "./accuracy.ts";
import { UNLIMITED } from "./unlimited.ts";
import { startTestService } from "../tests/harness.ts";

/** One meter's forecasts without and with weather. */
export interface WeatherAccuracy {
  meter: string;
  type: MeterType;
  days: number;
  without: Accuracy;
  with: Accuracy;
  persistence_ensemble: Accuracy;
  /** What training decided for the linked meter. */
  training: WeatherReport;
  /** Forecasts of the linked meter that the temperature corrected. */
  correctedDays: number;
}

const SITE = "bedford";

async function post(url: string, body: string, type = "text/csv"): Promise<void> {
  const response = await fetch(url, { method: "POST", headers: { "Content-Type": type }, body });
  if (response.status !== 200) {
    throw new Error(`${url}: ${response.status} ${await response.text()}`);
  }
  await response.body?.cancel();
}

/** Runs the rolling day-ahead evaluation with and without weather on the meters of `types`. */
export async function measureWeatherAccuracy(
  types: readonly MeterType[] = ["gas"],
): Promise<WeatherAccuracy[]> {
  const service = await startTestService(
    { SEED_DEMO_METERS: "false", ...UNLIMITED },
    "memory",
  );
  const results: WeatherAccuracy[] = [];
  try {
    // Both meters have the buildings' calendar: what differs is the temperature alone.
    await setBenchCalendar(service.url, CALENDAR_SITE);
    await setBenchCalendar(service.url, SITE);
    for (const year of [2018, 2019]) {
      await post(
        `${service.url}/sites/${SITE}/weather`,
        await Deno.readTextFile(new URL(`./data/weather_bedford_${year}.csv`, import.meta.url)),
      );
    }
    for (const { meter, type, train, next } of benchmarkMeters()) {
      if (!types.includes(type)) continue;
      const plain = `${meter}_plain`, linked = `${meter}_weather`;
      const meters = `${service.url}/meters/${type}`;
      await post(`${meters}/${plain}/readings?site_id=${CALENDAR_SITE}`, toCsv(train));
      await post(`${meters}/${linked}/readings?site_id=${SITE}`, toCsv(train));
      await service.trainToSuccess({ meter_id: plain, meter_type: type });
      const trained = await service.trainToSuccess({ meter_id: linked, meter_type: type });
      const training = trained.result!.details.weather as WeatherReport;

      const actual: number[] = [], without: number[] = [], withWeather: number[] = [];
      const persistence: number[] = [];
      let days = 0, correctedDays = 0;
      const all: ReadingSeries = { timestamps: [...train.timestamps], values: [...train.values] };
      for (let day = 0; (day + 1) * 24 <= next.timestamps.length; day++) {
        const [a, b] = await Promise.all([plain, linked].map(async (id) => {
          const response = await fetch(`${service.url}/forecast/${type}/${id}?horizon=24`);
          if (response.status !== 200) throw new Error(`${id}: ${await response.text()}`);
          return await response.json();
        }));
        if (b.weather.used) correctedDays++;
        const dayReadings = slice(next, day * 24, (day + 1) * 24);
        const clean = cleanReadings(all, type);
        const origin = clean.values.length;
        const truth = nextDayTruth(all, dayReadings, type, origin);
        if (complete(truth, 0, 24)) {
          days++;
          for (let k = 0; k < 24; k++) {
            actual.push(truth[k]);
            without.push(a.points[k].value);
            withWeather.push(b.points[k].value);
          }
          persistence.push(...baselineForecast(clean.values, origin, 24, "persistence_ensemble"));
        }
        for (const id of [plain, linked]) {
          await post(`${meters}/${id}/readings`, toCsv(dayReadings));
        }
        all.timestamps.push(...dayReadings.timestamps);
        all.values.push(...dayReadings.values);
      }
      results.push({
        meter,
        type,
        days,
        without: accuracy(actual, without),
        with: accuracy(actual, withWeather),
        persistence_ensemble: accuracy(actual, persistence),
        training,
        correctedDays,
      });
    }
  } finally {
    await service.close();
  }
  return results;
}

/** The report's lines for these results: a table, then the medians against the target. */
export function weatherAccuracyLines(rows: WeatherAccuracy[], target = 0.55): string[] {
  const pct = (v: number) => (v * 100).toFixed(1);
  const ratio = (a: Accuracy, r: WeatherAccuracy) => a.cv_rmse / r.persistence_ensemble.cv_rmse;
  const lines = [
    "### With weather",
    "",
    "The same meters trained twice on the same readings: unlinked, and linked to a site holding the",
    "Bedford station's hourly temperature (2018 and 2019). Day-ahead forecasts issued at midnight each",
    "day for six weeks. The temperature of each forecast day is the observed one (a perfect weather",
    "forecast; a real one errs by a degree or two a day ahead). Training keeps weather only when it",
    "lowers the error of blocked cross-validation over the training samples (`gain`).",
    "",
    "| meter | days | CV(RMSE) without / with | persistence ens. | ratio without | ratio with | weather kept (gain) | balance °C heat / cool | days corrected |",
    "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
  ];
  for (const r of rows) {
    const t = r.training;
    lines.push(
      `| ${r.type} ${r.meter} | ${r.days} | ${pct(r.without.cv_rmse)} / ${pct(r.with.cv_rmse)} | ${
        pct(r.persistence_ensemble.cv_rmse)
      } | ${ratio(r.without, r).toFixed(2)} | ${ratio(r.with, r).toFixed(2)} | ${
        t.used ? "yes" : "no"
      } (${t.validation ? `${(t.validation.gain * 100).toFixed(1)}%` : "n/a"}) | ${
        t.heating_balance_c ?? "-"
      } / ${t.cooling_balance_c ?? "-"} | ${r.correctedDays} |`,
    );
  }
  lines.push("");
  for (const type of ["electricity", "gas"] as const) {
    const of = rows.filter((r) => r.type === type);
    if (!of.length) continue;
    const without = median(of.map((r) => ratio(r.without, r)));
    const withIt = median(of.map((r) => ratio(r.with, r)));
    const g14 = of.filter((r) => r.with.cv_rmse <= 0.3 && Math.abs(r.with.nmbe) <= 0.1).length;
    lines.push(
      `- ${type} with weather: median ratio to the persistence ensemble ${
        withIt.toFixed(3)
      } (without: ${without.toFixed(3)})${
        type === "gas" ? `; target at most ${target}: ${withIt <= target ? "met" : "missed"}` : ""
      }; weather kept for ${
        of.filter((r) => r.training.used).length
      } of ${of.length}; inside ASHRAE Guideline 14: ${g14} of ${of.length}.`,
    );
  }
  return lines;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
