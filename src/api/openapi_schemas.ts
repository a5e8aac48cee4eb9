/**
 * The shapes the API answers, as zod schemas for the OpenAPI document
 * (`openapi.ts`): the task status object, the error body, the events of a
 * stream, pages of tasks and meters, forecasts. Each has an `id` in its
 * metadata, so the document holds it once under `components/schemas` and
 * every route refers to it.
 *
 * Answers are not checked against these at run time (the handlers build
 * them from typed values); `tests/openapi_test.ts` checks real answers
 * against the document instead, so a shape that drifts fails there.
 *
 * @module
 */
import { z } from "zod";
import { METER_TYPES } from "../domain/meter.ts";
import { TASK_STATUSES } from "../domain/task.ts";

const timestamp = z.iso.datetime().meta({ description: "ISO 8601 time, UTC" });
const meterType = z.enum(METER_TYPES).meta({ description: "The kind of meter" });

/** The options a task trains with. */
export const trainingOptionsSchema = z.object({
  epochs: z.int().meta({ description: "Passes over the training data" }),
  batch_size: z.int().meta({ description: "Samples per gradient step" }),
  learning_rate: z.number().meta({ description: "Adam learning rate" }),
}).meta({ id: "TrainingOptions" });

/** The task status object: the status endpoint's answer and every status event's data. */
export const taskStatusSchema = z.object({
  task_id: z.uuid(),
  status: z.enum(TASK_STATUSES),
  progress: z.int().min(0).max(100).meta({ description: "0 to 100; never goes down" }),
  message: z.string(),
  updated_at: timestamp,
  estimated_completion: timestamp.nullable().meta({
    description: "From the measured speed of training; null until known",
  }),
  result: z.looseObject({
    status: z.literal("success"),
    message: z.string(),
    details: z.looseObject({
      meter_id: z.string(),
      meter_type: meterType,
      data_points: z.int(),
      model_path: z.string(),
      training_completed: z.string(),
      data_fetch_time_seconds: z.number(),
      training_time_seconds: z.number(),
    }).meta({
      description:
        "Facts about the trained model, its evaluation in `metrics`, and in `accuracy_by_day_ahead` how accuracy falls with the horizon (week-ahead forecasts from the holdout, scored per day ahead)",
    }),
  }).nullable().meta({ description: "Set when the task succeeded" }),
  error: z.string().nullable().meta({ description: "Set when the task failed" }),
  error_details: z.object({
    code: z.string(),
    stage: z.enum(TASK_STATUSES),
    hint: z.string(),
  }).nullable(),
  meter_id: z.string(),
  meter_type: meterType,
  created_at: timestamp,
  attempt: z.int().min(1).meta({ description: "Delivery attempt of the training job, from 1" }),
  options: trainingOptionsSchema,
  metrics: z.object({
    epoch: z.int(),
    epochs: z.int(),
    loss: z.number().nullable(),
    val_loss: z.number().nullable(),
    evaluation: z.unknown().optional(),
  }).nullable().meta({ description: "Training metrics; null before training starts" }),
  requested_by: z.string().optional().meta({
    description:
      "Who started the task (an API key's name, a JWT's sub); only with authentication on",
  }),
}).meta({
  id: "TaskStatus",
  description:
    "The task status object. Statuses: PENDING → FETCHING_DATA → PREPROCESSING → TRAINING_MODEL → SAVING_MODEL → SUCCESS, or FAILURE or CANCELLED (RETRYING when a job is delivered again).",
});

/** `POST /trainmodel/`'s answer: the task status object, and a stream token when authentication is on. */
export const startedTaskSchema = taskStatusSchema.extend({
  notify: z.object({
    url: z.string(),
    format: z.enum(["standard", "slack"]),
    deliveries_url: z.string().meta({
      description: "The deliveries of this notification: `/webhooks/tasks/{task_id}/deliveries`",
    }),
  }).optional().meta({
    description: "Only when the request had a `notify`: where the final event goes",
  }),
  stream_token: z.string().optional().meta({
    description:
      "Only when authentication is on: opens this task's stream as `?token=` (an EventSource cannot send headers); read-only, it stops opening it STREAM_TOKEN_AFTER_END_SECONDS after the task ends",
  }),
}).meta({
  id: "StartedTask",
  description:
    "The new task's status object (PENDING at 0%), and its stream token when authentication is on.",
});

/** The one error shape of the API. */
export const errorBodySchema = z.object({
  error: z.object({
    code: z.string().meta({ description: "Machine-readable, such as `validation_failed`" }),
    message: z.string().meta({ description: "What went wrong and what to do next" }),
    details: z.unknown().meta({
      description: "Extra facts, such as `{fields: [{field, message}]}` for a 422; often null",
    }),
  }),
}).meta({ id: "ErrorBody", description: "Every error answer of the API has this shape." });

/** A heartbeat on a stream; `task_id` is null on a stream of several tasks. */
export const heartbeatSchema = z.object({
  task_id: z.uuid().nullable(),
  type: z.literal("heartbeat"),
  timestamp,
}).meta({
  id: "Heartbeat",
  description:
    "Sent every HEARTBEAT_INTERVAL_SECONDS without an `id:` line. `task_id` is null on a stream of several tasks.",
});

