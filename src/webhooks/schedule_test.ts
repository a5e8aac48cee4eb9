import assert from "node:assert/strict";
import { DEFAULT_RETRY_SCHEDULE, parseRetrySchedule, retryDelayMs } from "./schedule.ts";

Deno.test("retry schedule: the default is Standard Webhooks' schedule", () => {
  assert.deepEqual(parseRetrySchedule(DEFAULT_RETRY_SCHEDULE), [
    5000,
    300_000,
    1_800_000,
    7_200_000,
    18_000_000,
    36_000_000,
    36_000_000,
  ]);
  assert.deepEqual(parseRetrySchedule("0.2, 250ms,1"), [200, 250, 1000]);
});

Deno.test("retry schedule: a delay that cannot be read is named", () => {
  assert.throws(() => parseRetrySchedule("5s,soon"), /"soon" is not a delay/);
  assert.throws(() => parseRetrySchedule("2d"), /"2d" is not a delay/);
  assert.throws(() => parseRetrySchedule("25h"), /"25h"/);
});

Deno.test("retry schedule: delays are spread by at most a tenth, and end with the schedule", () => {
  const schedule = [1000, 60_000];
  assert.equal(retryDelayMs(schedule, 1, () => 0), 900);
  assert.equal(retryDelayMs(schedule, 1, () => 0.999999), 1100);
  assert.equal(retryDelayMs(schedule, 2, () => 0.5), 60_000);
  assert.equal(retryDelayMs(schedule, 3), null);
});
