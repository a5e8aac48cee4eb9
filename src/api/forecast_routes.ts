/**
 * The forecasts resource: `GET /forecast/{meter_type}/{meter_id}?horizon=24`.
 *
 * @module
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { type Forecaster, ForecastError } from "../forecast/forecaster.ts";
import { ApiError } from "./errors.ts";
import { checkMeter } from "./access.ts";
import { errorResponses, jsonContent, requestHook, validationHook } from "./openapi.ts";
import { forecastSchema } from "./openapi_schemas.ts";
import { timeProblem } from "./openapi_meters.ts";
import { meterParamsSchema, problemCheck } from "./request_schemas.ts";

/** Longest horizon, in hours: a week. */
export const MAX_HORIZON = 168;

/** What is wrong with a `horizon` value, in words; null when it is fine. */
function horizonProblem(value: string): string | null {
  const horizon = Number(value);
  if (/^\d+$/.test(value) && horizon >= 1 && horizon <= MAX_HORIZON) return null;
  return `must be a whole number of hours from 1 to ${MAX_HORIZON}`;
}

/** What is wrong with a `from` value, in words; null when it is fine. */
function fromProblem(value: string): string | null {
  return timeProblem(value, "2019-03-04T00:00:00Z");
}

/** `GET /forecast/{meter_type}/{meter_id}`. */
export const forecastRoute = createRoute({
  method: "get",
  path: "/{meter_type}/{meter_id}",
  tags: ["forecasts"],
  summary: "Forecast a meter's next hours",
  description:
    "Continues the meter's hourly grid from its latest reading (or from `from`), with the meter's trained model (or the persistence ensemble when the model did not beat it). Missing hours in the week before (by the cleaning policy) are estimated from similar days or the meter's typical profile; `inputs` says how many, and `quality` is `degraded` when profiles filled any. Hours past the first day are forecast recursively (`beyond_first_day`). Weekdays the meter's site does not work (its calendar: public holidays, closures) are forecast like weekend days and listed in `calendar`. Each point's `low` and `high` are its 10% and 90% quantiles, moved out by `intervals.widened` when inputs are degraded.",
  request: {
    params: meterParamsSchema,
    query: z.object({
      horizon: z.string().check(problemCheck(horizonProblem)).optional().meta({
        description: "Hours ahead",
        type: "integer",
        minimum: 1,
        maximum: MAX_HORIZON,
        default: 24,
      }),
      from: z.string().check(problemCheck(fromProblem)).optional().meta({
        description:
          "Forecast as if issued at this hour (ISO 8601, an hour on the meter's grid after its first reading and at most the hour after its latest), from the readings before it only. Default: the hour after the latest reading.",
        format: "date-time",
      }),
    }),
  },
  responses: {
    200: { description: "The forecast", content: jsonContent(forecastSchema) },
    ...errorResponses({
      404: "The meter has no model (`model_not_found`): train one first",
      409: "The model is from an earlier version (`model_outdated`): train the meter again",
      422:
        "Bad parameters (`validation_failed`, naming `horizon` or `from`), or fewer than 2 days of readings in the week before the origin (`not_enough_recent_readings`, saying how many hours are missing and where)",
    }),
  },
});

/** Builds the `/forecast` routes. */
export function createForecastRoutes(forecaster: Forecaster): OpenAPIHono {
  const routes = new OpenAPIHono({ strict: false, defaultHook: validationHook });
  routes.openapi(forecastRoute, async (c) => {
    const meter = c.req.valid("param");
    checkMeter(c, meter);
    const query = c.req.valid("query");
    const horizon = Number(query.horizon ?? "24");
    const from = query.from === undefined ? undefined : Date.parse(query.from);
    try {
      return c.json(await forecaster.forecast(meter, horizon, from), 200);
    } catch (error) {
      if (error instanceof ForecastError) {
        throw new ApiError(error.status, error.code, error.message, error.details);
      }
      throw error;
    }
  }, requestHook(forecastRoute.request));
  return routes;
}
