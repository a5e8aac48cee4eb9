/**
 * The weather store in process memory, for the memory broker.
 *
 * @module
 */
import { meterKey } from "../domain/meter.ts";
import type { SiteCalendar } from "../domain/calendar.ts";
import {
  calendarFields,
  seriesOfMap,
  TemperaturesRefused,
  type WeatherStore,
} from "./weather_store.ts";

/** Creates an empty in-memory weather store. */
export function createMemoryWeatherStore(): WeatherStore {
  const sites = new Map<string, Map<number, number>>();
  const links = new Map<string, string>();
  const calendars = new Map<string, SiteCalendar>();
  return {
    mergeTemperatures(siteId, series, limits = {}) {
      const stored = sites.get(siteId) ?? new Map<number, number>();
      // Synchronous: the check and the merge are one step.
      const added = new Set(series.timestamps.filter((t) => !stored.has(t))).size;
      const max = limits.maxTemperatures;
      if (max !== undefined && stored.size + added > max) {
        return Promise.reject(new TemperaturesRefused(stored.size, stored.size + added));
      }
      series.timestamps.forEach((t, i) => stored.set(t, series.values[i]));
      sites.set(siteId, stored);
      return Promise.resolve({ added, replaced: series.timestamps.length - added });
    },
    getTemperatures(siteId, from, to) {
      return Promise.resolve(seriesOfMap(sites.get(siteId), from, to));
    },
    countTemperatures(siteId) {
      return Promise.resolve(sites.get(siteId)?.size ?? 0);
    },
    setMeterSite(meter, siteId) {
      if (siteId === null) links.delete(meterKey(meter));
      else links.set(meterKey(meter), siteId);
      return Promise.resolve();
    },
    meterSite(meter) {
      return Promise.resolve(links.get(meterKey(meter)) ?? null);
    },
    setCalendar(siteId, calendar) {
      const had = calendars.has(siteId);
      if (calendar === null) calendars.delete(siteId);
      else calendars.set(siteId, calendarFields(calendar));
      return Promise.resolve(had);
    },
    getCalendar(siteId) {
      // Copies out as in, as the other stores serialize: a caller's edit changes nothing stored.
      const stored = calendars.get(siteId);
      return Promise.resolve(stored ? calendarFields(stored) : null);
    },
  };
}
