/**
 * The body of `POST /trainmodel/`: which meter, and optional training
 * options within sane bounds, and where to notify when it ends.
 *
 * @module
 */
import { z } from "zod";
import { METER_TYPES, meterIdProblem, type MeterRef } from "../domain/meter.ts";
import type { TrainingOptions } from "../domain/task.ts";
import type { WebhookFormat } from "../domain/webhook.ts";
import { notifySchema } from "./webhook_request.ts";

/** Default training options. */
export const DEFAULT_OPTIONS: TrainingOptions = {
  epochs: 30,
  batch_size: 256,
  learning_rate: 0.003,
};

/** Schema of a training request. */
export const trainRequestSchema = z.strictObject({
  meter_id: z.string({ error: "is required and must be a string" }).check((ctx) => {
    const problem = meterIdProblem(ctx.value);
    if (problem) ctx.issues.push({ code: "custom", message: problem, input: ctx.value });
  }),
  meter_type: z.enum(METER_TYPES, {
    error: `is required and must be one of: ${METER_TYPES.join(", ")}`,
  }),
  epochs: z.int("must be a whole number").min(1, "must be at least 1").max(
    500,
    "must be at most 500",
  ).default(DEFAULT_OPTIONS.epochs),
  batch_size: z.int("must be a whole number").min(8, "must be at least 8").max(
    4096,
    "must be at most 4096",
  ).default(DEFAULT_OPTIONS.batch_size),
  learning_rate: z.number("must be a number").gt(0, "must be above 0").max(
    1,
    "must be at most 1",
  ).default(DEFAULT_OPTIONS.learning_rate),
  notify: notifySchema.optional(),
}, { error: "must be a JSON object" });

/** A validated training request. */
export interface TrainRequest {
  meter: MeterRef;
  options: TrainingOptions;
  /** Where the task's final event is POSTed; null for nowhere. */
  notify: { url: string; format: WebhookFormat } | null;
}

/** Splits a parsed request into meter and options. */
export function toTrainRequest(
  body: z.infer<typeof trainRequestSchema>,
): TrainRequest {
  const { meter_id, meter_type, notify, ...options } = body;
  return { meter: { meter_id, meter_type }, options, notify: notify ?? null };
}
