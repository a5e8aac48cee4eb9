/**
 * The forecasts resource: `GET /forecast/{meter_type}/{meter_id}?horizon=24`.
 *
 * @module
 */
import { Hono } from "hono";
import { type Forecaster, ForecastError } from "../forecast/forecaster.ts";
import { ApiError, validationError } from "./errors.ts";
import { meterFromParams } from "./meter_routes.ts";

/** Builds the `/forecast` routes. */
export function createForecastRoutes(forecaster: Forecaster): Hono {
  const routes = new Hono({ strict: false });
  routes.get("/:meter_type/:meter_id", async (c) => {
    const meter = meterFromParams(c.req.param("meter_type"), c.req.param("meter_id"));
    const raw = c.req.query("horizon") ?? "24";
    const horizon = Number(raw);
    if (!/^\d+$/.test(raw) || horizon < 1 || horizon > 24) {
      throw validationError([{
        field: "horizon",
        message: "must be a whole number of hours from 1 to 24",
      }]);
    }
    try {
      return c.json(await forecaster.forecast(meter, horizon));
    } catch (error) {
      if (error instanceof ForecastError) {
        throw new ApiError(error.status, error.code, error.message);
      }
      throw error;
    }
  });
  return routes;
}
