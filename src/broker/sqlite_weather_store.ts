/**
 * The weather store in the SQLite broker's file: `site_temperatures`
 * (site_id, ts) → °C, WITHOUT ROWID so a site's hours are stored together
 * in time order, `meter_sites` (meter_key → site_id) and `site_calendars`
 * (site_id → the calendar as JSON: it is read and written whole). The tables
 * are created when missing, so files written before weather (or calendars)
 * existed open as they are.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { meterKey } from "../domain/meter.ts";
import { transaction } from "./sqlite_file.ts";
import {
  calendarFields,
  parseStoredCalendar,
  TemperaturesRefused,
  type WeatherStore,
} from "./weather_store.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS site_temperatures (
  site_id TEXT NOT NULL,
  ts INTEGER NOT NULL,
  celsius REAL NOT NULL,
  PRIMARY KEY (site_id, ts)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meter_sites (
  meter_key TEXT PRIMARY KEY,
  site_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS site_calendars (
  site_id TEXT PRIMARY KEY,
  json TEXT NOT NULL
);`;

/** The weather store on an open broker database (the broker closes it). */
export function createSqliteWeatherStore(db: DatabaseSync): WeatherStore {
  db.exec(SCHEMA);
  const sql = {
    count: db.prepare("SELECT count(*) AS n FROM site_temperatures WHERE site_id = ?"),
    merge: db.prepare(
      "INSERT OR REPLACE INTO site_temperatures (site_id, ts, celsius) VALUES (?, ?, ?)",
    ),
    read: db.prepare(
      `SELECT ts, celsius FROM site_temperatures
       WHERE site_id = ? AND ts >= ? AND ts < ? ORDER BY ts`,
    ),
    link: db.prepare("INSERT OR REPLACE INTO meter_sites (meter_key, site_id) VALUES (?, ?)"),
    unlink: db.prepare("DELETE FROM meter_sites WHERE meter_key = ?"),
    site: db.prepare("SELECT site_id FROM meter_sites WHERE meter_key = ?"),
    setCalendar: db.prepare("INSERT OR REPLACE INTO site_calendars (site_id, json) VALUES (?, ?)"),
    dropCalendar: db.prepare("DELETE FROM site_calendars WHERE site_id = ?"),
    calendar: db.prepare("SELECT json FROM site_calendars WHERE site_id = ?"),
  };
  const count = (siteId: string) => Number(sql.count.get(siteId)!.n);
  /** Runs `work` now; its error (a closed file) rejects the promise. */
  function call<T>(work: () => T): Promise<T> {
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(error);
    }
  }
  return {
    mergeTemperatures(siteId, series, limits = {}) {
      return call(() =>
        transaction(db, () => {
          const before = count(siteId);
          series.timestamps.forEach((t, i) => sql.merge.run(siteId, t, series.values[i]));
          const after = count(siteId);
          const max = limits.maxTemperatures;
          // Checked inside the transaction (BEGIN IMMEDIATE holds the file's
          // write lock), so no other merge can land between count and check.
          if (max !== undefined && after > max) {
            throw new TemperaturesRefused(before, after); // rolls the merge back
          }
          const added = after - before;
          return { added, replaced: series.timestamps.length - added };
        })
      );
    },
    getTemperatures(siteId, from = -8.64e15, to = 8.64e15) {
      return call(() => {
        if (count(siteId) === 0) return null;
        const rows = sql.read.all(siteId, from, to);
        return {
          timestamps: rows.map((r) => Number(r.ts)),
          values: rows.map((r) => Number(r.celsius)),
        };
      });
    },
    countTemperatures(siteId) {
      return call(() => count(siteId));
    },
    setMeterSite(meter, siteId) {
      return call(() => {
        if (siteId === null) sql.unlink.run(meterKey(meter));
        else sql.link.run(meterKey(meter), siteId);
      });
    },
    meterSite(meter) {
      return call(() => {
        const row = sql.site.get(meterKey(meter));
        return row ? String(row.site_id) : null;
      });
    },
    setCalendar(siteId, calendar) {
      return call(() => {
        // One connection, run synchronously: nothing comes between the read and the write.
        if (calendar === null) return Number(sql.dropCalendar.run(siteId).changes) > 0;
        const had = sql.calendar.get(siteId) !== undefined;
        sql.setCalendar.run(siteId, JSON.stringify(calendarFields(calendar)));
        return had;
      });
    },
    getCalendar(siteId) {
      return call(() => {
        const row = sql.calendar.get(siteId);
        return row ? parseStoredCalendar(siteId, String(row.json)) : null;
      });
    },
  };
}
