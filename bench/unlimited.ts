/**
 * The per-caller limits turned off: the benchmarks measure the service under
 * load from one address (thousands of streams, hundreds of tasks), which
 * the limits would otherwise refuse at once. What the limits do is tested in
 * `tests/rate_limits_test.ts`.
 *
 * @module
 */

/** Environment variables that switch every per-caller limit off. */
export const UNLIMITED: Readonly<Record<string, string>> = {
  RATE_LIMIT_TRAIN_PER_MINUTE: "0",
  RATE_LIMIT_UPLOAD_PER_MINUTE: "0",
  RATE_LIMIT_FORECAST_PER_MINUTE: "0",
  RATE_LIMIT_STREAM_PER_MINUTE: "0",
  STREAM_LIMIT_PER_PRINCIPAL: "0",
  MAX_QUEUED_TASKS_PER_PRINCIPAL: "1000000",
  MAX_QUEUED_TASKS: "1000000",
};
