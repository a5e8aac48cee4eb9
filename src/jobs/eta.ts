/**
 * Estimates when a training finishes, from its measured speed so far.
 *
 * @module
 */

/** Time allowed for saving the model after the last epoch. */
export const SAVE_ALLOWANCE_MS = 1000;

/**
 * The ISO time training is expected to finish: the measured time per epoch
 * times the epochs left, plus saving. Null until one epoch is done.
 */
export function estimateCompletion(
  startedMs: number,
  epochsDone: number,
  epochs: number,
  nowMs: number,
): string | null {
  if (epochsDone <= 0) return null;
  const perEpoch = (nowMs - startedMs) / epochsDone;
  const left = Math.max(0, epochs - epochsDone);
  return new Date(nowMs + perEpoch * left + SAVE_ALLOWANCE_MS).toISOString();
}
