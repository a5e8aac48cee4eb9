/**
 * Rounding numbers for what the service reports (task results, forecasts):
 * as many decimals as the figure is worth, no float noise.
 *
 * @module
 */

/** `value` rounded to `digits` decimals. */
export function roundTo(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
