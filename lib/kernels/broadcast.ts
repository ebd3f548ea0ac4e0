/**
 * Numpy-style broadcast loops for the binary element-wise kernels: residual sums,
 * squeeze-and-excitation scaling by an N x C x 1 x 1 gate, per-channel normalisation.
 */
import { ShapeError } from '../errors.js';

/** The broadcast result shape, or a ShapeError naming the node and both shapes. */
export function broadcastShapes(a: readonly number[], b: readonly number[], owner: string): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(
        `${owner}: shapes [${a.join(', ')}] and [${b.join(', ')}] cannot be broadcast together (dimension ${i} from the right is ${da} vs ${db})`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** Strides of `shape` read as if it had `outShape`: 0 along broadcast dimensions. */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const own = stridesOf(shape);
  const offset = outShape.length - shape.length;
  return outShape.map((_, i) => (i < offset || shape[i - offset] === 1 ? 0 : own[i - offset]));
}

export type BinaryFn = (x: number, y: number) => number;

/**
 * out[i] = fn(a[ia], b[ib]) over the broadcast index space. The innermost axis runs as a plain
 * loop; when one side is constant along it (stride 0) its value is read once.
 */
export function broadcastBinary(
  a: ArrayLike<number>, aShape: readonly number[],
  b: ArrayLike<number>, bShape: readonly number[],
  out: Float32Array | number[], outShape: readonly number[],
  fn: BinaryFn,
): void {
  const rank = outShape.length;
  const total = out.length;
  if (total === 0) return;
  if (a.length === total && b.length === total) {
    for (let i = 0; i < total; i++) out[i] = fn(a[i], b[i]);
    return;
  }
  if (rank === 0) {
    out[0] = fn(a[0], b[0]);
    return;
  }
  const sa = broadcastStrides(aShape, outShape);
  const sb = broadcastStrides(bShape, outShape);
  const inner = outShape[rank - 1];
  const ia = sa[rank - 1];
  const ib = sb[rank - 1];
  const counter = new Array<number>(rank - 1).fill(0);
  let baseA = 0;
  let baseB = 0;
  for (let o = 0; o < total; o += inner) {
    if (ia === 0) {
      const x = a[baseA];
      for (let j = 0; j < inner; j++) out[o + j] = fn(x, b[baseB + j * ib]);
    } else if (ib === 0) {
      const y = b[baseB];
      for (let j = 0; j < inner; j++) out[o + j] = fn(a[baseA + j * ia], y);
    } else {
      for (let j = 0; j < inner; j++) out[o + j] = fn(a[baseA + j * ia], b[baseB + j * ib]);
    }
    // Advance the odometer over the outer axes.
    for (let axis = rank - 2; axis >= 0; axis--) {
      counter[axis]++;
      baseA += sa[axis];
      baseB += sb[axis];
      if (counter[axis] < outShape[axis]) break;
      baseA -= sa[axis] * outShape[axis];
      baseB -= sb[axis] * outShape[axis];
      counter[axis] = 0;
    }
  }
}
