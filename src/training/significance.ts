/**
 * How clearly a correction lowers squared errors on validation samples,
 * beyond what chance gives: training uses it to keep the network's deep
 * path only where its gain over the linear heads is real (`train.ts`).
 *
 * @module
 */

/**
 * The mean gain in squared error that `corrections` bring to `targets`
 * (what is left to explain; `rows × width` each, row-major), in standard
 * errors of that mean: a t statistic. Rows are taken in blocks of
 * `blockRows` consecutive rows (a day of hourly samples), as neighbouring
 * samples share most of the hours they forecast and are not independent.
 * 0 when fewer than two blocks, negative when the corrections do harm.
 */
export function gainInStandardErrors(
  targets: ArrayLike<number>,
  corrections: ArrayLike<number>,
  rows: number,
  width: number,
  blockRows: number,
): number {
  const gains: number[] = [];
  for (let from = 0; from < rows; from += blockRows) {
    const to = Math.min(rows, from + blockRows);
    let sum = 0;
    for (let i = from * width; i < to * width; i++) {
      sum += targets[i] ** 2 - (targets[i] - corrections[i]) ** 2;
    }
    gains.push(sum / ((to - from) * width));
  }
  if (gains.length < 2) return 0;
  const mean = gains.reduce((a, b) => a + b, 0) / gains.length;
  const variance = gains.reduce((a, g) => a + (g - mean) ** 2, 0) / (gains.length - 1);
  if (variance === 0) return mean === 0 ? 0 : Math.sign(mean) * Infinity;
  return mean / Math.sqrt(variance / gains.length);
}
