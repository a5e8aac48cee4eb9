/**
 * Forecasts from incomplete readings, on the real meters of `bench/data`:
 * each meter is trained on its training period, then forecast from every
 * midnight of the weeks after it (with `from`, so each forecast sees only
 * the readings before its origin) three ways: with the week before intact,
 * and with its last 24 or 72 hours missing (an outage up to the origin, the
 * hardest place for one). Also a week ahead from the same origins, scored
 * by day ahead (next to what training expected from its holdout), with the
 * coverage of the 10–90% prediction intervals. CV(RMSE) against the
 * cleaned real readings.
 *
 * `deno run --allow-all bench/outages.ts` prints the tables alone.
 *
 * @module
 */
import { createMemoryBroker } from "../src/broker/memory_broker.ts";
import { createModelStore } from "../src/models/model_store.ts";
import { createForecaster } from "../src/forecast/forecaster.ts";
import { cleanReadings } from "../src/meters/cleaning.ts";
import { HOUR_MS, type ReadingSeries } from "../src/domain/series.ts";
import { trainModel } from "../src/training/train.ts";
import { accuracy } from "../src/training/metrics.ts";
import { BENCH_CALENDAR, benchmarkMeters, CALENDAR_SITE } from "./accuracy.ts";

/** One meter's results. */
export interface OutageAccuracy {
  meter: string;
  type: string;
  origins: number;
  served: string;
  /** CV(RMSE) of day-ahead forecasts: week intact, last 24 h missing, last 72 h missing. */
  clean: number;
  outage24: number;
  outage72: number;
  /** Forecasts refused (any variant). */
  refused: number;
  /** `degraded` answers among the outage forecasts, of all of them. */
  degraded: number;
  /** Day-ahead hours within `[low, high]`, and hours scored: week intact, 24 h and 72 h missing. */
  dayAheadCoverage: Record<"clean" | "out24" | "out72", { covered: number; scored: number }>;
  /** CV(RMSE) by day ahead, 1 to 7, of week-ahead forecasts from intact weeks. */
  byDay: number[];
  /** CV(RMSE) by day ahead that training measured on its holdout (`by_day_ahead`). */
  expectedByDay: number[];
  /** Share of actual values inside `[low, high]`, by day ahead, of the same forecasts. */
  coverageByDay: number[];
  /** Of all hours of those forecasts: inside, and hours scored. */
  covered: number;
  scored: number;
}

/** Measures every benchmark meter. */
export async function measureOutages(quick = false): Promise<OutageAccuracy[]> {
  const results: OutageAccuracy[] = [];
  for (const { meter, type, train, next } of benchmarkMeters()) {
    const broker = createMemoryBroker({ taskTtlSeconds: 60 });
    const models = createModelStore({ broker, dataDir: null });
    const forecaster = createForecaster({ broker, models });
    try {
      const trained = await trainModel({ ...train, calendar: BENCH_CALENDAR }, type, {
        epochs: quick ? 5 : 30,
        batch_size: 256,
        learning_rate: 0.003,
      });
      const all: ReadingSeries = {
        timestamps: [...train.timestamps, ...next.timestamps],
        values: [...train.values, ...next.values],
      };
      const refs = ["clean", "out24", "out72"].map((v) => ({
        meter_id: `${meter}_${v}`,
        meter_type: type,
      }));
      await broker.weather.setCalendar(CALENDAR_SITE, BENCH_CALENDAR);
      for (const ref of refs) {
        await broker.weather.setMeterSite(ref, CALENDAR_SITE);
        await broker.mergeReadings(ref, all);
        await models.save(ref, trained.model);
      }
      const truth = cleanReadings(all, type);
      const actualAt = (t: number) => truth.values[Math.round((t - truth.start) / HOUR_MS)];

      const first = next.timestamps[0];
      const days = Math.floor(next.timestamps.length / 24) - 7;
      const pairs = { clean: [[], []], out24: [[], []], out72: [[], []] } as Record<
        string,
        [number[], number[]]
      >;
      const byDay = Array.from({ length: 7 }, () => [[], []] as [number[], number[]]);
      const inside = Array.from({ length: 7 }, () => ({ covered: 0, scored: 0 }));
      const dayAhead = {
        clean: { covered: 0, scored: 0 },
        out24: { covered: 0, scored: 0 },
        out72: { covered: 0, scored: 0 },
      };
      let refused = 0, degraded = 0, outageAnswers = 0, served = "";
      for (let d = 0; d < days; d++) {
        const origin = first + d * 24 * HOUR_MS;
        const originDay = new Date(origin).getUTCHours() === 0 ? origin : origin;
        for (const [i, variant] of (["clean", "out24", "out72"] as const).entries()) {
          const ref = refs[i];
          const gap = variant === "out24" ? 24 : variant === "out72" ? 72 : 0;
          if (gap) await broker.deleteReadings(ref, originDay - gap * HOUR_MS, originDay);
          try {
            const f = await forecaster.forecast(ref, variant === "clean" ? 168 : 24, originDay);
            served = f.model.served;
            if (gap) {
              outageAnswers++;
              if (f.inputs.quality === "degraded") degraded++;
            }
            f.points.forEach((p, k) => {
              const actual = actualAt(Date.parse(p.timestamp));
              if (k < 24) {
                pairs[variant][0].push(actual);
                pairs[variant][1].push(p.value);
                if (Number.isFinite(actual) && p.low !== undefined && p.high !== undefined) {
                  dayAhead[variant].scored++;
                  if (actual >= p.low && actual <= p.high) dayAhead[variant].covered++;
                }
              }
              if (variant === "clean") {
                byDay[Math.floor(k / 24)][0].push(actual);
                byDay[Math.floor(k / 24)][1].push(p.value);
                if (Number.isFinite(actual) && p.low !== undefined && p.high !== undefined) {
                  inside[Math.floor(k / 24)].scored++;
                  if (actual >= p.low && actual <= p.high) inside[Math.floor(k / 24)].covered++;
                }
              }
            });
          } catch {
            refused++;
          } finally {
            if (gap) await broker.mergeReadings(ref, all); // put the hours back
          }
        }
      }
      const cv = ([a, p]: [number[], number[]]) => accuracy(a, p).cv_rmse;
      results.push({
        meter,
        type,
        origins: days,
        served,
        clean: cv(pairs.clean),
        outage24: cv(pairs.out24),
        outage72: cv(pairs.out72),
        refused,
        degraded: outageAnswers ? degraded / outageAnswers : 0,
        byDay: byDay.map(cv),
        expectedByDay: (trained.evaluation.by_day_ahead ?? []).map((d) => d.model.cv_rmse),
        coverageByDay: inside.map((c) => c.covered / c.scored),
        dayAheadCoverage: dayAhead,
        covered: inside.reduce((n, c) => n + c.covered, 0),
        scored: inside.reduce((n, c) => n + c.scored, 0),
      });
    } finally {
      forecaster.close();
      await broker.close();
    }
  }
  return results;
}

