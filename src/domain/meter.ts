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

/** Meter ids become part of storage paths, so they are kept plain. */
export const METER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Names Windows reserves for devices, in any case: no file or folder may have them. */
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/i;

/** What is wrong with a meter id, in words; null when it is fine. */
export function meterIdProblem(id: string): string | null {
  if (!METER_ID_PATTERN.test(id)) {
    return "must be 1 to 64 letters, digits, '_' or '-', starting with a letter or digit";
  }
  if (RESERVED.test(id)) {
    return `must not be "${id}", a name reserved by common file systems (CON, PRN, AUX, NUL, COM0-9, LPT0-9)`;
  }
  return null;
}

/** The storage key of a meter, `{meter_type}/{meter_id}`. */
export function meterKey(meter: MeterRef): string {
  return `${meter.meter_type}/${meter.meter_id}`;
}
