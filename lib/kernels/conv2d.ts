/**
 * f32-conv2d: a convolution planned and prepared once (weights packed), run many times. The
 * algorithm comes from lib/planner/conv-plan.ts's rule for the 'js' target:
 *  - 'depthwise' (groups == inChannels > 1, any channel multiplier): the kernel in dwconv.ts;
 *  - 'pointwise-gemm' (1x1, stride 1, no padding): one GEMM per group on the input planes;
 *  - 'winograd-f2x2-3x3' (3x3, stride 1, undilated, ungrouped, enough channels);
 *  - 'im2col-gemm' otherwise: im2col per image and group, then one GEMM per group.
 * A run must use the planned stride and dilation (a ShapeError says so otherwise).
 * The epilogue (bias, then residual, then activation) is fused into the GEMM, depthwise or
 * Winograd output pass.
 */
import type { Activation } from '../activation.js';
import type { ConvWeights } from './weights.js';
import { ParameterError, ShapeError } from '../errors.js';
import type { ConvGeometry } from '../planner/geometry.js';
import { checkConvChannels } from '../planner/geometry.js';
import { checkActivation } from '../activation.js';
import { checkWindowGeometry, expectCount, expectLength } from './checks.js';
import { depthwiseConv2d } from './dwconv.js';
import { gemm, packRows, type PackedMatrix } from './gemm.js';
import { im2col } from './im2col.js';
import { scratch } from './scratch.js';
import { transformFilters, winogradConv2d } from './winograd.js';
import { planConvAlgorithm, type ConvAlgorithm, type ConvPlan } from '../planner/conv-plan.js';

const OWNER = 'conv2d';

/** The algorithms the pure-JS kernels have (F(4x4), F(6x6) and the direct grouped kernel are native only). */
export type Conv2dPath = Exclude<ConvAlgorithm, 'winograd-f4x4-3x3' | 'winograd-f6x6-3x3' | 'grouped-direct'>;

export interface PreparedConv2d {
  readonly path: Conv2dPath;
  readonly plan: ConvPlan;
  runSync(input: Float32Array, geometry: ConvGeometry, output: Float32Array, residual?: Float32Array | null): void;
}

interface Layout {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly groups: number;
  readonly kernelH: number;
  readonly kernelW: number;
  readonly bias: Float32Array | null;
  readonly activation: Activation;
  readonly strideH: number;
  readonly strideW: number;
  readonly dilationH: number;
  readonly dilationW: number;
}

/** Checks the weights and packs them for the path this layer will take. */
export interface Conv2dOptions {
  /** Use Winograd F(2x2, 3x3) where the rule picks it (default true); false forces im2col + GEMM, for comparisons. */
  readonly winograd?: boolean;
}

