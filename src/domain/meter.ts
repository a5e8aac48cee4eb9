/**
 * Meters: the kinds of meter the service trains models for, and how one
 * meter is named.
 *
 * @module
 */

/** Meter types the service trains models for. */
export const METER_TYPES = [
  "electricity",
  "gas",
  "water",
  "steam",
  "chilledwater",
  "hotwater",
] as const;

/** A kind of meter. */
export type MeterType = typeof METER_TYPES[number];

/** Identifies one meter. */
export interface MeterRef {
  /** Meter identifier, `^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`. */
  meter_id: string;
  /** Kind of meter. */
  meter_type: MeterType;
}

/** The storage key of a meter, `{meter_type}/{meter_id}`. */
export function meterKey(meter: MeterRef): string {
  return `${meter.meter_type}/${meter.meter_id}`;
}
