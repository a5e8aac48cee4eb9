/**
 * The meters resource: upload readings (merged by timestamp, all or
 * nothing), see what is stored for a meter, and list the stored meters.
 *
 * The routes are declared in `openapi_meters.ts`: their path and query parameters are
 * validated by those schemas, and the OpenAPI document is made from them.
 *
 * @module
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { type Broker, hourOffset, ReadingsRefused } from "../broker/broker.ts";
import { siteIdField } from "./openapi_meters.ts";
import type { ModelStore } from "../models/model_store.ts";
import { summarize } from "../meters/summary.ts";
import { parseUpload } from "../meters/upload.ts";
import type { MeterRef, MeterType } from "../domain/meter.ts";
import { uploadRefused } from "./upload_refusal.ts";
import { limitBody } from "./body_limit.ts";
import { refuseRepeatedKeys } from "./json_body.ts";
import { ApiError, fieldProblems, validationError } from "./errors.ts";
import { meterKey } from "../domain/meter.ts";
import { keptPage, openCursor, pageLimit, sealCursor } from "./listing.ts";
import { checkMeter, maySee } from "./access.ts";
import { requestHook, validationHook } from "./openapi.ts";
import { HOUR_MS } from "../domain/series.ts";
import {
  deleteMeterRoute,
  deleteReadingsRoute,
  linkMeterRoute,
  listMetersOfTypeRoute,
  listMetersRoute,
  meterRoute,
  recentReadingsRoute,
  uploadReadingsRoute,
} from "./openapi_meters.ts";
import { meterParamsSchema } from "./request_schemas.ts";

/** What the meter routes need. */
export interface MeterRoutesDeps {
  broker: Broker;
  models: ModelStore;
  /** The span readings may fall in: from `earliest`, to `maxDaysAhead` days after now. */
  readingsSpan: { earliest: number; maxDaysAhead: number };
}

/** Largest readings upload: three years of hourly CSV is about 1 MB. */
export const MAX_UPLOAD_BYTES = 16 * 1024 * 1024;

/** Most readings kept per meter (over six years of hours). */
export const MAX_READINGS_PER_METER = 60_000;
/** Largest body of `PUT /meters/{type}/{id}` (it holds a site id). */
export const MAX_LINK_BODY_BYTES = 4 * 1024;

/** The meter named by route parameters; a 422 naming each bad one. */
export function meterFromParams(type: string, id: string): MeterRef {
  const parsed = meterParamsSchema.safeParse({ meter_type: type, meter_id: id });
  if (!parsed.success) throw validationError(fieldProblems(parsed.error));
  return parsed.data;
}

