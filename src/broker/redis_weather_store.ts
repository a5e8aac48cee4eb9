/**
 * The weather store on Redis, beside the Redis broker's keys:
 * - `site:{site_id}:temperature`: a hash from epoch milliseconds to °C,
 *   merged by timestamp in one Lua script (`redis_weather_scripts.ts`) that
 *   checks the site's cap on hours in the same atomic step;
 * - `meter:{type}/{id}:site`: the site a meter is linked to;
 * - `site:{site_id}:calendar`: a string, the site's working calendar as JSON
 *   (`{"public_holidays", "closures"}`), read and replaced whole by one
 *   `GET` or `SET`; absent when the site has none.
 *
 * @module
 */
import type { Redis } from "@upstash/redis";
import { meterKey } from "../domain/meter.ts";
import {
  calendarFields,
  parseStoredCalendar,
  seriesOfMap,
  TemperaturesRefused,
  type WeatherStore,
} from "./weather_store.ts";
import { MERGE_TEMPERATURES } from "./redis_weather_scripts.ts";

/** The weather store on `redis` (a client made with `automaticDeserialization: false`). */
export function createRedisWeatherStore(redis: Redis, prefix: string): WeatherStore {
  const key = {
    site: (siteId: string) => `${prefix}site:${siteId}:temperature`,
    calendar: (siteId: string) => `${prefix}site:${siteId}:calendar`,
    link: (meter: Parameters<WeatherStore["meterSite"]>[0]) =>
      `${prefix}meter:${meterKey(meter)}:site`,
  };
  const merge = redis.createScript<[string, number, number?]>(MERGE_TEMPERATURES);
  return {
    async mergeTemperatures(siteId, series, limits = {}) {
      if (!series.timestamps.length) return { added: 0, replaced: 0 };
      const args = [String(limits.maxTemperatures ?? 0)];
      series.timestamps.forEach((t, i) => args.push(String(t), String(series.values[i])));
      // One script: the cap and the merge in one atomic step.
      const [outcome, first, second] = await merge.exec([key.site(siteId)], args);
      if (outcome === "too_many") throw new TemperaturesRefused(Number(first), Number(second));
      const added = Number(first);
      return { added, replaced: series.timestamps.length - added };
    },
    async getTemperatures(siteId, from, to) {
      const flat = await redis.exec<string[]>(["HGETALL", key.site(siteId)]);
      if (!flat?.length) return null;
      const stored = new Map<number, number>();
      for (let i = 0; i < flat.length; i += 2) stored.set(Number(flat[i]), Number(flat[i + 1]));
      return seriesOfMap(stored, from, to);
    },
    async countTemperatures(siteId) {
      return Number(await redis.exec<number>(["HLEN", key.site(siteId)]));
    },
    async setMeterSite(meter, siteId) {
      if (siteId === null) await redis.exec(["DEL", key.link(meter)]);
      else await redis.exec(["SET", key.link(meter), siteId]);
    },
    async meterSite(meter) {
      const site = await redis.exec<string | null>(["GET", key.link(meter)]);
      return site ?? null;
    },
    async setCalendar(siteId, calendar) {
      if (calendar === null) return await redis.exec<number>(["DEL", key.calendar(siteId)]) > 0;
      // SET … GET answers the value it replaced, in the same step.
      const json = JSON.stringify(calendarFields(calendar));
      return await redis.exec<string | null>(["SET", key.calendar(siteId), json, "GET"]) !== null;
    },
    async getCalendar(siteId) {
      const json = await redis.exec<string | null>(["GET", key.calendar(siteId)]);
      return json ? parseStoredCalendar(siteId, json) : null;
    },
  };
}
