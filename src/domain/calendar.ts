/**
 * A site's working calendar: the weekdays its buildings do not work. A
 * forecast cannot see a holiday coming in the readings before it (the day
 * before New Year's Day looks like any other), so a site may name them:
 * a region's public holidays, computed here, and its own closures (a
 * university's Christmas closure, a plant's shutdown week).
 *
 * Training and forecasting treat a non-working weekday as a weekend day:
 * its forecast is anchored on recent weekend days, and it is not taken as
 * a similar day for working days (see `training/features.ts`). Measured on
 * `bench/data` (see `BENCHMARKS.md`), England and Wales' bank holidays alone
 * took New Year's Day's error on two university buildings from about 28%
 * and 12% to about the error of an ordinary day.
 *
 * Days are calendar days of the readings' own clock: readings carry no
 * time zone (see `meters/csv.ts`), so "2019-01-01" is the hours from
 * `2019-01-01T00:00` to `23:00` of the grid.
 *
 * @module
 */

/** Regions whose public holidays are built in. */
export const PUBLIC_HOLIDAY_REGIONS = [
  "england-and-wales",
  "scotland",
  "northern-ireland",
  "united-states",
] as const;

/** A region whose public holidays are built in. */
export type PublicHolidayRegion = typeof PUBLIC_HOLIDAY_REGIONS[number];

/** A site's non-working weekdays, as stored and as `PUT /sites/{id}/calendar` takes it. */
export interface SiteCalendar {
  /** A region's public holidays, or null for none. */
  public_holidays: PublicHolidayRegion | null;
  /**
   * The site's own closures: `YYYY-MM-DD` (one day) or `YYYY-MM-DD/YYYY-MM-DD`
   * (both days included, as ISO 8601 intervals write them).
   */
  closures: string[];
}

/** Most closure entries a calendar keeps. */
export const MAX_CLOSURES = 1_000;
/** Longest closure range, in days. */
export const MAX_CLOSURE_DAYS = 366;

const DAY_MS = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The day number (days since 1970-01-01) of a time on the readings' clock. */
export function dayNumber(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

/** The day number of a `YYYY-MM-DD` date; NaN when it is not a real date. */
export function dateDay(date: string): number {
  const m = DATE.exec(date);
  if (!m) return NaN;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  // Date.UTC rolls 2019-02-30 over to March: a date that does not round-trip does not exist.
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) {
    return NaN;
  }
  return dayNumber(ms);
}

/** `YYYY-MM-DD` of a day number. */
export function dayDate(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/**
 * What is wrong with a closure entry, in words; null when it is fine.
 * Otherwise `[first, last]` day numbers are given by `closureDays`.
 */
export function closureProblem(entry: string): string | null {
  const parts = entry.split("/");
  if (parts.length > 2 || parts.some((p) => !DATE.test(p))) {
    return 'must be a date "YYYY-MM-DD" or a range "YYYY-MM-DD/YYYY-MM-DD"';
  }
  const [first, last] = closureDays(entry);
  if (!Number.isFinite(first) || !Number.isFinite(last)) return "is not a real calendar date";
  if (last < first) return "ends before it starts";
  if (last - first + 1 > MAX_CLOSURE_DAYS) {
    return `spans ${last - first + 1} days; a closure spans at most ${MAX_CLOSURE_DAYS}`;
  }
  return null;
}

/** First and last day numbers of a closure entry (NaN when malformed). */
export function closureDays(entry: string): [number, number] {
  const [from, to = from] = entry.split("/");
  return [dateDay(from), dateDay(to)];
}

/** Easter Sunday of a Gregorian year, as a day number (the anonymous Gregorian algorithm). */
export function easterSunday(year: number): number {
  const a = year % 19, b = Math.floor(year / 100), c = year % 100;
  const d = Math.floor(b / 4), e = b % 4, f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4), k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return dayNumber(Date.UTC(year, month - 1, day));
}