export function prepareConv2d(weights: ConvWeights, options: Conv2dOptions = {}): PreparedConv2d {
  const { inChannels, outChannels, groups, kernelH, kernelW, weight, activation } = weights;
  const bias = weights.bias ?? null; // plain-JS callers may leave it out
  checkConvChannels(OWNER, inChannels, outChannels, groups);
  for (const [name, v] of [['kernelH', kernelH], ['kernelW', kernelW]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ParameterError(`${OWNER}: ${name} must be a positive integer, got ${String(v)}`);
  }
  checkActivation(activation, OWNER);
  const perGroupIn = inChannels / groups;
  const perGroupOut = outChannels / groups;
  const depth = perGroupIn * kernelH * kernelW;
  expectLength(OWNER, 'weight', weight, outChannels * depth,
    `[outChannels, inChannels / groups, kernelH, kernelW] = [${outChannels}, ${perGroupIn}, ${kernelH}, ${kernelW}]`);
  if (bias !== null) expectLength(OWNER, 'bias', bias, outChannels, `outChannels = ${outChannels}`);
  const stride = weights.stride ?? [1, 1];
  const dilation = weights.dilation ?? [1, 1];
  const forced = weights.algorithm ?? (options.winograd === false && kernelH === 3 && kernelW === 3 && groups === 1 ? 'im2col-gemm' : undefined);
  if (forced === 'winograd-f4x4-3x3' || forced === 'winograd-f6x6-3x3' || forced === 'grouped-direct') {
    throw new ParameterError(`${OWNER}: algorithm '${forced}' is native only`);
  }
  const plan = planConvAlgorithm({ ...weights, stride, dilation }, 'js', { algorithm: forced, maxPackedBytes: weights.maxPackedBytes }, bias !== null);
  const layout: Layout = {
    inChannels, outChannels, groups, kernelH, kernelW, bias, activation,
    strideH: stride[0], strideW: stride[1], dilationH: dilation[0], dilationW: dilation[1],
  };

  if (plan.algorithm === 'depthwise') {
    // Copy so later edits to the caller's weight cannot change a prepared kernel midway.
    const own = { weight: weight.slice(), bias: bias === null ? null : bias.slice(), activation };
    return {
      path: 'depthwise',
      plan,
      runSync(input, geometry, output, residual) {
        checkRun(layout, input, geometry, output, residual);
        depthwiseConv2d(input, geometry, own, output, residual ?? null);
      },
    };
  }
  const ownLayout: Layout = { ...layout, bias: bias === null ? null : bias.slice() };
  const packGroups = (source: Float32Array): PackedMatrix[] =>
    Array.from({ length: groups }, (_, group) => packRows(source, perGroupOut, depth, group * perGroupOut * depth));
  if (plan.algorithm === 'winograd-f2x2-3x3') {
    const filters = transformFilters(weight, inChannels, outChannels);
    return {
      path: 'winograd-f2x2-3x3',
      plan,
      runSync(input, geometry, output, residual) {
        checkRun(layout, input, geometry, output, residual);
        winogradConv2d(filters, input, geometry, output, residual ?? null, ownLayout);
      },
    };
  }
  const packed = packGroups(weight);
  return {
    path: plan.algorithm as Conv2dPath,
    plan,
    runSync(input, geometry, output, residual) {
      checkRun(layout, input, geometry, output, residual);
      runGemmConv(ownLayout, packed, input, geometry, output, residual ?? null);
    },
  };
}

/**
 * Floats the im2col buffer may take (16 MiB): big images are convolved in bands of output rows
 * so memory stays bounded; a band is still many GEMM column chunks wide, so this costs nothing.
 */
const COLUMN_BUFFER_FLOATS = 1 << 22;

function runGemmConv(
  layout: Layout, packed: PackedMatrix[], input: Float32Array, g: ConvGeometry, output: Float32Array,
  residual: Float32Array | null,
): void {
  const { groups, inChannels, outChannels, bias, activation } = layout;
  const perGroupIn = inChannels / groups;
  const perGroupOut = outChannels / groups;
  const plane = g.inH * g.inW;
  const outPlane = g.outH * g.outW;
  const { pads } = g;
  const direct = g.kernelH === 1 && g.kernelW === 1 && g.strideH === 1 && g.strideW === 1 &&
    pads.top === 0 && pads.left === 0 && pads.bottom === 0 && pads.right === 0;
  const depth = packed[0].depth;
  const bandRows = direct ? g.outH : Math.max(1, Math.min(g.outH, Math.floor(COLUMN_BUFFER_FLOATS / (depth * g.outW))));
  const columns = direct ? input : scratch('conv2d.columns', depth * bandRows * g.outW);
  for (let n = 0; n < g.batch; n++) {
    for (let group = 0; group < groups; group++) {
      const inAt = (n * inChannels + group * perGroupIn) * plane;
      const outAt = (n * outChannels + group * perGroupOut) * outPlane;
      for (let firstRow = 0; firstRow < g.outH; firstRow += bandRows) {
        const endRow = Math.min(g.outH, firstRow + bandRows);
        const bandColumns = (endRow - firstRow) * g.outW;
        if (!direct) im2col(input, inAt, perGroupIn, g, columns, firstRow, endRow);
        gemm(
          packed[group],
          { data: columns, offset: direct ? inAt : 0, rowStride: direct ? outPlane : bandColumns, colStride: 1 },
          bandColumns,
          { data: output, offset: outAt + firstRow * g.outW, rowStride: outPlane, colStride: 1 },
          { bias, biasOffset: group * perGroupOut, residual, activation },
        );
      }
    }
  }
}

/** The geometry must describe this layer, and every buffer must have the length it implies. */
function checkRun(
  layout: Layout, input: Float32Array, g: ConvGeometry, output: Float32Array, residual: Float32Array | null | undefined,
): void {
  checkWindowGeometry(OWNER, g, false);
  for (const key of ['inChannels', 'outChannels', 'groups', 'kernelH', 'kernelW'] as const) {
    if (g[key] !== layout[key]) {
      throw new ShapeError(`${OWNER}: geometry.${key} is ${String(g[key])} but the prepared weights have ${key} ${layout[key]}`);
    }
  }
  // The conv was planned (and packed) for one window: another would need another algorithm.
  for (const key of ['strideH', 'strideW', 'dilationH', 'dilationW'] as const) {
    if (g[key] !== layout[key]) {
      throw new ShapeError(`${OWNER}: geometry.${key} is ${String(g[key])} but the conv was planned for ${key} ${layout[key]}: prepare one conv per window`);
    }
  }
  expectCount(OWNER, 'geometry.batch', g.batch);
  const inSize = g.batch * g.inChannels * g.inH * g.inW;
  const outSize = g.batch * g.outChannels * g.outH * g.outW;
  expectLength(OWNER, 'input', input, inSize, `N x Cin x H x W = ${g.batch}x${g.inChannels}x${g.inH}x${g.inW}`);
  const outShape = `N x Cout x outH x outW = ${g.batch}x${g.outChannels}x${g.outH}x${g.outW}`;
  expectLength(OWNER, 'output', output, outSize, outShape);
  if (residual !== null && residual !== undefined) expectLength(OWNER, 'residual', residual, outSize, outShape);
  if (input.buffer === output.buffer && overlaps(input, output)) {
    throw new ParameterError(`${OWNER}: output must not share memory with input (the kernel reads input while writing output)`);
  }
  if (residual && residual.buffer === output.buffer && overlaps(residual, output)) {
    throw new ParameterError(`${OWNER}: output must not share memory with residual (the sums are stored before the residual is added)`);
  }
}

function overlaps(a: Float32Array, b: Float32Array): boolean {
  return a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}
