/**
 * The stages of one training job, each on its own: fetch the readings,
 * prepare and train (in a thread, reporting every epoch), save the model.
 * Each reports its stage through the job's reporter before it starts and
 * throws when the job has been stopped; what happens on a failure is the
 * failure policy's business, not theirs.
 *
 * @module
 */
import type { Broker } from "../broker/broker.ts";
import { meterKey } from "../domain/meter.ts";
import { HOUR_MS, type ReadingSeries } from "../domain/series.ts";
import type { SiteWeather, TrainingSeries } from "../training/weather_training.ts";
import type { TrainingJob } from "../domain/task.ts";
import type { SiteCalendar } from "../domain/calendar.ts";
import type { ModelStore } from "../models/model_store.ts";
import { TrainingError } from "../training/errors.ts";
import type { TrainOutcome } from "../training/train.ts";
import { durably } from "./durably.ts";
import { estimateCompletion } from "./eta.ts";
import { savingMessage } from "./job_result.ts";
import type { Reporter } from "./reporter.ts";
import type { Trainer } from "./training_pool.ts";

/** Progress reached at the start of each stage; training fills 15 to 90. */
export const STAGE_PROGRESS = {
  FETCHING_DATA: 5,
  PREPROCESSING: 10,
  TRAINING_MODEL: 15,
  TRAINING_DONE: 90,
  SAVING_MODEL: 92,
} as const;

/** What every stage of one job works with. */
export interface StageContext {
  job: TrainingJob;
  broker: Broker;
  models: ModelStore;
  trainer: Trainer;
  reporter: Reporter;
  signal: AbortSignal;
}

/**
 * `FETCHING_DATA`: the meter's readings, with its site's temperature over
 * their span and its working calendar when the meter is linked to a site;
 * fails when it has no readings.
 */
export async function fetchReadings(
  ctx: StageContext,
): Promise<{ series: TrainingSeries; seconds: number }> {
  await ctx.reporter.step({ status: "FETCHING_DATA", progress: STAGE_PROGRESS.FETCHING_DATA });
  const started = performance.now();
  const series = await durably(
    "Fetching readings",
    () => ctx.broker.getReadings(ctx.job),
    ctx.signal,
  );
  if (!series || series.timestamps.length === 0) {
    throw new TrainingError(
      "no_readings",
      `No readings are stored for ${meterKey(ctx.job)}.`,
      "Upload the meter's hourly readings, then train again.",
    );
  }
  const site = await durably(
    "Fetching the site's temperature and calendar",
    () => siteData(ctx.broker, ctx.job, series),
    ctx.signal,
  );
  return {
    series: { ...series, ...site },
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * The temperature of the meter's site over its readings' span and the
 * site's calendar; neither when the meter has no site.
 */
async function siteData(
  broker: Broker,
  meter: TrainingJob,
  series: ReadingSeries,
): Promise<{ weather?: SiteWeather; calendar?: SiteCalendar }> {
  const siteId = await broker.weather.meterSite(meter);
  if (siteId === null) return {};
  const [temperature, calendar] = await Promise.all([
    broker.weather.getTemperatures(
      siteId,
      series.timestamps[0] - HOUR_MS,
      series.timestamps.at(-1)! + 2 * HOUR_MS,
    ),
    broker.weather.getCalendar(siteId),
  ]);
  return {
    weather: { site_id: siteId, temperature: temperature ?? { timestamps: [], values: [] } },
    ...(calendar ? { calendar } : {}),
  };
}

/**
 * `PREPROCESSING` then `TRAINING_MODEL`: trains in a thread; each epoch is
 * a progress report from 15% to 90% with the estimated completion.
 */
export async function train(
  ctx: StageContext,
  series: TrainingSeries,
): Promise<{ outcome: TrainOutcome; seconds: number }> {
  const { job, reporter } = ctx;
  await reporter.step({
    status: "PREPROCESSING",
    progress: STAGE_PROGRESS.PREPROCESSING,
    message: `Preparing features from ${series.timestamps.length} readings`,
  });
  const started = performance.now();
  const startedWall = Date.now();
  const span = STAGE_PROGRESS.TRAINING_DONE - STAGE_PROGRESS.TRAINING_MODEL;
  const outcome = await ctx.trainer(series, job.meter_type, job.options, {
    onPrepared: (info) =>
      void reporter.report({
        status: "TRAINING_MODEL",
        progress: STAGE_PROGRESS.TRAINING_MODEL,
        message: `Training model on ${info.samples} samples (epoch 0/${job.options.epochs})`,
      }, false),
    onEpoch: (metrics) =>
      void reporter.report({
        status: "TRAINING_MODEL",
        progress: STAGE_PROGRESS.TRAINING_MODEL + (span * metrics.epoch) / metrics.epochs,
        message: `Training model (epoch ${metrics.epoch}/${metrics.epochs})`,
        metrics,
        estimated_completion: estimateCompletion(
          startedWall,
          metrics.epoch,
          metrics.epochs,
          Date.now(),
        ),
      }, false),
  }, ctx.signal);
  await reporter.settled();
  ctx.signal.throwIfAborted();
  return { outcome, seconds: (performance.now() - started) / 1000 };
}

/** `SAVING_MODEL`: stores the model; returns its path. */
export async function saveModel(ctx: StageContext, outcome: TrainOutcome): Promise<string> {
  await ctx.reporter.step({
    status: "SAVING_MODEL",
    progress: STAGE_PROGRESS.SAVING_MODEL,
    message: savingMessage(outcome.evaluation),
    metrics: { ...outcome.model.metadata.metrics, evaluation: outcome.evaluation },
  });
  return await ctx.models.save(ctx.job, outcome.model);
}
