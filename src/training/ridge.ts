/**
 * Ridge regression in closed form: the linear reference every neural model
 * must beat, and the starting point of the model's linear skip path. Solves
 * (AᵀA + λI)W = AᵀY with A = [X 1] (the bias is not penalised), by
 * Cholesky, in float64. The penalty is chosen on a held-out tail of the
 * training rows (later in time), then the model is refit on all rows.
 *
 * @module
 */

/** A fitted linear model: `y = x·W + b` for each output. */
export interface RidgeModel {
  /** `features × outputs`, row-major. */
  weights: Float64Array;
  /** One per output. */
  bias: Float64Array;
  features: number;
  outputs: number;
  /** The penalty chosen. */
  lambda: number;
}

/** Penalties tried, relative to the number of training rows. */
export const LAMBDAS = [1e-4, 1e-3, 1e-2, 1e-1, 1];

interface Normal {
  gram: Float64Array; // (d+1)², upper triangle filled
  cross: Float64Array; // (d+1) × h
}

function normal(
  x: Float32Array,
  y: Float32Array,
  from: number,
  to: number,
  d: number,
  h: number,
): Normal {
  const m = d + 1;
  const gram = new Float64Array(m * m);
  const cross = new Float64Array(m * h);
  const row = new Float64Array(m);
  for (let r = from; r < to; r++) {
    for (let j = 0; j < d; j++) row[j] = x[r * d + j];
    row[d] = 1;
    for (let i = 0; i < m; i++) {
      const ri = row[i];
      if (ri === 0) continue;
      const gi = i * m;
      for (let j = i; j < m; j++) gram[gi + j] += ri * row[j];
      const ci = i * h;
      for (let k = 0; k < h; k++) cross[ci + k] += ri * y[r * h + k];
    }
  }
  return { gram, cross };
}

function solve(
  n: Normal,
  d: number,
  h: number,
  lambda: number,
): { w: Float64Array; b: Float64Array } {
  const m = d + 1;
  // Cholesky of the (penalised) Gram matrix, lower triangle in L.
  const L = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j <= i; j++) {
      let s = n.gram[j * m + i] + (i === j && i < d ? lambda : 0);
      for (let k = 0; k < j; k++) s -= L[i * m + k] * L[j * m + k];
      L[i * m + j] = i === j ? Math.sqrt(Math.max(s, 1e-12)) : s / L[j * m + j];
    }
  }
  const w = new Float64Array(m * h);
  const z = new Float64Array(m);
  for (let k = 0; k < h; k++) {
    for (let i = 0; i < m; i++) {
      let s = n.cross[i * h + k];
      for (let j = 0; j < i; j++) s -= L[i * m + j] * z[j];
      z[i] = s / L[i * m + i];
    }
    for (let i = m - 1; i >= 0; i--) {
      let s = z[i];
      for (let j = i + 1; j < m; j++) s -= L[j * m + i] * w[j * h + k];
      w[i * h + k] = s / L[i * m + i];
    }
  }
  return { w: w.subarray(0, d * h), b: w.subarray(d * h) };
}

/** Predicts with a ridge model for `rows` rows of `x`. */
export function predictRidge(model: RidgeModel, x: Float32Array, rows: number): Float64Array {
  const { features: d, outputs: h, weights, bias } = model;
  const out = new Float64Array(rows * h);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < h; k++) out[r * h + k] = bias[k];
    for (let j = 0; j < d; j++) {
      const v = x[r * d + j];
      if (v === 0) continue;
      for (let k = 0; k < h; k++) out[r * h + k] += v * weights[j * h + k];
    }
  }
  return out;
}

/**
 * Fits ridge regression on `rows` rows (ordered in time): chooses the
 * penalty on the last `validationShare` of them, then refits on all.
 */
export function fitRidge(
  x: Float32Array,
  y: Float32Array,
  rows: number,
  features: number,
  outputs: number,
  validationShare = 0.1,
): RidgeModel {
  const split = Math.floor(rows * (1 - validationShare));
  const train = normal(x, y, 0, split, features, outputs);
  const valRows = rows - split;
  let best = { lambda: LAMBDAS[0], mse: Infinity };
  if (valRows > 0) {
    const valX = x.subarray(split * features);
    for (const relative of LAMBDAS) {
      const lambda = relative * split;
      const { w, b } = solve(train, features, outputs, lambda);
      const pred = predictRidge({ weights: w, bias: b, features, outputs, lambda }, valX, valRows);
      let mse = 0;
      for (let i = 0; i < pred.length; i++) mse += (pred[i] - y[split * outputs + i]) ** 2;
      if (mse < best.mse) best = { lambda, mse };
    }
  }
  const all = normal(x, y, split, rows, features, outputs);
  for (let i = 0; i < all.gram.length; i++) all.gram[i] += train.gram[i];
  for (let i = 0; i < all.cross.length; i++) all.cross[i] += train.cross[i];
  const lambda = (best.lambda / split) * rows;
  const { w, b } = solve(all, features, outputs, lambda);
  return { weights: w.slice(), bias: b.slice(), features, outputs, lambda };
}