/** Day of the week of a day number, 0 = Sunday. */
export function weekday(day: number): number {
  return (((day + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
}

/** The `n`th (1-based; −1 for the last) Monday of a month, as a day number. */
function monday(year: number, month: number, n: number): number {
  if (n > 0) {
    const first = dayNumber(Date.UTC(year, month, 1));
    return first + ((8 - weekday(first)) % 7) + 7 * (n - 1);
  }
  const last = dayNumber(Date.UTC(year, month + 1, 0));
  return last - ((weekday(last) + 6) % 7);
}

/** Moved or added by proclamation across the UK (gov.uk/bank-holidays). */
const UK_CHANGES: Record<number, { moved?: [string, string][]; added?: string[] }> = {
  1995: { moved: [["1995-05-01", "1995-05-08"]] },
  1999: { added: ["1999-12-31"] },
  2002: { moved: [["2002-05-27", "2002-06-04"]], added: ["2002-06-03"] },
  2011: { added: ["2011-04-29"] },
  2012: { moved: [["2012-05-28", "2012-06-04"]], added: ["2012-06-05"] },
  2020: { moved: [["2020-05-04", "2020-05-08"]] },
  2022: { moved: [["2022-05-30", "2022-06-02"]], added: ["2022-06-03", "2022-09-19"] },
  2023: { added: ["2023-05-08"] },
};

/** The day of `month` (0-based) `day` of `year`, as a day number. */
function date(year: number, month: number, day: number): number {
  return dayNumber(Date.UTC(year, month, day));
}

/** A holiday on a weekend moved to the Monday after (the UK's substitute day). */
function nextWeekday(day: number): number {
  return day + (weekday(day) === 6 ? 2 : weekday(day) === 0 ? 1 : 0);
}

/**
 * Two holidays on consecutive days (Christmas and Boxing Day; in Scotland
 * also 1 and 2 January) with the UK's substitutes: on a Friday and Saturday,
 * Friday and Monday; Saturday and Sunday, Monday and Tuesday; Sunday and
 * Monday, Monday and Tuesday.
 */
function pairOfHolidays(first: number): number[] {
  switch (weekday(first)) {
    case 5:
      return [first, first + 3];
    case 6:
      return [first + 2, first + 3];
    case 0:
      return [first + 1, first + 2];
    default:
      return [first, first + 1];
  }
}

/** Applies the changes made by proclamation in `year`. */
function proclaimed(days: number[], year: number): number[] {
  const changes = UK_CHANGES[year];
  let out = days;
  for (const [from, to] of changes?.moved ?? []) {
    out = out.map((d) => d === dateDay(from) ? dateDay(to) : d);
  }
  out.push(...(changes?.added ?? []).map(dateDay));
  return out.sort((a, b) => a - b);
}

/**
 * England and Wales' bank holidays of `year`, as day numbers: New Year's
 * Day, Good Friday, Easter Monday, the early May, spring and summer bank
 * holidays, Christmas Day and Boxing Day, each falling on a weekend moved
 * to the next weekday, and the changes made by proclamation since 1995.
 */
export function englandAndWalesBankHolidays(year: number): number[] {
  const easter = easterSunday(year);
  return proclaimed([
    nextWeekday(date(year, 0, 1)),
    easter - 2,
    easter + 1,
    monday(year, 4, 1),
    monday(year, 4, -1),
    monday(year, 7, -1),
    ...pairOfHolidays(date(year, 11, 25)),
  ], year);
}

/**
 * Scotland's bank holidays of `year`: 1 and 2 January, Good Friday, the
 * early May and spring holidays, the first Monday of August, St Andrew's
 * Day (30 November, since 2007), Christmas Day and Boxing Day, with the
 * UK's substitutes and proclamations.
 */
export function scotlandBankHolidays(year: number): number[] {
  return proclaimed([
    ...pairOfHolidays(date(year, 0, 1)),
    easterSunday(year) - 2,
    monday(year, 4, 1),
    monday(year, 4, -1),
    monday(year, 7, 1),
    ...(year >= 2007 ? [nextWeekday(date(year, 10, 30))] : []),
    ...pairOfHolidays(date(year, 11, 25)),
  ], year);
}

/**
 * Northern Ireland's bank holidays of `year`: England and Wales', St
 * Patrick's Day (17 March) and the Battle of the Boyne (12 July), each on a
 * weekend moved to the Monday after.
 */
export function northernIrelandBankHolidays(year: number): number[] {
  return [
    ...englandAndWalesBankHolidays(year),
    nextWeekday(date(year, 2, 17)),
    nextWeekday(date(year, 6, 12)),
  ].sort((a, b) => a - b);
}

/**
 * The United States' federal holidays of `year` (5 U.S.C. 6103), as
 * observed: New Year's Day, Martin Luther King Jr. Day (since 1986),
 * Washington's Birthday, Memorial Day, Juneteenth (since 2021),
 * Independence Day, Labor Day, Columbus Day, Veterans Day, Thanksgiving
 * and Christmas Day; a fixed date on a Saturday is observed the Friday
 * before (New Year's Day then falls on 31 December of the year before), on
 * a Sunday the Monday after. States and employers add their own: give
 * those as closures.
 */
export function unitedStatesFederalHolidays(year: number): number[] {
  const observed = (day: number) => day + (weekday(day) === 6 ? -1 : weekday(day) === 0 ? 1 : 0);
  const nth = (month: number, dow: number, n: number) => {
    const first = date(year, month, 1);
    return first + ((dow - weekday(first) + 7) % 7) + 7 * (n - 1);
  };
  return [
    observed(date(year, 0, 1)),
    ...(year >= 1986 ? [nth(0, 1, 3)] : []),
    nth(1, 1, 3),
    monday(year, 4, -1),
    ...(year >= 2021 ? [observed(date(year, 5, 19))] : []),
    observed(date(year, 6, 4)),
    nth(8, 1, 1),
    nth(9, 1, 2),
    observed(date(year, 10, 11)),
    nth(10, 4, 4),
    observed(date(year, 11, 25)),
  ].sort((a, b) => a - b);
}

/** A region's public holidays of `year`, as day numbers. */
export function publicHolidays(region: PublicHolidayRegion, year: number): number[] {
  switch (region) {
    case "england-and-wales":
      return englandAndWalesBankHolidays(year);
    case "scotland":
      return scotlandBankHolidays(year);
    case "northern-ireland":
      return northernIrelandBankHolidays(year);
    case "united-states":
      return unitedStatesFederalHolidays(year);
  }
}

/**
 * The weekdays (Monday to Friday) from day `first` to day `last` that the
 * calendar says are not working days, as day numbers.
 */
export function nonWorkingDays(calendar: SiteCalendar, first: number, last: number): Set<number> {
  const out = new Set<number>();
  const add = (day: number) => {
    const w = weekday(day);
    if (day >= first && day <= last && w !== 0 && w !== 6) out.add(day);
  };
  if (calendar.public_holidays) {
    // A year's holidays may fall in the next (a US New Year's Day observed on 31 December).
    const from = new Date(first * DAY_MS).getUTCFullYear() - 1;
    const to = new Date(last * DAY_MS).getUTCFullYear() + 1;
    for (let year = from; year <= to; year++) {
      publicHolidays(calendar.public_holidays, year).forEach(add);
    }
  }
  for (const entry of calendar.closures) {
    const [a, b] = closureDays(entry);
    if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
    for (let day = Math.max(a, first); day <= Math.min(b, last); day++) add(day);
  }
  return out;
}
