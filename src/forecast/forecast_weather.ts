/**
 * Weather in forecasts: a weather-aware model (one whose metadata holds a
 * weather correction) adds the correction for each forecast day whose
 * hours, the day before and the anchor days have a temperature at the
 * meter's site; any other day is forecast by the network alone, as trained
 * without weather. The answer says which.
 *
 * @module
 */
import type { Broker } from "../broker/broker.ts";
import type { MeterRef } from "../domain/meter.ts";
import { HOUR_MS, type HourlyGrid, type ReadingSeries } from "../domain/series.ts";
import {
  degreeHours,
  temperatureGrid,
  weatherCorrection,
  weatherInputs,
  type WeatherModel,
} from "../training/weather_features.ts";
import { SIMILAR_SEARCH_DAYS } from "../training/features.ts";

/** How a forecast used the weather. */
export interface ForecastWeather {
  /** True when the site's temperature corrected at least one forecast day. */
  used: boolean;
  /** The meter's site, or null when it has none. */
  site_id: string | null;
  /** Forecast hours whose day was corrected for the weather. */
  hours: number;
  /** What happened, in words. */
  message: string;
}

/** Adds a day's weather correction (standardised) or says there is none. */
export type WeatherCorrector = (
  grid: HourlyGrid,
  origin: number,
  issueHour: number,
  horizon: number,
) => Float64Array | null;

/** What the forecaster needs for weather: a corrector (null when none applies) and the report. */
export interface WeatherContext {
  corrector: WeatherCorrector | null;
  /** The report, given the forecast hours corrected. */
  report(hours: number, horizon: number): ForecastWeather;
}

/**
 * Reads the temperatures a forecast of `horizon` hours from `originTime`
 * needs (the anchor days before it, and the forecast hours), when the
 * model is weather-aware and the meter is linked to a site (`siteId`).
 */
export async function weatherContext(
  broker: Broker,
  meter: MeterRef,
  siteId: string | null,
  model: WeatherModel | undefined,
  originTime: number,
  horizon: number,
): Promise<WeatherContext> {
  if (!model) {
    return {
      corrector: null,
      report: () => ({
        used: false,
        site_id: siteId,
        hours: 0,
        message: siteId
          ? `The model was trained without weather (it did not lower the validation error, or site "${siteId}" had too little temperature then). To try again, upload the site's temperature for the training period (POST /sites/${siteId}/weather) and train again.`
          : `The model does not use weather: link the meter to a site with temperatures (PUT /meters/${meter.meter_type}/${meter.meter_id} {"site_id": …}) and train again.`,
      }),
    };
  }
  const from = originTime - (SIMILAR_SEARCH_DAYS + 2) * 24 * HOUR_MS;
  const temperature = siteId
    ? await broker.weather.getTemperatures(siteId, from, originTime + horizon * HOUR_MS)
    : null;
  const fallback = (why: string, fix: string) => ({
    used: false,
    site_id: siteId,
    hours: 0,
    message: `${why}: forecast by the model without weather. ${fix}`,
  });
  if (!siteId) {
    return {
      corrector: null,
      report: () =>
        fallback(
          "The model is weather-aware, but the meter is no longer linked to a site",
          `Link it again to use the weather: PUT /meters/${meter.meter_type}/${meter.meter_id} {"site_id": …}.`,
        ),
    };
  }
  return {
    corrector: temperature?.timestamps.length ? corrector(model, temperature) : null,
    report(hours, total) {
      if (hours === 0) {
        return fallback(
          `Site "${siteId}" has no temperature for the forecast hours (or the day before them)`,
          `Upload the site's temperature for those hours (observed, or a weather forecast up to 16 days ahead) to use it: POST /sites/${siteId}/weather.`,
        );
      }
      return {
        used: true,
        site_id: siteId,
        hours,
        message: hours === total
          ? `Corrected for the temperature at site "${siteId}".`
          : `Corrected for the temperature at site "${siteId}" for ${hours} of ${total} hours; the others have no temperature and are forecast without weather.`,
      };
    },
  };
}

function corrector(model: WeatherModel, temperature: ReadingSeries): WeatherCorrector {
  let cached: { start: number; length: number; degrees: ReturnType<typeof degreeHours> } | null =
    null;
  const balance = { heating: model.heating_balance_c, cooling: model.cooling_balance_c };
  return (grid, origin, issueHour, horizon) => {
    const length = origin + horizon;
    if (!cached || cached.start !== grid.start || cached.length < length) {
      const temps = temperatureGrid(grid.start, length, temperature);
      cached = { start: grid.start, length, degrees: degreeHours(temps, balance) };
    }
    const inputs = weatherInputs(grid, cached.degrees, origin, horizon);
    return inputs ? weatherCorrection(model, inputs, issueHour, horizon) : null;
  };
}
