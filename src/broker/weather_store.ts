/**
 * The weather store port: each site's hourly outdoor temperature and working
 * calendar, and which site each meter belongs to. Every broker carries one (`broker.weather`),
 * kept in the same place as its readings: in memory, in the SQLite file, or
 * in Redis. Its behaviour is one suite (`weather_store_conformance.ts`).
 *
 * Temperatures merge by timestamp like readings: an hour sent again
 * replaces the stored value, so a weather forecast for future hours is
 * replaced by the observations once they are uploaded. A site's cap on
 * hours is checked in the same atomic step as the merge (as a meter's on
 * readings), so uploads racing each other cannot pass it together.
 *
 * @module
 */
import type { ReadingSeries } from "../domain/series.ts";
import type { MeterRef } from "../domain/meter.ts";
import { closureProblem, PUBLIC_HOLIDAY_REGIONS, type SiteCalendar } from "../domain/calendar.ts";

/** What a merge of temperatures did. */
export interface TemperaturesMerge {
  /** Hours not stored before. */
  added: number;
  /** Hours whose stored value was replaced (a forecast by an observation, say). */
  replaced: number;
}

/** What a merge of temperatures may not do; checked in the same atomic step as the merge. */
export interface TemperatureLimits {
  /** Hours of temperature the site may hold after the merge, at most. */
  maxTemperatures?: number;
}

/**
 * A merge refused whole (nothing was stored): the site would hold more than
 * `maxTemperatures` hours. Says how many it holds and how many it would.
 */
export class TemperaturesRefused extends Error {
  /** Creates the refusal: the site holds `stored` hours and would hold `wouldHave`. */
  constructor(readonly stored: number, readonly wouldHave: number) {
    super(
      `The site would hold ${wouldHave} hours of temperature (it holds ${stored}), over its limit.`,
    );
    this.name = "TemperaturesRefused";
  }
}

/** Sites' temperatures and meters' sites. */
export interface WeatherStore {
  /**
   * Merges hourly temperatures (°C) into the site's, by timestamp,
   * atomically: an hour already stored is replaced. In the same atomic
   * step, the site may not exceed `limits.maxTemperatures` hours (hours
   * replaced count once).
   *
   * @throws {TemperaturesRefused} when it would; nothing is stored.
   */
  mergeTemperatures(
    siteId: string,
    series: ReadingSeries,
    limits?: TemperatureLimits,
  ): Promise<TemperaturesMerge>;

  /**
   * The site's temperatures at `from` or later and before `to` (epoch ms;
   * all when not given), in time order; null when the site has none at all.
   */
  getTemperatures(siteId: string, from?: number, to?: number): Promise<ReadingSeries | null>;

  /** How many hours of temperature the site has. */
  countTemperatures(siteId: string): Promise<number>;

  /** Links a meter to a site (null unlinks it). */
  setMeterSite(meter: MeterRef, siteId: string | null): Promise<void>;

  /** The site a meter is linked to, or null. */
  meterSite(meter: MeterRef): Promise<string | null>;

  /**
   * Replaces the site's working calendar (null removes it), atomically:
   * true when the site had one before (readable or not), so of two
   * removals racing each other exactly one finds a calendar to remove.
   */
  setCalendar(siteId: string, calendar: SiteCalendar | null): Promise<boolean>;

  /** The site's working calendar, or null when it has none. */
  getCalendar(siteId: string): Promise<SiteCalendar | null>;
}

/** The part of `series` (ordered by time) in `[from, to)`. */
export function seriesBetween(
  series: ReadingSeries,
  from = -Infinity,
  to = Infinity,
): ReadingSeries {
  const timestamps: number[] = [], values: number[] = [];
  series.timestamps.forEach((t, i) => {
    if (t >= from && t < to) {
      timestamps.push(t);
      values.push(series.values[i]);
    }
  });
  return { timestamps, values };
}

/** A site's temperatures from a map of hour → value, ordered. */
export function seriesOfMap(
  stored: ReadonlyMap<number, number> | undefined,
  from?: number,
  to?: number,
): ReadingSeries | null {
  if (!stored?.size) return null;
  const hours = [...stored.keys()].sort((a, b) => a - b);
  return seriesBetween({ timestamps: hours, values: hours.map((t) => stored.get(t)!) }, from, to);
}

/**
 * The calendar's own fields, closures copied: what the stores write as JSON
 * and give back, so an object carrying more (a request body) stores only these.
 */
export function calendarFields(calendar: SiteCalendar): SiteCalendar {
  return { public_holidays: calendar.public_holidays, closures: [...calendar.closures] };
}

/**
 * The calendar of `siteId` from its stored JSON. A value this version cannot
 * read (not JSON, a region it does not know, a malformed closure: a hand edit,
 * or another version's) is refused by an error naming the site and the fix,
 * rather than failing later, deep in a forecast, with a bare `SyntaxError`.
 */
export function parseStoredCalendar(siteId: string, json: string): SiteCalendar {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    value = undefined;
  }
  const problem = storedCalendarProblem(value);
  if (problem) {
    throw new Error(
      `The stored calendar of site "${siteId}" is unreadable (${problem}). Set it again with PUT /sites/${siteId}/calendar, or remove it with DELETE /sites/${siteId}/calendar.`,
    );
  }
  return calendarFields(value as SiteCalendar);
}

function storedCalendarProblem(value: unknown): string | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return "not a JSON object";
  }
  const { public_holidays: region, closures } = value as Record<string, unknown>;
  if (region !== null && !(PUBLIC_HOLIDAY_REGIONS as readonly unknown[]).includes(region)) {
    return `public_holidays ${JSON.stringify(region)} is not a known region`;
  }
  if (!Array.isArray(closures)) return "closures is not a list";
  const bad = closures.findIndex((c) => typeof c !== "string" || closureProblem(c) !== null);
  return bad < 0 ? null : `closures.${bad} ${JSON.stringify(closures[bad])} is not a closure`;
}