/** A server-side problem told on a stream. */
export const errorEventSchema = z.object({
  task_id: z.uuid().nullable(),
  type: z.literal("error"),
  error: z.string(),
  timestamp,
}).meta({
  id: "ErrorEvent",
  description:
    "A server-side problem reading the events; reconnect with Last-Event-ID to resume. `task_id` is null on a stream of several tasks.",
});

/** One `data:` line of an event stream: a status object, a heartbeat or an error event. */
export const streamEventSchema = z.union([taskStatusSchema, heartbeatSchema, errorEventSchema])
  .meta({
    id: "StreamEvent",
    description:
      "The JSON of one `data:` line. Status events also have an `id:` line (the resume position) and no `event:` field, so EventSource.onmessage receives every kind.",
  });

/** A page of tasks. */
export const taskPageSchema = z.object({
  tasks: z.array(taskStatusSchema),
  next_cursor: z.string().nullable().meta({
    description: "Pass back as `cursor` for the next page; null when there is none",
  }),
}).meta({ id: "TaskPage" });

/** One stored meter in a listing. */
export const meterSummarySchema = z.object({
  meter_id: z.string(),
  meter_type: meterType,
  readings_count: z.int(),
  model: z.object({ trained_at: timestamp }).nullable(),
  href: z.string().meta({ description: "The meter's own resource" }),
}).meta({ id: "MeterSummary" });

/** A page of meters. */
export const meterPageSchema = z.object({
  meters: z.array(meterSummarySchema),
  next_cursor: z.string().nullable().meta({
    description: "Pass back as `cursor` for the next page; null when there is none",
  }),
}).meta({ id: "MeterPage" });

/** What is stored of a meter's readings. */
export const readingsSummarySchema = z.object({
  count: z.int(),
  first: timestamp,
  last: timestamp,
  missing_hours: z.int().meta({
    description:
      "Hours from first to last that the cleaning policy treats as missing (no reading, zeros taken as missing, spikes): the hours a forecast counts as estimated",
  }),
  absent_hours: z.int().meta({ description: "Of those, hours with no reading" }),
  zeros_as_missing: z.int().meta({ description: "Of those, zeros taken as missing data" }),
  spikes_removed: z.int().meta({ description: "Of those, readings masked as spikes" }),
  gap_count: z.int(),
  longest_gaps: z.array(z.object({ from: timestamp, to: timestamp, hours: z.int() })),
  zero_readings: z.int(),
}).meta({ id: "ReadingsSummary" });

/** The site a meter is linked to. */
export const meterSiteSchema = z.object({
  site_id: z.string(),
  temperature_hours: z.int().meta({ description: "Hours of temperature stored for the site" }),
  calendar: z.boolean().meta({
    description:
      "Whether the site has a working calendar (`PUT /sites/{site_id}/calendar`): its holidays and closures are forecast like weekend days",
  }),
}).meta({ id: "MeterSite" });

/** The answer to linking a meter to a site. */
export const meterLinkSchema = z.object({
  meter_id: z.string(),
  meter_type: meterType,
  site: meterSiteSchema.nullable(),
}).meta({ id: "MeterLink" });

/** One meter: its readings and its model. */
export const meterDetailSchema = z.object({
  meter_id: z.string(),
  meter_type: meterType,
  readings: readingsSummarySchema.nullable(),
  model: z.union([
    z.object({
      exists: z.literal(true),
      model_path: z.string(),
      trained_at: timestamp,
      metrics: z.unknown(),
      evaluation: z.unknown().optional(),
      weather_aware: z.boolean().meta({
        description: "True when the model corrects its forecasts for the site's temperature",
      }),
    }),
    z.object({ exists: z.literal(false) }),
  ]),
  site: meterSiteSchema.nullable().meta({
    description: "The site the meter is linked to (its weather), or null",
  }),
}).meta({ id: "MeterDetail" });

/** The answer to an upload of readings. */
export const uploadResultSchema = z.object({
  meter_id: z.string(),
  meter_type: meterType,
  accepted: z.int(),
  added: z.int(),
  replaced: z.int().meta({ description: "Hours re-sent: their old value is replaced" }),
  rejected: z.int(),
  readings: readingsSummarySchema,
  site: meterSiteSchema.optional().meta({ description: "With `?site_id=`: the meter's site now" }),
}).meta({ id: "UploadResult" });

/** What deleting a range of readings did. */
export const deletedReadingsSchema = z.object({
  meter_id: z.string(),
  meter_type: meterType,
  deleted: z.int().meta({ description: "Readings removed" }),
  readings: readingsSummarySchema.nullable().meta({
    description: "What is left; null when no readings are left",
  }),
}).meta({ id: "DeletedReadings" });

