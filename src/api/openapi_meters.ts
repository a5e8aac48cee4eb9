/**
 * The `/meters` routes as OpenAPI route declarations: what each takes and
 * every answer it can give. `meter_routes.ts` registers its handlers on
 * them; paths are relative to where the routes are mounted.
 *
 * @module
 */
import { createRoute, z } from "@hono/zod-openapi";
import { pageQuerySchema } from "./listing.ts";
import { errorResponses, jsonContent } from "./openapi.ts";
import {
  deletedMeterSchema,
  deletedReadingsSchema,
  meterDetailSchema,
  meterLinkSchema,
  meterPageSchema,
  readingsCsvSchema,
  readingsJsonSchema,
  recentReadingsSchema,
  uploadResultSchema,
} from "./openapi_schemas.ts";
import { meterParamsSchema, meterTypeParam, problemCheck } from "./request_schemas.ts";
import { siteIdProblem } from "../domain/site.ts";

/** `?site_id=` of a readings upload, and `site_id` of a link: a site's id. */
export const siteIdField = z.string().check(problemCheck(siteIdProblem));

/**
 * `POST /meters/{meter_type}/{meter_id}/readings`. Its handler reads the
 * body itself (CSV or JSON, every bad line named, a 413 past the limit), so
 * this declaration only documents it.
 */
export const uploadReadingsRoute = createRoute({
  method: "post",
  path: "/{meter_type}/{meter_id}/readings",
  tags: ["meters"],
  summary: "Upload a meter's readings",
  description:
    "Merged by timestamp: a re-sent hour replaces the old value. All or nothing: one bad line and nothing is stored. A body whose Content-Type names JSON is read as JSON, any other as CSV. At most 60,000 readings a meter, all at the same minute of the hour.",
  request: {
    params: meterParamsSchema,
    query: z.object({
      site_id: siteIdField.optional().meta({
        description:
          "Links the meter to this site (its weather) once the upload is stored, as `PUT /meters/{meter_type}/{meter_id}` does",
      }),
    }),
    body: {
      required: true,
      content: {
        "text/csv": { schema: readingsCsvSchema },
        "application/json": { schema: readingsJsonSchema },
      },
    },
  },
  responses: {
    200: { description: "What was stored", content: jsonContent(uploadResultSchema) },
    ...errorResponses({
      413: "The upload is over 16 MiB (`body_too_large`): send it in parts",
      422:
        "Bad path parameters (`validation_failed`); bad lines, listed in `error.details.problems` with `problem_count` (`invalid_readings`); or over the meter's limit or off its hourly grid (`too_many_readings`, `off_grid`)",
    }),
  },
});

const PAGE_ERRORS = {
  400: "The cursor is not one this listing handed out (`bad_cursor`)",
  422: "A bad query or path value (`validation_failed`, naming each)",
} as const;

/** `GET /meters`. */
export const listMetersRoute = createRoute({
  method: "get",
  path: "/",
  tags: ["meters"],
  summary: "List the meters with readings",
  description: "By type, then id.",
  request: { query: pageQuerySchema },
  responses: {
    200: { description: "A page of meters", content: jsonContent(meterPageSchema) },
    ...errorResponses(PAGE_ERRORS),
  },
});

/** `GET /meters/{meter_type}`. */
export const listMetersOfTypeRoute = createRoute({
  method: "get",
  path: "/{meter_type}",
  tags: ["meters"],
  summary: "List the meters of one type",
  request: { params: z.object({ meter_type: meterTypeParam }), query: pageQuerySchema },
  responses: {
    200: { description: "A page of meters", content: jsonContent(meterPageSchema) },
    ...errorResponses(PAGE_ERRORS),
  },
});

/** `GET /meters/{meter_type}/{meter_id}`. */
export const meterRoute = createRoute({
  method: "get",
  path: "/{meter_type}/{meter_id}",
  tags: ["meters"],
  summary: "What is stored of a meter",
  description: "Count, first and last timestamp, gaps, and the model (when trained, its metrics).",
  request: { params: meterParamsSchema },
  responses: {
    200: { description: "The meter", content: jsonContent(meterDetailSchema) },
    ...errorResponses({
      404: "Nothing is stored for the meter (`meter_not_found`)",
      422: "Bad path parameters (`validation_failed`, naming each)",
    }),
  },
});

/** `PUT /meters/{meter_type}/{meter_id}`. */
export const linkMeterRoute = createRoute({
  method: "put",
  path: "/{meter_type}/{meter_id}",
  tags: ["meters"],
  summary: "Link a meter to a site",
  description:
    'Sets the site whose outdoor temperature the meter\'s model may use (`{"site_id": "bedford"}`), or unlinks it (`{"site_id": null}`). The site\'s temperatures may be uploaded before or after (`POST /sites/{site_id}/weather`). Training tries weather when the site has temperature for the training period; train again after linking. The site\'s working calendar (`PUT /sites/{site_id}/calendar`) is followed by the next forecast at once, and learnt from by the next training.',
  request: {
    params: meterParamsSchema,
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z.object({
            site_id: z.string({
              error: 'is required: a site id (a string, such as "bedford"), or null to unlink',
            }).check(problemCheck(siteIdProblem)).nullable().meta({
              description: "The site, or null to unlink",
              example: "bedford",
            }),
          }).strict(),
        },
      },
    },
  },
  responses: {
    200: { description: "The meter's site now", content: jsonContent(meterLinkSchema) },
    ...errorResponses({
      413: "The body is over 4 KiB (`body_too_large`); nothing is changed",
      415: "The body is not sent as JSON (`unsupported_media_type`)",
      422: "Bad path parameters or body (`validation_failed`, naming each)",
    }),
  },
});

