/**
 * The `/sites` routes as OpenAPI route declarations: a site's hourly
 * outdoor temperature, uploaded and read back, and its working calendar
 * (the weekdays it does not work), set, read and removed. `site_routes.ts`
 * registers the handlers.
 *
 * @module
 */
import { createRoute, z } from "@hono/zod-openapi";
import { errorResponses, jsonContent } from "./openapi.ts";
import { timeProblem } from "./openapi_meters.ts";
import { problemCheck } from "./request_schemas.ts";
import { siteIdProblem } from "../domain/site.ts";
import { closureProblem, MAX_CLOSURES, PUBLIC_HOLIDAY_REGIONS } from "../domain/calendar.ts";

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

/** Days ahead, today included, that a calendar's answer counts the non-working weekdays of. */
export const CALENDAR_SUMMARY_DAYS = 365;

const regionError = `must be one of: ${PUBLIC_HOLIDAY_REGIONS.join(", ")}; or null for none`;

/** The body of `PUT /sites/{site_id}/calendar`: both fields may be left out. */
export const siteCalendarBodySchema = z.strictObject({
  public_holidays: z.enum(PUBLIC_HOLIDAY_REGIONS, { error: regionError }).nullable().optional()
    .meta({
      description:
        "A region whose public holidays the site does not work (`england-and-wales`, `scotland` and `northern-ireland`: bank holidays; `united-states`: federal holidays as observed), or null for none (the default)",
      default: null,
      example: "england-and-wales",
    }),
  closures: z.array(
    z.string({ error: 'must be a string: a date "YYYY-MM-DD" or a range "YYYY-MM-DD/YYYY-MM-DD"' })
      .check(problemCheck((entry) => closureProblem(entry)))
      .meta({ pattern: "^\\d{4}-\\d{2}-\\d{2}(/\\d{4}-\\d{2}-\\d{2})?$" }),
    { error: 'must be a list of dates "YYYY-MM-DD" or ranges "YYYY-MM-DD/YYYY-MM-DD"' },
  ).max(
    MAX_CLOSURES,
    `must list at most ${MAX_CLOSURES} closures; write a run of days as one range "YYYY-MM-DD/YYYY-MM-DD"`,
  ).optional().meta({
    description:
      "The site's own closures: a day `YYYY-MM-DD`, or a range `YYYY-MM-DD/YYYY-MM-DD` (both days included, at most 366 days); default none",
    default: [],
    example: ["2026-12-24/2027-01-01", "2027-08-02"],
  }),
}, {
  error: (issue) =>
    issue.code === "invalid_type"
      ? 'must be a JSON object such as {"public_holidays": "england-and-wales", "closures": ["2026-12-24/2027-01-01"]}'
      : undefined,
});

/** A site's calendar as stored, with what it means for the coming year. */
export const siteCalendarSchema = z.object({
  site_id: z.string(),
  public_holidays: z.enum(PUBLIC_HOLIDAY_REGIONS).nullable(),
  closures: z.array(z.string()),
  non_working_weekdays_next_365_days: z.int().meta({
    description:
      "Weekdays (Monday to Friday) from today (UTC) for 365 days, today included, that are public holidays or closures: the days training and forecasting treat like a weekend day",
  }),
  next_non_working_weekday: z.string().nullable().meta({
    description: "The first of them (`YYYY-MM-DD`), or null when there is none",
  }),
}).meta({ id: "SiteCalendar" });

/** `PUT /sites/{site_id}/calendar`. */
export const putSiteCalendarRoute = createRoute({
  method: "put",
  path: "/{site_id}/calendar",
  tags: ["sites"],
  summary: "Set a site's working calendar",
  description:
    'The weekdays the site does not work: a region\'s public holidays and the site\'s own closures (`{"public_holidays": "england-and-wales", "closures": ["2026-12-24/2027-01-01"]}`). Replaces any calendar the site had, whole. Training and forecasting for meters linked to the site treat a non-working weekday like a weekend day. All or nothing: one bad field and nothing is stored.',
  request: {
    params: siteParamsSchema,
    body: { required: true, content: jsonContent(siteCalendarBodySchema) },
  },
  responses: {
    200: { description: "The calendar now stored", content: jsonContent(siteCalendarSchema) },
    ...errorResponses({
      413: "The body is over 64 KiB (`body_too_large`); nothing is stored",
      415: "The body is not sent as JSON (`unsupported_media_type`)",
      422:
        "A bad site id, an unknown region, a malformed closure (named by its index, such as `closures.2`), over 1000 closures, an unknown field, or a body that is not JSON (`validation_failed`, naming each)",
    }),
  },
});

const CALENDAR_NOT_FOUND = "The site has no calendar (`calendar_not_found`)";

/** `GET /sites/{site_id}/calendar`. */
export const siteCalendarRoute = createRoute({
  method: "get",
  path: "/{site_id}/calendar",
  tags: ["sites"],
  summary: "Read a site's working calendar",
  request: { params: siteParamsSchema },
  responses: {
    200: { description: "The site's calendar", content: jsonContent(siteCalendarSchema) },
    ...errorResponses({
      404: CALENDAR_NOT_FOUND,
      422: "A bad site id (`validation_failed`)",
    }),
  },
});

/** `DELETE /sites/{site_id}/calendar`. */
export const deleteSiteCalendarRoute = createRoute({
  method: "delete",
  path: "/{site_id}/calendar",
  tags: ["sites"],
  summary: "Remove a site's working calendar",
  description:
    "Every weekday is a working day again for the site's meters. The site's temperatures stay.",
  request: { params: siteParamsSchema },
  responses: {
    200: {
      description: "Removed",
      content: jsonContent(
        z.object({ site_id: z.string(), deleted: z.literal(true) }).meta({
          id: "DeletedSiteCalendar",
        }),
      ),
    },
    ...errorResponses({
      404: CALENDAR_NOT_FOUND,
      422: "A bad site id (`validation_failed`)",
    }),
  },
});