/** The results as Markdown lines. */
export function outageTables(results: OutageAccuracy[]): string[] {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const lines = [
    "Day-ahead forecasts from every midnight of the evaluation weeks (`from=`), CV(RMSE); an outage is the last 24 or 72 hours before the origin missing, estimated from similar days.",
    "",
    "| meter | type | origins | served | intact week | 24 h outage | 72 h outage | 72 h ÷ intact | refused | within 10–90%: intact / 24 h / 72 h |",
    "| --- | --- | --: | --- | --: | --: | --: | --: | --: | --: |",
  ];
  const share = (c: { covered: number; scored: number }) => pct(c.covered / c.scored);
  for (const r of results) {
    const c = r.dayAheadCoverage;
    lines.push(
      `| ${r.meter} | ${r.type} | ${r.origins} | ${r.served} | ${pct(r.clean)} | ${
        pct(r.outage24)
      } | ${pct(r.outage72)} | ${(r.outage72 / r.clean).toFixed(2)} | ${r.refused} | ${
        share(c.clean)
      } / ${share(c.out24)} / ${share(c.out72)} |`,
    );
  }
  lines.push(
    "",
    "Week-ahead forecasts (`horizon=168`, recursive past the first day) from the same origins, CV(RMSE) by day ahead:",
    "",
    "| meter | day 1 | day 2 | day 3 | day 4 | day 5 | day 6 | day 7 |",
    "| --- | --: | --: | --: | --: | --: | --: | --: |",
  );
  for (const r of results) {
    lines.push(`| ${r.meter} (${r.type}) | ${r.byDay.map(pct).join(" | ")} |`);
    lines.push(
      `| ${r.meter}, expected at training | ${r.expectedByDay.map(pct).join(" | ")} |`,
    );
  }
  lines.push(
    "",
    "The second row of each meter is what training reported in `accuracy_by_day_ahead`: the same recursive forecasts, from every hour of its holdout (the 28 days before the evaluation weeks).",
    "",
    "Coverage of the 10–90% prediction intervals (share of actual values within `[low, high]`; 80% is the aim) of the same week-ahead forecasts, by day ahead:",
    "",
    "| meter | day 1 | day 2 | day 3 | day 4 | day 5 | day 6 | day 7 | all |",
    "| --- | --: | --: | --: | --: | --: | --: | --: | --: |",
  );
  for (const r of results) {
    lines.push(
      `| ${r.meter} (${r.type}) | ${r.coverageByDay.map(pct).join(" | ")} | ${
        pct(r.covered / r.scored)
      } |`,
    );
  }
  return lines;
}

if (import.meta.main) {
  const results = await measureOutages(Deno.args.includes("--quick"));
  console.log(outageTables(results).join("\n"));
}
