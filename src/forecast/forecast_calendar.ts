/**
 * The site calendar in forecasts: the weekdays the meter's site names as
 * holidays or closures, over the grid a forecast reads and the hours it
 * forecasts, so that a non-working weekday ahead is anchored on weekend
 * days (see `training/features.ts`). The answer lists those ahead.
 *
 * @module
 */
import type { Broker } from "../broker/broker.ts";
import { dayDate, dayNumber, nonWorkingDays } from "../domain/calendar.ts";
import { HOUR_MS } from "../domain/series.ts";

/** What a forecast says about its site's calendar. */
export interface ForecastCalendar {
  /** The meter's site, or null when it has none. */
  site_id: string | null;
  /**
   * Whether the forecast followed the site's calendar: the site has one and
   * the model served the forecast (the persistence ensemble reads none).
   */
  used: boolean;
  /** The forecast's weekdays (`YYYY-MM-DD`) forecast as non-working days. */
  non_working_days: string[];
}

/** The non-working weekdays for a forecast's grid, and the report. */
export interface CalendarContext {
  /** Day numbers from the grid's start to `reach` hours ahead; undefined without a calendar. */
  nonWorking: ReadonlySet<number> | undefined;
  report: ForecastCalendar;
}

/**
 * Reads the site's calendar for a forecast of `horizon` hours from
 * `originTime` on a grid starting at `gridStart`. The non-working days run
 * to `reach` hours from the origin: the model forecasts whole days, and
 * each day's inputs hold its whole anchor, so hours past the horizon shape
 * the hours within it (as in training, where the calendar covers them all).
 */
export async function calendarContext(
  broker: Broker,
  siteId: string | null,
  gridStart: number,
  originTime: number,
  horizon: number,
  reach: number = horizon,
): Promise<CalendarContext> {
  const calendar = siteId === null ? null : await broker.weather.getCalendar(siteId);
  if (!calendar) {
    return {
      nonWorking: undefined,
      report: { site_id: siteId, used: false, non_working_days: [] },
    };
  }
  const reached = dayNumber(originTime + (Math.max(horizon, reach) - 1) * HOUR_MS);
  const nonWorking = nonWorkingDays(calendar, dayNumber(Math.min(gridStart, originTime)), reached);
  const first = dayNumber(originTime), last = dayNumber(originTime + (horizon - 1) * HOUR_MS);
  const ahead = [...nonWorking].filter((d) => d >= first && d <= last).sort((a, b) => a - b)
    .map(dayDate);
  return { nonWorking, report: { site_id: siteId, used: true, non_working_days: ahead } };
}
