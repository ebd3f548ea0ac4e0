/** Every operator convnode runs, by ONNX op type, and how each is built. */
import { buildBatchNormAffine } from './channel-affine.js';
import { buildConv } from './conv.js';
import { buildConvTranspose } from './conv-transpose.js';
import { BINARY_OPS, buildBinary, buildPRelu, buildUnary, UNARY_OPS } from './elementwise.js';
import { buildEinsum } from './einsum.js';
import { buildGemm, buildMatMul } from './linear.js';
import { buildConstantOfShape, buildExpand, buildMathElementwise, buildRange, buildTile, MATH_ELEMENTWISE_OPS } from './math-ops.js';
import { CHANNEL_LAYER_NORM } from '../fusion-channels-last.js';
import { buildChannelLayerNorm, buildGroupNormalization, buildInstanceNormalization, buildLayerNormalization } from './normalization.js';
import { buildPad } from './pad.js';
import { buildGlobalPool, buildPool } from './pool.js';
import { buildReduce, REDUCE_OPS } from './reduce.js';
import { buildResize } from './resize.js';
import { buildScatterND } from './scatter-nd.js';
import {
  buildCast, buildConstant, buildFlatten, buildGather, buildIdentity, buildReshape, buildShape, buildSlice,
  buildSqueeze, buildTranspose, buildUnsqueeze,
} from './shape-ops.js';
import { buildSplit } from './split.js';
import { buildConcat, buildSoftmax } from './tensor-ops.js';
import type { BuildContext, CompiledOp } from './types.js';

export type OpBuilder = (ctx: BuildContext) => CompiledOp;

const BUILDERS: Record<string, OpBuilder> = {
  Conv: (ctx) => buildConv(ctx, { output: ctx.node.outputs[0] }),
  ConvTranspose: buildConvTranspose,
  Gemm: (ctx) => buildGemm(ctx, { output: ctx.node.outputs[0] }),
  MatMul: (ctx) => buildMatMul(ctx, { output: ctx.node.outputs[0] }),
  BatchNormalization: (ctx) => buildBatchNormAffine(ctx, { output: ctx.node.outputs[0] }),
  LayerNormalization: buildLayerNormalization,
  InstanceNormalization: buildInstanceNormalization,
  GroupNormalization: buildGroupNormalization,
  MaxPool: buildPool,
  AveragePool: buildPool,
  GlobalAveragePool: buildGlobalPool,
  GlobalMaxPool: buildGlobalPool,
  Concat: buildConcat,
  Pad: buildPad,
  Softmax: buildSoftmax,
  Constant: buildConstant,
  Shape: buildShape,
  Gather: buildGather,
  Slice: buildSlice,
  Cast: buildCast,
  Reshape: buildReshape,
  Flatten: buildFlatten,
  Squeeze: buildSqueeze,
  Unsqueeze: buildUnsqueeze,
  Transpose: buildTranspose,
  Split: buildSplit,
  Resize: buildResize,
  Upsample: buildResize,
  Identity: buildIdentity,
  PRelu: buildPRelu,
  Dropout: buildIdentity,
  ...Object.fromEntries(BINARY_OPS.map((op) => [op, buildBinary])),
  ...Object.fromEntries(UNARY_OPS.map((op) => [op, buildUnary])),
  ...Object.fromEntries(REDUCE_OPS.map((op) => [op, buildReduce])),
  ...Object.fromEntries(MATH_ELEMENTWISE_OPS.map((op) => [op, buildMathElementwise])),
  Expand: buildExpand,
  Tile: buildTile,
  ConstantOfShape: buildConstantOfShape,
  Range: buildRange,
  Einsum: buildEinsum,
  ScatterND: buildScatterND,
  // Made by fusion only (fusion-channels-last.ts): not an ONNX op, left out of SUPPORTED_OPS.
  [CHANNEL_LAYER_NORM]: buildChannelLayerNorm,
};

/** The op types convnode implements, sorted, for error messages and docs. */
export const SUPPORTED_OPS: readonly string[] = Object.freeze(Object.keys(BUILDERS).filter((op) => op !== CHANNEL_LAYER_NORM).sort());

export function builderFor(opType: string): OpBuilder | undefined {
  return Object.hasOwn(BUILDERS, opType) ? BUILDERS[opType] : undefined;
}

/** Ops that may be evaluated at load when all their inputs are constants. */
export const FOLDABLE_OPS = new Set([
  'Constant', 'Gather', 'Slice', 'Cast', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Transpose', 'Identity',
  'Concat', 'Pad', 'Split', 'Resize', 'Upsample', 'PRelu', ...BINARY_OPS, ...UNARY_OPS, ...REDUCE_OPS,
  ...MATH_ELEMENTWISE_OPS, 'Expand', 'Tile', 'ConstantOfShape', 'Range', 'Einsum', 'ScatterND',
]);
