/**
 * Batched MatMul with both operands at run time (attention's Q K^T and attn V): C[t] = A[t] B[t]
 * for every index t of the broadcast batch dimensions (numpy.matmul; operands of rank 2 or
 * more, rank-1 ones are promoted by the caller). Each product runs on the packed GEMM
 * (lib/kernels/gemm.ts): every distinct A matrix is packed into MR-row panels once per call, B
 * is read in place as a strided matrix (row stride n), and the activation is the GEMM epilogue.
 * The native backend does the same on its GEMM driver (native/ops/matmul.cc).
 */
import { checkActivation, type Activation } from '../activation.js';
import { ShapeError } from '../errors.js';
import { expectLength } from './checks.js';
import { gemm, packRows, type GemmEpilogue } from './gemm.js';

/** The geometry of one batched product, derived once from the operand shapes. */
export interface MatMulPlan {
  readonly m: number;
  readonly k: number;
  readonly n: number;
  /** The broadcast batch dimensions; the output is [...batchShape, m, n]. */
  readonly batchShape: readonly number[];
  readonly aMatrices: number;
  readonly bMatrices: number;
  /** For each output batch index, which A and which B matrix it multiplies. */
  readonly aIndex: Int32Array;
  readonly bIndex: Int32Array;
}

const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/** Checks aShape [..., m, k] and bShape [..., k, n] and plans the broadcast; ShapeError names the rule. */
export function planMatMul(owner: string, aShape: readonly number[], bShape: readonly number[]): MatMulPlan {
  for (const [name, shape] of [['aShape', aShape], ['bShape', bShape]] as const) {
    if (!Array.isArray(shape) || shape.length < 2 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new ShapeError(`${owner}: ${name} must list 2 or more positive integer dimensions, got ${JSON.stringify(shape)}`);
    }
  }
  const [m, k] = aShape.slice(-2);
  const [kb, n] = bShape.slice(-2);
  if (k !== kb) throw new ShapeError(`${owner}: inner dimensions differ: aShape ${shapeText(aShape)}, bShape ${shapeText(bShape)}`);
  const aBatch = aShape.slice(0, -2);
  const bBatch = bShape.slice(0, -2);
  const rank = Math.max(aBatch.length, bBatch.length);
  const aDims = Array.from({ length: rank }, (_, i) => aBatch[i - rank + aBatch.length] ?? 1);
  const bDims = Array.from({ length: rank }, (_, i) => bBatch[i - rank + bBatch.length] ?? 1);
  const batchShape = aDims.map((da, i) => {
    const db = bDims[i];
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(`${owner}: batch dimensions do not broadcast: aShape ${shapeText(aShape)}, bShape ${shapeText(bShape)}`);
    }
    return Math.max(da, db);
  });
  const batches = batchShape.reduce((p, d) => p * d, 1);
  const aIndex = new Int32Array(batches);
  const bIndex = new Int32Array(batches);
  for (let t = 0; t < batches; t++) {
    let rest = t, aStride = 1, bStride = 1;
    for (let axis = rank - 1; axis >= 0; axis--) {
      const c = rest % batchShape[axis];
      rest = Math.floor(rest / batchShape[axis]);
      if (aDims[axis] !== 1) aIndex[t] += c * aStride;
      if (bDims[axis] !== 1) bIndex[t] += c * bStride;
      aStride *= aDims[axis];
      bStride *= bDims[axis];
    }
  }
  return {
    m, k, n, batchShape, aIndex, bIndex,
    aMatrices: aDims.reduce((p, d) => p * d, 1),
    bMatrices: bDims.reduce((p, d) => p * d, 1),
  };
}

/** output = act(a x b) per broadcast batch; see the file comment. output must not overlap a or b. */
export function matMul(
  a: Float32Array, aShape: readonly number[], b: Float32Array, bShape: readonly number[],
  output: Float32Array, activation: Activation, plan = planMatMul('matMul', aShape, bShape),
): void {
  const { m, k, n, aIndex, bIndex } = plan;
  expectLength('matMul', 'a', a, plan.aMatrices * m * k, `aShape ${shapeText(aShape)}`);
  expectLength('matMul', 'b', b, plan.bMatrices * k * n, `bShape ${shapeText(bShape)}`);
  expectLength('matMul', 'output', output, aIndex.length * m * n, `the broadcast batch x ${m} x ${n}`);
  checkActivation(activation, 'matMul');
  const packed = Array.from({ length: plan.aMatrices }, (_, i) => packRows(a, m, k, i * m * k));
  const epilogue: GemmEpilogue = { bias: null, biasOffset: 0, residual: null, activation };
  for (let t = 0; t < aIndex.length; t++) {
    gemm(packed[aIndex[t]], { data: b, offset: bIndex[t] * k * n, rowStride: n, colStride: 1 }, n,
      { data: output, offset: t * m * n, rowStride: n, colStride: 1 }, epilogue);
  }
}
