/**
 * The sites resource: a site's hourly outdoor temperature, uploaded (merged
 * by timestamp, all or nothing, like readings) and read back. Meters link
 * to a site (`PUT /meters/{type}/{id}`); weather-aware models use its
 * temperature. Sites are shared: any caller that may upload readings may
 * upload a site's weather, and set its working calendar (the weekdays it
 * does not work: public holidays, closures), which training and forecasting
 * treat like weekend days.
 *
 * @module
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Broker } from "../broker/broker.ts";
import { TemperaturesRefused } from "../broker/weather_store.ts";
import { parseWeatherUpload } from "../meters/weather_upload.ts";
import { uploadRefused } from "./upload_refusal.ts";
import { limitBody } from "./body_limit.ts";
import { refuseRepeatedKeys } from "./json_body.ts";
import { ApiError, fieldProblems, validationError } from "./errors.ts";
import { requestHook, validationHook } from "./openapi.ts";
import {
  CALENDAR_SUMMARY_DAYS,
  deleteSiteCalendarRoute,
  putSiteCalendarRoute,
  siteCalendarRoute,
  siteParamsSchema,
  siteWeatherRoute,
  uploadWeatherRoute,
} from "./openapi_sites.ts";
import { HOUR_MS, type ReadingSeries } from "../domain/series.ts";
import {
  dayDate,
  dayNumber,
  MAX_CLOSURES,
  nonWorkingDays,
  type SiteCalendar,
} from "../domain/calendar.ts";

/** What the site routes need. */
export interface SiteRoutesDeps {
  broker: Broker;
  /** The earliest time a temperature may have (as for readings). */
  readingsSpan: { earliest: number };
}

/** Largest weather upload. */
export const MAX_WEATHER_UPLOAD_BYTES = 16 * 1024 * 1024;
/**
 * Largest calendar body: the largest calendar there is (1,000 ranges of
 * about 25 bytes) pretty-printed fits; a bigger one is refused unread.
 */
export const MAX_CALENDAR_BODY_BYTES = 64 * 1024;
/** Most hours kept per site (over 20 years). */
export const MAX_TEMPERATURES_PER_SITE = 200_000;
/** How far ahead a weather forecast may reach, in days. */
export const WEATHER_FORECAST_DAYS = 16;
/** Longest range read back at once, in days. */
const MAX_RANGE_DAYS = 366;
/** The site named by a route parameter; a 422 naming it when bad. */
function siteFromParams(value: string): string {
  const parsed = siteParamsSchema.safeParse({ site_id: value });
  if (!parsed.success) throw validationError(fieldProblems(parsed.error));
  return parsed.data.site_id;
}

/** The 422 of an upload that would pass the site's cap, with its counts and what to do. */
function tooManyTemperatures(refused: TemperaturesRefused): ApiError {
  const { stored, wouldHave } = refused;
  return new ApiError(
    422,
    "too_many_temperatures",
    `A site keeps at most ${MAX_TEMPERATURES_PER_SITE} hours of temperature; it holds ${stored} and this upload would make ${wouldHave}. Nothing was stored. Send at most ${
      Math.max(0, MAX_TEMPERATURES_PER_SITE - stored)
    } new hours (hours already stored are replaced and do not count).`,
  );
}

/** Count, span and hours ahead of a site's temperatures. */
function summary(series: ReadingSeries, now = Date.now()) {
  return {
    count: series.timestamps.length,
    first: new Date(series.timestamps[0]).toISOString(),
    last: new Date(series.timestamps.at(-1)!).toISOString(),
    future_hours: series.timestamps.filter((t) => t > now).length,
  };
}

/**
 * A site's calendar as answered: what is stored, and its non-working
 * weekdays from today (UTC) for `CALENDAR_SUMMARY_DAYS` days.
 */
export function calendarAnswer(siteId: string, calendar: SiteCalendar, now = Date.now()) {
  const today = dayNumber(now);
  const days = [...nonWorkingDays(calendar, today, today + CALENDAR_SUMMARY_DAYS - 1)];
  return {
    site_id: siteId,
    public_holidays: calendar.public_holidays,
    closures: calendar.closures,
    non_working_weekdays_next_365_days: days.length,
    next_non_working_weekday: days.length ? dayDate(Math.min(...days)) : null,
  };
}

/** The 404 of a site without a calendar, saying how to set one. */
function calendarNotFound(siteId: string): ApiError {
  return new ApiError(
    404,
    "calendar_not_found",
    `Site "${siteId}" has no calendar. Set one with PUT /sites/${siteId}/calendar {"public_holidays": "england-and-wales", "closures": ["YYYY-MM-DD/YYYY-MM-DD"]}.`,
  );
}