/** What deleting a meter did. */
export const deletedMeterSchema = z.object({
  meter_id: z.string(),
  meter_type: meterType,
  deleted: z.object({
    readings: z.int().meta({ description: "Readings removed" }),
    model: z.boolean().meta({ description: "Whether a trained model was removed" }),
  }),
}).meta({ id: "DeletedMeter" });

/** Readings as JSON. */
export const readingsJsonSchema = z.array(z.object({
  timestamp: z.string().meta({
    description: "`YYYY-MM-DD HH:MM[:SS]` (the meter's wall clock) or ISO 8601 with Z or an offset",
  }),
  value: z.number().min(0),
})).meta({ id: "Readings", example: [{ timestamp: "2024-01-01 00:00:00", value: 12.5 }] });

/** Readings as CSV. */
export const readingsCsvSchema = z.string().meta({
  description:
    "timestamp,value lines, a header optional; `;` separators with decimal commas are read too",
  example: "timestamp,value\n2024-01-01 00:00:00,12.5\n2024-01-01 01:00:00,11.9\n",
});

/** A meter's latest readings, for a chart. */
export const recentReadingsSchema = z.object({
  meter_id: z.string(),
  meter_type: meterType,
  hours: z.int().meta({ description: "The span asked for, ending at the latest reading" }),
  points: z.array(z.object({ timestamp, value: z.number() })).meta({
    description: "The readings in that span, oldest first; hours with no reading are left out",
  }),
}).meta({ id: "RecentReadings" });

/** A forecast. */
export const forecastSchema = z.object({
  meter_id: z.string(),
  meter_type: meterType,
  generated_at: timestamp,
  model: z.object({
    trained_at: timestamp,
    served: z.enum(["model", "persistence_ensemble"]),
    metrics: z.unknown(),
  }),
  origin: timestamp.meta({
    description: "The first hour forecast: `from`, or the hour after the latest reading",
  }),
  horizon: z.int(),
  inputs: z.object({
    hours_needed: z.int().meta({ description: "Hours of history the model reads" }),
    hours_estimated: z.int().meta({
      description:
        "Of those, hours the cleaning policy treats as missing, estimated (short gaps interpolated, longer ones from similar days or the meter's typical profile)",
    }),
    quality: z.enum(["good", "degraded"]).meta({
      description: "`degraded` when hours longer than a short gap had to be estimated",
    }),
  }),
  beyond_first_day: z.string().nullable().meta({
    description: "How hours past the model's first day were forecast; null for 24 hours or fewer",
  }),
  weather: z.object({
    used: z.boolean().meta({
      description:
        "True when the site's temperature corrected the forecast; false when the model is not weather-aware or the forecast hours have no temperature (then the model forecasts without weather)",
    }),
    site_id: z.string().nullable(),
    hours: z.int().meta({ description: "Forecast hours corrected for the weather" }),
    message: z.string(),
  }),
  calendar: z.object({
    site_id: z.string().nullable().meta({
      description: "The meter's site, or null when it is linked to none",
    }),
    used: z.boolean().meta({
      description:
        "True when the forecast followed the site's working calendar: the site has one and the model served the forecast (the persistence ensemble reads none, and then lists no days); false too when the meter has no site or its site no calendar",
    }),
    non_working_days: z.array(z.string()).meta({
      description:
        "Weekdays of the forecast (`YYYY-MM-DD`) the site's calendar names as holidays or closures: forecast like weekend days",
    }),
  }).meta({ description: "The site's working calendar in this forecast" }),
  intervals: z.union([
    z.object({
      quantiles: z.object({ low: z.number(), high: z.number() }).meta({
        description: "The quantiles `low` and `high` stand for (0.1 and 0.9)",
      }),
      calibrated_on: z.string().meta({ description: "How the intervals were calibrated" }),
      widened: z.number().meta({
        description:
          "How much wider than calibrated the intervals are: 1 with complete inputs, more when `inputs.quality` is `degraded` (1 + 0.42 × √(share of the hours estimated))",
      }),
    }),
    z.object({
      quantiles: z.null(),
      reason: z.string().meta({
        description: "Why the points have no `low` and `high` (a model trained before them)",
      }),
    }),
  ]).meta({ description: "What each point's `low` and `high` are, or why there are none" }),
  points: z.array(z.object({
    timestamp,
    value: z.number(),
    low: z.number().optional().meta({
      description:
        "10% quantile: about one actual value in ten falls below it (calibrated on the holdout at training time; at most `value`)",
    }),
    high: z.number().optional().meta({
      description: "90% quantile: about one actual value in ten falls above it (at least `value`)",
    }),
  })),
}).meta({ id: "Forecast" });

/** The health report. */
export const healthSchema = z.looseObject({
  status: z.enum(["ok", "degraded"]),
  time: timestamp,
  dependencies: z.record(
    z.string(),
    z.looseObject({ up: z.boolean(), error: z.string().optional() }),
  ),
}).meta({ id: "Health" });

/** The list of endpoints at `GET /`. */
export const endpointListSchema = z.object({
  service: z.string(),
  endpoints: z.record(z.string(), z.string()),
}).meta({ id: "EndpointList" });
