/**
 * MatMul with both operands computed at run time (attention's Q K^T and attn V), with
 * numpy.matmul semantics: rank-1 operands are promoted (a row for A, a column for B) and the
 * leading (batch) dimensions broadcast. A constant rank-2 B never gets here: linear.ts runs that
 * on the backend's packed Linear with rows = the product of A's leading dims.
 *
 * Each batch runs on the backend's packed GEMM (backend.matMul: lib/kernels/matmul.ts in pure
 * JS, native/ops/matmul.cc natively), one call for all batches, the activation in the epilogue.
 */
import type { Activation, Backend } from '../../backends/backend.js';
import { ShapeError } from '../../errors.js';
import { planMatMul } from '../../kernels/matmul.js';
import { numel, runtimeValue } from './shape-utils.js';
import type { PlannedOp, PlanValue } from './types.js';

export function planBatchedMatMul(
  owner: string, a: PlanValue, b: PlanValue, activation: Activation, backend: Backend,
): PlannedOp {
  if (a.shape.length < 1 || b.shape.length < 1) throw new ShapeError(`${owner}: MatMul operands must have rank 1 or more, got scalars`);
  const aShape = a.shape.length === 1 ? [1, a.shape[0]] : a.shape;
  const bShape = b.shape.length === 1 ? [b.shape[0], 1] : b.shape;
  if (aShape[aShape.length - 1] !== bShape[bShape.length - 2]) {
    throw new ShapeError(`${owner}: inner dimensions differ: A [${a.shape.join(', ')}], B [${b.shape.join(', ')}]`);
  }
  const plan = planMatMul(owner, aShape, bShape);
  const { m, k, n, batchShape } = plan;
  let shape = [...batchShape, m, n];
  if (a.shape.length === 1) shape = shape.filter((_, i) => i !== shape.length - 2);
  if (b.shape.length === 1) shape = shape.slice(0, -1);
  return {
    outputs: [runtimeValue(shape, null)],
    multiplyAdds: numel(batchShape) * m * n * k,
    execution: {
      runSync: (ins, outs) => backend.matMulSync(ins[0], aShape, ins[1], bShape, outs[0], activation),
      run: (ins, outs) => backend.matMul(ins[0], aShape, ins[1], bShape, outs[0], activation),
      queuesOneCall: true,
    },
  };
}
