import assert from "node:assert/strict";
import {
  closureProblem,
  dateDay,
  dayDate,
  easterSunday,
  englandAndWalesBankHolidays,
  nonWorkingDays,
  northernIrelandBankHolidays,
  scotlandBankHolidays,
  unitedStatesFederalHolidays,
} from "./calendar.ts";

const dates = (days: number[]) => days.map(dayDate);

Deno.test("England and Wales' bank holidays match the published lists", () => {
  // gov.uk/bank-holidays
  assert.deepEqual(dates(englandAndWalesBankHolidays(2018)), [
    "2018-01-01",
    "2018-03-30",
    "2018-04-02",
    "2018-05-07",
    "2018-05-28",
    "2018-08-27",
    "2018-12-25",
    "2018-12-26",
  ]);
  assert.deepEqual(dates(englandAndWalesBankHolidays(2019)), [
    "2019-01-01",
    "2019-04-19",
    "2019-04-22",
    "2019-05-06",
    "2019-05-27",
    "2019-08-26",
    "2019-12-25",
    "2019-12-26",
  ]);
  // VE day moved the early May holiday; Christmas on a Friday moves Boxing Day to Monday.
  assert.deepEqual(dates(englandAndWalesBankHolidays(2020)), [
    "2020-01-01",
    "2020-04-10",
    "2020-04-13",
    "2020-05-08",
    "2020-05-25",
    "2020-08-31",
    "2020-12-25",
    "2020-12-28",
  ]);
  // Christmas on a Saturday: Monday and Tuesday.
  assert.deepEqual(dates(englandAndWalesBankHolidays(2021)).slice(-2), [
    "2021-12-27",
    "2021-12-28",
  ]);
  // New Year's Day on a Saturday, the Platinum Jubilee, the state funeral, Christmas on a Sunday.
  assert.deepEqual(dates(englandAndWalesBankHolidays(2022)), [
    "2022-01-03",
    "2022-04-15",
    "2022-04-18",
    "2022-05-02",
    "2022-06-02",
    "2022-06-03",
    "2022-08-29",
    "2022-09-19",
    "2022-12-26",
    "2022-12-27",
  ]);
  assert.ok(dates(englandAndWalesBankHolidays(2023)).includes("2023-05-08"));
});

Deno.test("Easter Sunday by the Gregorian rule", () => {
  assert.deepEqual(
    [2000, 2008, 2011, 2019, 2024, 2038].map((y) => dayDate(easterSunday(y))),
    ["2000-04-23", "2008-03-23", "2011-04-24", "2019-04-21", "2024-03-31", "2038-04-25"],
  );
});

Deno.test("non-working days are the calendar's weekdays within the span asked", () => {
  const days = nonWorkingDays(
    {
      public_holidays: "england-and-wales",
      closures: ["2018-12-24/2018-12-31", "2019-02-15"],
    },
    dateDay("2018-12-20"),
    dateDay("2019-02-14"),
  );
  // Weekends inside the closure are weekends already; 2019-02-15 is outside the span.
  assert.deepEqual(dates([...days].sort((a, b) => a - b)), [
    "2018-12-24",
    "2018-12-25",
    "2018-12-26",
    "2018-12-27",
    "2018-12-28",
    "2018-12-31",
    "2019-01-01",
  ]);
  assert.equal(
    nonWorkingDays({ public_holidays: null, closures: [] }, 0, 20_000).size,
    0,
  );
});

Deno.test("closure entries are checked", () => {
  assert.equal(closureProblem("2019-01-02"), null);
  assert.equal(closureProblem("2018-12-24/2019-01-01"), null);
  assert.match(closureProblem("2019-02-30")!, /not a real calendar date/);
  assert.match(closureProblem("2019-1-2")!, /YYYY-MM-DD/);
  assert.match(closureProblem("2019-01-02/2019-01-01")!, /ends before it starts/);
  assert.match(closureProblem("2018-01-01/2019-12-31")!, /at most 366/);
  assert.match(closureProblem("2019-01-01/2019-01-02/2019-01-03")!, /range/);
  assert.ok(Number.isNaN(dateDay("2019-13-01")));
});

Deno.test("Scotland's bank holidays match the published lists", () => {
  // gov.uk/bank-holidays: 2 January, the first Monday of August, St Andrew's Day on a Saturday.
  assert.deepEqual(dates(scotlandBankHolidays(2024)), [
    "2024-01-01",
    "2024-01-02",
    "2024-03-29",
    "2024-05-06",
    "2024-05-27",
    "2024-08-05",
    "2024-12-02",
    "2024-12-25",
    "2024-12-26",
  ]);
  // 1 January on a Saturday: Monday and Tuesday; on a Friday: Friday and Monday.
  assert.deepEqual(dates(scotlandBankHolidays(2022)).slice(0, 2), ["2022-01-03", "2022-01-04"]);
  assert.deepEqual(dates(scotlandBankHolidays(2021)).slice(0, 2), ["2021-01-01", "2021-01-04"]);
  assert.ok(dates(scotlandBankHolidays(2022)).includes("2022-09-19"), "the state funeral");
  assert.ok(!dates(scotlandBankHolidays(2024)).includes("2024-04-01"), "no Easter Monday");
});

Deno.test("Northern Ireland's add St Patrick's Day and the Boyne, moved off weekends", () => {
  const y2024 = dates(northernIrelandBankHolidays(2024));
  assert.equal(y2024.length, 10);
  assert.ok(y2024.includes("2024-03-18") && y2024.includes("2024-07-12"), y2024.join());
  assert.ok(dates(northernIrelandBankHolidays(2025)).includes("2025-07-14"));
});

Deno.test("United States federal holidays, as observed", () => {
  assert.deepEqual(dates(unitedStatesFederalHolidays(2024)), [
    "2024-01-01",
    "2024-01-15",
    "2024-02-19",
    "2024-05-27",
    "2024-06-19",
    "2024-07-04",
    "2024-09-02",
    "2024-10-14",
    "2024-11-11",
    "2024-11-28",
    "2024-12-25",
  ]);
  // 2021: Juneteenth and Christmas on a Saturday observed on Friday, 4 July on a Sunday on Monday.
  const y2021 = dates(unitedStatesFederalHolidays(2021));
  for (const d of ["2021-06-18", "2021-07-05", "2021-12-24"]) assert.ok(y2021.includes(d), d);
  // New Year's Day 2022, a Saturday, is observed on 31 December 2021: a span of 2021 alone has it.
  const december = nonWorkingDays(
    { public_holidays: "united-states", closures: [] },
    dateDay("2021-12-20"),
    dateDay("2021-12-31"),
  );
  assert.deepEqual(dates([...december].sort((a, b) => a - b)), ["2021-12-24", "2021-12-31"]);
  assert.ok(!dates(unitedStatesFederalHolidays(2020)).includes("2020-06-19"), "before Juneteenth");
  assert.equal(unitedStatesFederalHolidays(1985).length, 9, "before MLK Day and Juneteenth");
});