/** Builds the `/meters` routes. */
export function createMeterRoutes(deps: MeterRoutesDeps): OpenAPIHono {
  const routes = new OpenAPIHono({ strict: false, defaultHook: validationHook });

  // Documented, not validated by the route: the handler reads the body
  // itself, and checks the path after the body limit as before.
  routes.openAPIRegistry.registerPath(uploadReadingsRoute);
  routes.post(
    "/:meter_type/:meter_id/readings",
    limitBody(
      MAX_UPLOAD_BYTES,
      "send it in parts (readings merge by timestamp). Nothing was stored.",
    ),
    async (c) => {
      const meter = meterFromParams(c.req.param("meter_type"), c.req.param("meter_id"));
      checkMeter(c, meter);
      const siteId = c.req.query("site_id");
      if (siteId !== undefined) {
        const checked = siteIdField.safeParse(siteId);
        if (!checked.success) {
          throw validationError(
            fieldProblems(checked.error).map((p) => ({ ...p, field: "site_id" })),
          );
        }
      }
      const json = /json/i.test(c.req.header("Content-Type") ?? "");
      const upload = parseUpload(await c.req.text(), json, {
        earliest: deps.readingsSpan.earliest,
        latest: Date.now() + deps.readingsSpan.maxDaysAhead * 86_400_000,
      });
      const stored = await deps.broker.getReadings(meter);

      // Readings stay on the meter's own hourly grid.
      const anchor = stored?.timestamps[0] ?? upload.series.timestamps[0];
      if (anchor !== undefined) {
        const offset = hourOffset(anchor);
        upload.series.timestamps.forEach((t, i) => {
          if (hourOffset(t) !== offset) {
            upload.problems.push({
              line: upload.lines[i],
              reason: `${
                new Date(t).toISOString()
              } is off the meter's hourly grid (readings fall at minute ${
                offset / 60_000
              } of each hour)`,
            });
          }
        });
        upload.problems.sort((a, b) => a.line - b.line);
      }
      if (upload.problems.length) {
        throw uploadRefused("invalid_readings", upload.problems, upload.unit);
      }
      // The merged series, from what was read above: no second read of it all.
      const byHour = new Map<number, number>();
      stored?.timestamps.forEach((t, i) => byHour.set(t, stored.values[i]));
      upload.series.timestamps.forEach((t, i) => byHour.set(t, upload.series.values[i]));
      if (byHour.size > MAX_READINGS_PER_METER) {
        throw new ApiError(
          422,
          "too_many_readings",
          `A meter keeps at most ${MAX_READINGS_PER_METER} readings; this upload would make ${byHour.size}. Nothing was stored.`,
        );
      }
      // The checks above give each line its message; the broker checks the
      // grid and the limit again in the merge itself, so that uploads racing
      // each other cannot pass them together.
      let merged;
      try {
        merged = await deps.broker.mergeReadings(meter, upload.series, {
          maxReadings: MAX_READINGS_PER_METER,
        });
      } catch (error) {
        if (!(error instanceof ReadingsRefused)) throw error;
        throw new ApiError(
          422,
          error.reason,
          error.reason === "too_many_readings"
            ? `A meter keeps at most ${MAX_READINGS_PER_METER} readings; with uploads stored meanwhile, this one would make ${error.detail}. Nothing was stored.`
            : `The readings are not on the meter's hourly grid: its readings, stored meanwhile, fall at minute ${error.detail} of each hour. Nothing was stored.`,
        );
      }
      const hours = [...byHour.keys()].sort((a, b) => a - b);
      const after = { timestamps: hours, values: hours.map((t) => byHour.get(t)!) };
      if (siteId !== undefined) await deps.broker.weather.setMeterSite(meter, siteId);
      return c.json({
        meter_id: meter.meter_id,
        meter_type: meter.meter_type,
        accepted: upload.series.timestamps.length,
        added: merged.added,
        replaced: merged.replaced,
        rejected: 0,
        readings: summarize(after, meter.meter_type),
        ...(siteId === undefined ? {} : { site: await siteOf(deps.broker, meter) }),
      });
    },
  );

  /** A page of stored meters: each with its readings count and model state. */
  const listMeters = async (
    meterType: MeterType | undefined,
    query: { limit?: string; cursor?: string },
    visible: (meter: MeterRef) => boolean,
  ) => {
    const page = await keptPage(
      async (after, limit) => {
        const page = await deps.broker.listMeters({ limit, after, meterType });
        return { items: page.meters, next: page.next };
      },
      visible,
      pageLimit(query.limit),
      openCursor(query.cursor),
    );
    const meters = await Promise.all(page.items.map(async (meter) => {
      const [count, trainedAt] = await Promise.all([
        deps.broker.countReadings(meter),
        deps.broker.modelTrainedAt(meter),
      ]);
      return {
        meter_id: meter.meter_id,
        meter_type: meter.meter_type,
        readings_count: count,
        model: trainedAt ? { trained_at: trainedAt } : null,
        href: `/meters/${meter.meter_type}/${meter.meter_id}`,
      };
    }));
    return { meters, next_cursor: sealCursor(page.next) };
  };

  routes.openapi(
    listMetersRoute,
    async (c) => c.json(await listMeters(undefined, c.req.valid("query"), maySee(c)), 200),
  );

  routes.openapi(listMetersOfTypeRoute, async (c) => {
    const { meter_type } = c.req.valid("param");
    return c.json(await listMeters(meter_type, c.req.valid("query"), maySee(c)), 200);
  }, requestHook(listMetersOfTypeRoute.request));

  routes.openapi(meterRoute, async (c) => {
    const meter = c.req.valid("param");
    checkMeter(c, meter);
    const [series, model, site] = await Promise.all([
      deps.broker.getReadings(meter),
      deps.models.describe(meter),
      siteOf(deps.broker, meter),
    ]);
    if (!series && !model && !site) {
      throw new ApiError(
        404,
        "meter_not_found",
        `Nothing is stored for ${meter.meter_type} meter "${meter.meter_id}". Upload its readings with POST /meters/${meter.meter_type}/${meter.meter_id}/readings.`,
      );
    }
    return c.json({
      meter_id: meter.meter_id,
      meter_type: meter.meter_type,
      readings: series ? summarize(series, meter.meter_type) : null,
      model: model ? { exists: true, ...model } : { exists: false },
      site,
    }, 200);
  });

  routes.put(
    "/:meter_type/:meter_id",
    limitBody(
      MAX_LINK_BODY_BYTES,
      'linking a meter takes only {"site_id": "…"}. Nothing was changed.',
    ),
    refuseRepeatedKeys(),
  );
  routes.openapi(linkMeterRoute, async (c) => {
    const meter = c.req.valid("param");
    checkMeter(c, meter);
    const { site_id } = c.req.valid("json");
    await deps.broker.weather.setMeterSite(meter, site_id);
    return c.json({
      meter_id: meter.meter_id,
      meter_type: meter.meter_type,
      site: await siteOf(deps.broker, meter),
    }, 200);
  }, requestHook(linkMeterRoute.request));

  routes.openapi(recentReadingsRoute, async (c) => {
    const meter = c.req.valid("param");
    checkMeter(c, meter);
    const hours = Number(c.req.valid("query").hours ?? "168");
    const series = await deps.broker.getReadings(meter);
    const last = series?.timestamps.at(-1);
    if (!series || last === undefined) {
      throw new ApiError(
        404,
        "meter_not_found",
        `No readings are stored for ${meter.meter_type} meter "${meter.meter_id}". Upload them with POST /meters/${meter.meter_type}/${meter.meter_id}/readings.`,
      );
    }
    const from = last - (hours - 1) * HOUR_MS;
    let start = series.timestamps.length;
    while (start > 0 && series.timestamps[start - 1] >= from) start--;
    const points = series.timestamps.slice(start).map((t, i) => ({
      timestamp: new Date(t).toISOString(),
      value: series.values[start + i],
    }));
    return c.json({ meter_id: meter.meter_id, meter_type: meter.meter_type, hours, points }, 200);
  }, requestHook(recentReadingsRoute.request));

  routes.openapi(deleteReadingsRoute, async (c) => {
    const meter = c.req.valid("param");
    checkMeter(c, meter);
    const query = c.req.valid("query");
    if (query.from === undefined && query.to === undefined) {
      throw validationError([{
        field: "from",
        message: "or to is needed: the range to delete (to delete the whole meter, DELETE it)",
      }]);
    }
    const from = query.from === undefined ? -8.64e15 : Date.parse(query.from);
    const to = query.to === undefined ? 8.64e15 : Date.parse(query.to);
    if (!(from < to)) throw validationError([{ field: "to", message: "must be after from" }]);
    if (await deps.broker.countReadings(meter) === 0) throw noReadings(meter);
    const deleted = await deps.broker.deleteReadings(meter, from, to);
    const left = await deps.broker.getReadings(meter);
    return c.json({
      meter_id: meter.meter_id,
      meter_type: meter.meter_type,
      deleted,
      readings: left ? summarize(left, meter.meter_type) : null,
    }, 200);
  }, requestHook(deleteReadingsRoute.request));

  routes.openapi(deleteMeterRoute, async (c) => {
    const meter = c.req.valid("param");
    checkMeter(c, meter);
    const outcome = await deps.broker.deleteMeter(meter);
    if (!outcome.deleted) {
      throw new ApiError(
        409,
        "task_active",
        `Meter ${
          meterKey(meter)
        } has a training task in progress (${outcome.activeTaskId}): cancel it (DELETE /trainmodel/${outcome.activeTaskId}) or let it end, then delete the meter. Nothing was removed.`,
        {
          task_id: outcome.activeTaskId,
          status_url: `/trainmodel/status/${outcome.activeTaskId}`,
        },
      );
    }
    const mirrored = await deps.models.remove(meter);
    const linked = await deps.broker.weather.meterSite(meter);
    if (linked !== null) await deps.broker.weather.setMeterSite(meter, null);
    if (outcome.readings === 0 && !outcome.model && !mirrored && linked === null) {
      throw new ApiError(
        404,
        "meter_not_found",
        `Nothing is stored for ${meter.meter_type} meter "${meter.meter_id}".`,
      );
    }
    return c.json({
      meter_id: meter.meter_id,
      meter_type: meter.meter_type,
      deleted: { readings: outcome.readings, model: outcome.model || mirrored },
    }, 200);
  }, requestHook(deleteMeterRoute.request));

  return routes;
}

/** The meter's site and how much temperature it has; null when the meter has none. */
async function siteOf(
  broker: Broker,
  meter: MeterRef,
): Promise<{ site_id: string; temperature_hours: number; calendar: boolean } | null> {
  const siteId = await broker.weather.meterSite(meter);
  if (siteId === null) return null;
  const [hours, calendar] = await Promise.all([
    broker.weather.countTemperatures(siteId),
    // One stored but unreadable is still one: a forecast then says what is wrong with it.
    broker.weather.getCalendar(siteId).then((c) => c !== null, () => true),
  ]);
  return { site_id: siteId, temperature_hours: hours, calendar };
}

function noReadings(meter: MeterRef): ApiError {
  return new ApiError(
    404,
    "meter_not_found",
    `No readings are stored for ${meter.meter_type} meter "${meter.meter_id}".`,
  );
}