/** Builds the `/sites` routes. */
export function createSiteRoutes(deps: SiteRoutesDeps): OpenAPIHono {
  const routes = new OpenAPIHono({ strict: false, defaultHook: validationHook });

  routes.openAPIRegistry.registerPath(uploadWeatherRoute);
  routes.post(
    "/:site_id/weather",
    limitBody(
      MAX_WEATHER_UPLOAD_BYTES,
      "send it in parts (temperatures merge by timestamp). Nothing was stored.",
    ),
    async (c) => {
      const siteId = siteFromParams(c.req.param("site_id"));
      const json = /json/i.test(c.req.header("Content-Type") ?? "");
      const upload = parseWeatherUpload(await c.req.text(), json, {
        earliest: deps.readingsSpan.earliest,
        latest: Date.now() + WEATHER_FORECAST_DAYS * 86_400_000,
      });
      if (upload.problems.length) {
        throw uploadRefused("invalid_weather", upload.problems, upload.unit);
      }
      const stored = await deps.broker.weather.getTemperatures(siteId);
      const byHour = new Map<number, number>();
      stored?.timestamps.forEach((t, i) => byHour.set(t, stored.values[i]));
      upload.series.timestamps.forEach((t, i) => byHour.set(t, upload.series.values[i]));
      // The cap is checked by the store in the merge itself, not here from
      // the read above, so that uploads racing each other cannot pass it together.
      let merged;
      try {
        merged = await deps.broker.weather.mergeTemperatures(siteId, upload.series, {
          maxTemperatures: MAX_TEMPERATURES_PER_SITE,
        });
      } catch (error) {
        if (!(error instanceof TemperaturesRefused)) throw error;
        throw tooManyTemperatures(error);
      }
      const hours = [...byHour.keys()].sort((a, b) => a - b);
      return c.json({
        site_id: siteId,
        accepted: upload.series.timestamps.length,
        added: merged.added,
        replaced: merged.replaced,
        temperatures: summary({ timestamps: hours, values: hours.map((t) => byHour.get(t)!) }),
      });
    },
  );

  routes.openapi(siteWeatherRoute, async (c) => {
    const { site_id } = c.req.valid("param");
    const query = c.req.valid("query");
    const all = await deps.broker.weather.getTemperatures(site_id);
    if (!all?.timestamps.length) {
      throw new ApiError(
        404,
        "site_not_found",
        `Site "${site_id}" has no temperatures. Upload them with POST /sites/${site_id}/weather.`,
      );
    }
    if (query.from === undefined && query.to === undefined) {
      return c.json({ site_id, temperatures: summary(all) }, 200);
    }
    const from = query.from === undefined ? all.timestamps[0] : Date.parse(query.from);
    const to = query.to === undefined ? all.timestamps.at(-1)! + HOUR_MS : Date.parse(query.to);
    if (!(from < to)) throw validationError([{ field: "to", message: "must be after from" }]);
    if (to - from > MAX_RANGE_DAYS * 86_400_000) {
      throw validationError([{
        field: "to",
        message: `must be at most ${MAX_RANGE_DAYS} days after from; read longer spans in parts`,
      }]);
    }
    const points: { timestamp: string; temperature: number }[] = [];
    all.timestamps.forEach((t, i) => {
      if (t >= from && t < to) {
        points.push({ timestamp: new Date(t).toISOString(), temperature: all.values[i] });
      }
    });
    return c.json({ site_id, temperatures: summary(all), points }, 200);
  }, requestHook(siteWeatherRoute.request));

  routes.put(
    "/:site_id/calendar",
    limitBody(
      MAX_CALENDAR_BODY_BYTES,
      `a calendar holds at most ${MAX_CLOSURES} closures (write a run of days as one range "YYYY-MM-DD/YYYY-MM-DD"). Nothing was stored.`,
    ),
    refuseRepeatedKeys(),
  );
  routes.openapi(putSiteCalendarRoute, async (c) => {
    const { site_id } = c.req.valid("param");
    const body = c.req.valid("json");
    const calendar: SiteCalendar = {
      public_holidays: body.public_holidays ?? null,
      closures: body.closures ?? [],
    };
    await deps.broker.weather.setCalendar(site_id, calendar);
    return c.json(calendarAnswer(site_id, calendar), 200);
  }, requestHook(putSiteCalendarRoute.request));

  routes.openapi(siteCalendarRoute, async (c) => {
    const { site_id } = c.req.valid("param");
    const calendar = await deps.broker.weather.getCalendar(site_id);
    if (!calendar) throw calendarNotFound(site_id);
    return c.json(calendarAnswer(site_id, calendar), 200);
  });

  routes.openapi(deleteSiteCalendarRoute, async (c) => {
    const { site_id } = c.req.valid("param");
    // Removed without being read: a calendar this version cannot read (see `parseStoredCalendar`)
    // is removed too. Of two DELETEs at once, one removes it and the other finds none.
    if (!await deps.broker.weather.setCalendar(site_id, null)) throw calendarNotFound(site_id);
    return c.json({ site_id, deleted: true as const }, 200);
  });

  return routes;
}
