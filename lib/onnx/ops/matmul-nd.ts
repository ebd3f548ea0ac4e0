/**
 * MatMul with both operands computed at run time (attention's Q K^T and attn V), with
 * numpy.matmul semantics: rank-1 operands are promoted (a row for A, a column for B) and the
 * leading (batch) dimensions broadcast. A constant rank-2 B never gets here: linear.ts runs that
 * on the backend's packed Linear with rows = the product of A's leading dims.
 *
 * The loop walks B row by row (i, p, j order), so both the B row and the output row are read
 * contiguously; the naive (i, j, p) order strides through B by n floats per step. Each output
 * row accumulates in float64 (at most a few hundred terms per value in attention).
 */
import type { Activation } from '../../backends/backend.js';
import { applyActivation } from '../../activation.js';
import { ShapeError } from '../../errors.js';
import { broadcastShapes, broadcastStrides } from './broadcast.js';
import { numel, runtimeValue } from './shape-utils.js';
import type { PlannedOp, PlanValue } from './types.js';

/** One [m, k] x [k, n] product into out[outAt ...], accumulating each row in `row`. */
function multiplyInto(
  a: Float32Array, aAt: number, b: Float32Array, bAt: number, out: Float32Array, outAt: number,
  m: number, k: number, n: number, row: Float64Array,
): void {
  for (let i = 0; i < m; i++) {
    row.fill(0);
    const aRow = aAt + i * k;
    for (let p = 0; p < k; p++) {
      const scale = a[aRow + p];
      const bRow = bAt + p * n;
      for (let j = 0; j < n; j++) row[j] += scale * b[bRow + j];
    }
    const outRow = outAt + i * n;
    for (let j = 0; j < n; j++) out[outRow + j] = row[j];
  }
}

export function planBatchedMatMul(owner: string, a: PlanValue, b: PlanValue, activation: Activation): PlannedOp {
  const aShape = a.shape.length === 1 ? [1, a.shape[0]] : a.shape;
  const bShape = b.shape.length === 1 ? [b.shape[0], 1] : b.shape;
  if (aShape.length < 2 || bShape.length < 2) throw new ShapeError(`${owner}: MatMul operands must have rank 1 or more, got scalars`);
  const [m, k] = aShape.slice(-2);
  const [kb, n] = bShape.slice(-2);
  if (k !== kb) throw new ShapeError(`${owner}: inner dimensions differ: A [${a.shape.join(', ')}], B [${b.shape.join(', ')}]`);
  const batchShape = broadcastShapes(aShape.slice(0, -2), bShape.slice(0, -2), owner);
  const aStrides = broadcastStrides(aShape.slice(0, -2), batchShape);
  const bStrides = broadcastStrides(bShape.slice(0, -2), batchShape);
  const batches = numel(batchShape);
  let shape = [...batchShape, m, n];
  if (a.shape.length === 1) shape = shape.filter((_, i) => i !== shape.length - 2);
  if (b.shape.length === 1) shape = shape.slice(0, -1);
  // Matrix offsets of A and B for each batch index, computed once per plan.
  const aOffsets = new Int32Array(batches);
  const bOffsets = new Int32Array(batches);
  for (let t = 0; t < batches; t++) {
    let rest = t;
    for (let axis = batchShape.length - 1; axis >= 0; axis--) {
      const c = rest % batchShape[axis];
      rest = Math.floor(rest / batchShape[axis]);
      aOffsets[t] += c * aStrides[axis];
      bOffsets[t] += c * bStrides[axis];
    }
  }
  const row = new Float64Array(n);
  return {
    outputs: [runtimeValue(shape, null)],
    multiplyAdds: batches * m * n * k,
    execution: {
      runSync(ins, outs) {
        const out = outs[0];
        for (let t = 0; t < batches; t++) {
          multiplyInto(ins[0], aOffsets[t] * m * k, ins[1], bOffsets[t] * k * n, out, t * m * n, m, k, n, row);
        }
        applyActivation(out, activation);
      },
    },
  };
}
