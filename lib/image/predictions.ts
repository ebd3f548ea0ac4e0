/** From a model's [N, K] output to ranked labels with probabilities. */
import { ShapeError } from '../errors.js';
import type { Tensor } from '../tensor.js';

export interface Prediction {
  readonly label: string;
  /** Class index in the model's output. */
  readonly index: number;
  /** In [0, 1]; a row's probabilities sum to 1. */
  readonly probability: number;
}

/**
 * True when a row already is a probability distribution (the model ends in Softmax): every value
 * in [0, 1] and the sum 1 within float32 rounding. Softmax over probabilities would flatten them.
 */
export function isDistribution(row: Float32Array): boolean {
  let sum = 0;
  for (const v of row) {
    if (!(v >= 0 && v <= 1)) return false;
    sum += v;
  }
  return Math.abs(sum - 1) < 1e-4;
}

/** Softmax of one row of logits, shifted by the row's maximum so exp never overflows. */
export function softmax(row: Float32Array): Float64Array {
  let max = -Infinity;
  for (const v of row) max = Math.max(max, v);
  const out = new Float64Array(row.length);
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += out[i] = Math.exp(row[i] - max);
  for (let i = 0; i < row.length; i++) out[i] /= sum;
  return out;
}

/** The k most probable classes of every row of an [N, K] (or [N, K, 1, 1]) output, best first. */
export function topPredictions(output: Tensor, labels: readonly string[], k: number): Prediction[][] {
  const [n] = output.shape;
  const classes = n === 0 ? 0 : output.size / n;
  if (output.rank < 2 || output.shape.slice(2).some((d) => d !== 1)) {
    throw new ShapeError(`classifier output must be [N, classes] (or [N, classes, 1, 1]), got [${output.shape.join(', ')}]`);
  }
  if (labels.length !== classes) {
    throw new ShapeError(`the model scores ${classes} classes but ${labels.length} labels were given`);
  }
  const rows: Prediction[][] = [];
  for (let r = 0; r < n; r++) {
    const row = output.data.subarray(r * classes, (r + 1) * classes);
    const probabilities = isDistribution(row) ? Float64Array.from(row) : softmax(row);
    const order = [...probabilities.keys()].sort((a, b) => probabilities[b] - probabilities[a] || a - b);
    rows.push(order.slice(0, k).map((index) => ({ label: labels[index], index, probability: probabilities[index] })));
  }
  return rows;
}
