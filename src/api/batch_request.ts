/**
 * The body of `POST /trainmodel/batch`: a list of meters, or every meter of
 * one type (`{"meter_type": "gas", "all": true}`), and the training options
 * every task of the batch trains with (as for one task).
 *
 * @module
 */
import { z } from "zod";
import { METER_TYPES, meterKey, type MeterRef } from "../domain/meter.ts";
import type { TrainingOptions } from "../domain/task.ts";
import { trainRequestSchema } from "./train_request.ts";

/** Meters one batch may name, or that `all` may find; larger fleets go in several batches. */
export const MAX_BATCH_METERS = 1000;

const { meter_id, meter_type, epochs, batch_size, learning_rate } = trainRequestSchema.shape;

const meterSchema = z.strictObject({ meter_id, meter_type }, {
  error: 'must be an object such as {"meter_id": "b21_main", "meter_type": "electricity"}',
});

/** Schema of a batch request. */
export const batchRequestSchema = z.strictObject({
  meters: z.array(meterSchema, { error: "must be a list of meters" }).min(
    1,
    "must name at least one meter",
  ).max(
    MAX_BATCH_METERS,
    `must name at most ${MAX_BATCH_METERS} meters; send a larger fleet in several batches`,
  ).optional(),
  meter_type: z.enum(METER_TYPES, {
    error: `must be one of: ${METER_TYPES.join(", ")}`,
  }).optional(),
  all: z.literal(true, { error: 'must be true ("all": true trains every meter of meter_type)' })
    .optional(),
  epochs,
  batch_size,
  learning_rate,
}, { error: "must be a JSON object" }).check((ctx) => {
  const body = ctx.value;
  const problem = (path: string, message: string) =>
    ctx.issues.push({ code: "custom", message, input: body, path: [path] });
  if (body.meters && (body.all || body.meter_type)) {
    problem(
      "meters",
      'goes alone: name the meters, or ask for {"meter_type": …, "all": true}, not both',
    );
  } else if (!body.meters && !body.all) {
    problem(
      "meters",
      'is required: a list of {"meter_id", "meter_type"}, unless the body asks for {"meter_type": …, "all": true}',
    );
  } else if (body.all && !body.meter_type) {
    problem("meter_type", 'is required with "all": the type of meter to train every one of');
  }
  const seen = new Set<string>();
  for (const [i, meter] of (body.meters ?? []).entries()) {
    const key = meterKey(meter);
    if (seen.has(key)) {
      ctx.issues.push({
        code: "custom",
        message: `names ${key} again; name each meter once`,
        input: meter,
        path: ["meters", i],
      });
    }
    seen.add(key);
  }
});

/** A validated batch request: the meters listed (null: every meter of `allOf`), and the options. */
export interface BatchRequest {
  meters: MeterRef[] | null;
  allOf: MeterRef["meter_type"] | null;
  options: TrainingOptions;
}

/** Splits a parsed batch request into meters and options. */
export function toBatchRequest(body: z.infer<typeof batchRequestSchema>): BatchRequest {
  const { meters, meter_type, all, ...options } = body;
  return {
    meters: meters ?? null,
    allOf: all ? meter_type! : null,
    options,
  };
}
