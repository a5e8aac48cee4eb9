/**
 * Forecast accuracy as building-energy practice measures it: CV(RMSE),
 * NMBE and MAE, and ASHRAE Guideline 14's hourly criteria.
 *
 * @module
 */

/** Accuracy of predictions against actual values. */
export interface Accuracy {
  /** Root-mean-square error over the mean actual value. */
  cv_rmse: number;
  /** Mean of (actual − predicted) over the mean actual value: positive means under-prediction. */
  nmbe: number;
  /** Mean absolute error, in the meter's unit. */
  mae: number;
  /** Hours compared. */
  n: number;
}

/** ASHRAE Guideline 14 criteria for hourly calibration data. */
export const ASHRAE_HOURLY = { cv_rmse: 0.30, nmbe: 0.10 } as const;

/** Accuracy over the pairs where both values are finite. */
export function accuracy(actual: ArrayLike<number>, predicted: ArrayLike<number>): Accuracy {
  let n = 0, sum = 0, squared = 0, bias = 0, absolute = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], p = predicted[i];
    if (!Number.isFinite(a) || !Number.isFinite(p)) continue;
    n++;
    sum += a;
    squared += (a - p) ** 2;
    bias += a - p;
    absolute += Math.abs(a - p);
  }
  const mean = sum / n;
  return {
    cv_rmse: Math.sqrt(squared / n) / mean,
    nmbe: bias / (n * mean),
    mae: absolute / n,
    n,
  };
}

/** Whether accuracy meets ASHRAE Guideline 14 for hourly data. */
export function ashraeCompliance(a: Accuracy): {
  cv_rmse_ok: boolean;
  nmbe_ok: boolean;
  compliant: boolean;
} {
  const cvOk = a.cv_rmse <= ASHRAE_HOURLY.cv_rmse;
  const nmbeOk = Math.abs(a.nmbe) <= ASHRAE_HOURLY.nmbe;
  return { cv_rmse_ok: cvOk, nmbe_ok: nmbeOk, compliant: cvOk && nmbeOk };
}