/** Most hours of readings `GET …/readings` answers (92 days). */
export const MAX_RECENT_HOURS = 2208;

/** What is wrong with an `hours` value, in words; null when it is fine. */
function hoursProblem(value: string): string | null {
  const hours = Number(value);
  if (/^\d+$/.test(value) && hours >= 1 && hours <= MAX_RECENT_HOURS) return null;
  return `must be a whole number of hours from 1 to ${MAX_RECENT_HOURS}`;
}

/** `GET /meters/{meter_type}/{meter_id}/readings`. */
export const recentReadingsRoute = createRoute({
  method: "get",
  path: "/{meter_type}/{meter_id}/readings",
  tags: ["meters"],
  summary: "A meter's latest readings",
  description:
    "The readings of the last `hours` hours up to the meter's latest reading (not up to now: a meter's data may be old), as the dashboard charts them beside the forecast.",
  request: {
    params: meterParamsSchema,
    query: z.object({
      hours: z.string().check(problemCheck(hoursProblem)).optional().meta({
        description: "Hours back from the latest reading",
        type: "integer",
        minimum: 1,
        maximum: MAX_RECENT_HOURS,
        default: 168,
      }),
    }),
  },
  responses: {
    200: { description: "The readings", content: jsonContent(recentReadingsSchema) },
    ...errorResponses({
      404: "The meter has no readings (`meter_not_found`)",
      422: "Bad path or query values (`validation_failed`, naming each)",
    }),
  },
});

/** An ISO 8601 time with its offset, to the minute, second or millisecond. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * What is wrong with a time in a query (`from`, `to`), in words; null when
 * it is fine. A `+01:00` offset written as is in a URL arrives as ` 01:00`
 * (a `+` in a query means a space): the answer says to write it `%2B`.
 */
export function timeProblem(value: string, example = "2018-12-31T00:00:00Z"): string | null {
  if (ISO_TIME.test(value) && Number.isFinite(Date.parse(value))) return null;
  const plus = value.replace(/ (\d{2}:\d{2})$/, "+$1");
  if (plus !== value && ISO_TIME.test(plus)) {
    return `must be an ISO 8601 time with its offset; its "+" arrived as a space (in a URL query "+" means one): write it %2B, as in ${
      plus.replace("+", "%2B")
    }`;
  }
  return `must be an ISO 8601 time with its offset, such as ${example}`;
}

/** `DELETE /meters/{meter_type}/{meter_id}/readings`. */
export const deleteReadingsRoute = createRoute({
  method: "delete",
  path: "/{meter_type}/{meter_id}/readings",
  tags: ["meters"],
  summary: "Delete a range of a meter's readings",
  description:
    "Removes the readings at `from` or later and before `to` (either may be left out, not both), for example the zeros an export wrote for hours it did not have. The model is kept; train again to forget the readings.",
  request: {
    params: meterParamsSchema,
    query: z.object({
      from: z.string().check(problemCheck(timeProblem)).optional().meta({
        description: "First hour removed (ISO 8601); default: the first reading",
        format: "date-time",
      }),
      to: z.string().check(problemCheck(timeProblem)).optional().meta({
        description: "The hour after the last one removed (ISO 8601); default: after the latest",
        format: "date-time",
      }),
    }),
  },
  responses: {
    200: {
      description: "What was removed and what is left",
      content: jsonContent(deletedReadingsSchema),
    },
    ...errorResponses({
      404: "The meter has no readings (`meter_not_found`)",
      422:
        "Bad path or query values, neither `from` nor `to`, or `from` not before `to` (`validation_failed`, naming each)",
    }),
  },
});

/** `DELETE /meters/{meter_type}/{meter_id}`. */
export const deleteMeterRoute = createRoute({
  method: "delete",
  path: "/{meter_type}/{meter_id}",
  tags: ["meters"],
  summary: "Delete a meter with its model",
  description:
    "Removes the meter's readings and its trained model, in one step, and its link to a site (the site's weather stays). Refused while a training task for the meter is active: cancel it first.",
  request: { params: meterParamsSchema },
  responses: {
    200: { description: "What was removed", content: jsonContent(deletedMeterSchema) },
    ...errorResponses({
      404: "Nothing is stored for the meter (`meter_not_found`)",
      409: "A training task for the meter is active (`task_active`, its id in `error.details`)",
      422: "Bad path parameters (`validation_failed`, naming each)",
    }),
  },
});
