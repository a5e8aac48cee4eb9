/**
 * The `/sites` routes as OpenAPI route declarations: a site's hourly
 * outdoor temperature, uploaded and read back. `site_routes.ts` registers
 * the handlers.
 *
 * @module
 */
import { createRoute, z } from "@hono/zod-openapi";
import { errorResponses, jsonContent } from "./openapi.ts";
import { timeProblem } from "./openapi_meters.ts";
import { problemCheck } from "./request_schemas.ts";
import { siteIdProblem } from "../domain/site.ts";

const timestamp = z.iso.datetime().meta({ description: "ISO 8601 time, UTC" });

/** `/{site_id}`. */
export const siteParamsSchema = z.object({
  site_id: z.string().check(problemCheck(siteIdProblem)).meta({
    description: "The site: a name of your choosing, such as `bedford`",
    example: "bedford",
  }),
});

/** What is stored of a site's temperatures. */
export const temperatureSummarySchema = z.object({
  count: z.int(),
  first: timestamp,
  last: timestamp,
  future_hours: z.int().meta({
    description: "Hours after now: a weather forecast, replaced when observations are uploaded",
  }),
}).meta({ id: "TemperatureSummary" });

/** The answer to a weather upload. */
export const weatherUploadResultSchema = z.object({
  site_id: z.string(),
  accepted: z.int(),
  added: z.int(),
  replaced: z.int().meta({ description: "Hours re-sent (observations replacing a forecast)" }),
  temperatures: temperatureSummarySchema,
}).meta({ id: "WeatherUploadResult" });

/** A site's temperatures. */
export const siteWeatherSchema = z.object({
  site_id: z.string(),
  temperatures: temperatureSummarySchema,
  points: z.array(z.object({ timestamp, temperature: z.number() })).optional().meta({
    description: "The hours in `[from, to)`, when either is asked for",
  }),
}).meta({ id: "SiteWeather" });

/** `POST /sites/{site_id}/weather`: the handler reads the body itself, like readings. */
export const uploadWeatherRoute = createRoute({
  method: "post",
  path: "/{site_id}/weather",
  tags: ["sites"],
  summary: "Upload a site's hourly outdoor temperature",
  description:
    'Merged by timestamp: a re-sent hour replaces the old value, so a weather forecast for the coming hours is replaced by observations later. All or nothing: one bad line and nothing is stored. CSV as weather services publish it (a timestamp column, then °C; with a header, the first column named like `air_temperature [degC]` or `temperature`, other columns ignored), or JSON `[{"timestamp", "temperature"}]` when the Content-Type names JSON. Timestamps follow the meters\' convention (the same zone, or local time without one); up to 16 days ahead.',
  request: {
    params: siteParamsSchema,
    body: {
      required: true,
      content: {
        "text/csv": {
          schema: z.string().meta({
            example:
              "datetime,air_temperature [degC],rltv_hum [%]\n2019-01-01 00:00:00,8.2,81.6\n2019-01-01 01:00:00,8.5,79.1",
          }),
        },
        "application/json": {
          schema: z.array(z.object({ timestamp: z.string(), temperature: z.number() })),
        },
      },
    },
  },
  responses: {
    200: { description: "What was stored", content: jsonContent(weatherUploadResultSchema) },
    ...errorResponses({
      413: "The upload is over 16 MiB (`body_too_large`): send it in parts",
      422:
        "A bad site id (`validation_failed`); bad lines, listed in `error.details.problems` with `problem_count` (`invalid_weather`); or over the site's limit (`too_many_temperatures`)",
    }),
  },
});

/** `GET /sites/{site_id}/weather`. */
export const siteWeatherRoute = createRoute({
  method: "get",
  path: "/{site_id}/weather",
  tags: ["sites"],
  summary: "Read a site's temperatures",
  description:
    "What is stored (count, span, hours of forecast ahead); with `from` or `to`, the hours in that range too (at most 366 days).",
  request: {
    params: siteParamsSchema,
    query: z.object({
      from: z.string().check(problemCheck(timeProblem)).optional().meta({
        description: "First hour (ISO 8601); default: the first stored",
        format: "date-time",
      }),
      to: z.string().check(problemCheck(timeProblem)).optional().meta({
        description: "The hour after the last (ISO 8601); default: after the latest",
        format: "date-time",
      }),
    }),
  },
  responses: {
    200: { description: "The site's temperatures", content: jsonContent(siteWeatherSchema) },
    ...errorResponses({
      404: "The site has no temperatures (`site_not_found`)",
      422: "Bad path or query values, or a range over 366 days (`validation_failed`)",
    }),
  },
});
