/**
 * A meter's stored readings as a time series.
 *
 * @module
 */

/** Hourly readings of one meter, ordered by time, one value per timestamp. */
export interface ReadingSeries {
  /** Milliseconds since the epoch, strictly increasing. */
  timestamps: number[];
  /** Reading for each timestamp (kWh or the meter's unit). */
  values: number[];
}
