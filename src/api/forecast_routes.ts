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
import { meterParamsSchema, problemCheck } from "./request_schemas.ts";

/** What is wrong with a `horizon` value, in words; null when it is fine. */
function horizonProblem(value: string): string | null {
  const horizon = Number(value);
  if (/^\d+$/.test(value) && horizon >= 1 && horizon <= 24) return null;
  return "must be a whole number of hours from 1 to 24";
}

/** `GET /forecast/{meter_type}/{meter_id}`. */
export const forecastRoute = createRoute({
  method: "get",
  path: "/{meter_type}/{meter_id}",
  tags: ["forecasts"],
  summary: "Forecast a meter's next hours",
  description:
    "Continues the meter's hourly grid from its latest reading, with the meter's trained model (or the persistence ensemble when the model did not beat it).",
  request: {
    params: meterParamsSchema,
    query: z.object({
      horizon: z.string().check(problemCheck(horizonProblem)).optional().meta({
        description: "Hours ahead",
        type: "integer",
        minimum: 1,
        maximum: 24,
        default: 24,
      }),
    }),
  },
  responses: {
    200: { description: "The forecast", content: jsonContent(forecastSchema) },
    ...errorResponses({
      404: "The meter has no model (`model_not_found`): train one first",
      409: "The model is from an earlier version (`model_outdated`): train the meter again",
      422:
        "Bad parameters (`validation_failed`), or gaps in the last week of readings (`not_enough_recent_readings`, saying how many hours are needed)",
    }),
  },
});

/** Builds the `/forecast` routes. */
export function createForecastRoutes(forecaster: Forecaster): OpenAPIHono {
  const routes = new OpenAPIHono({ strict: false, defaultHook: validationHook });
  routes.openapi(forecastRoute, async (c) => {
    const meter = c.req.valid("param");
    checkMeter(c, meter);
    const horizon = Number(c.req.valid("query").horizon ?? "24");
    try {
      return c.json(await forecaster.forecast(meter, horizon), 200);
    } catch (error) {
      if (error instanceof ForecastError) {
        throw new ApiError(error.status, error.code, error.message);
      }
      throw error;
    }
  }, requestHook(forecastRoute.request));
  return routes;
}
