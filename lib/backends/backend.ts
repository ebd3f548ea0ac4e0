/**
 * The contract between layers and the code that runs them. A backend turns a layer's static
 * description (weights, kernel, stride, fused activation ...) into a prepared kernel once, then
 * runs it many times over caller-owned Float32Arrays: inputs are read and outputs written in
 * place, never copied. Geometry always comes from lib/planner/geometry.ts.
 */
import type { ConvGeometry, PaddingSpec, Pair, WindowGeometry } from '../planner/geometry.js';
import type { ConvAlgorithm, ConvPlan } from '../planner/conv-plan.js';

export type BackendName = 'js' | 'native';

import type { Activation } from '../activation.js';
import type { BinaryOp, ChannelAffine } from '../kernels/elementwise.js';

// The activation's one definition lives at the bottom of the house; re-exported for backends.
export type { Activation, ActivationKind } from '../activation.js';
export { NO_ACTIVATION } from '../activation.js';
export type { BinaryOp, ChannelAffine } from '../kernels/elementwise.js';

export type { ConvAlgorithm, ConvPlan } from '../planner/conv-plan.js';

/**
 * What a backend needs to prepare a convolution; weights are [Cout, Cin/groups, KH, KW]. The
 * backend plans the conv once from this static description (lib/planner/conv-plan.ts): runs
 * must use the same stride and dilation, or they are refused.
 */
export interface ConvWeights {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly groups: number;
  readonly kernelH: number;
  readonly kernelW: number;
  readonly weight: Float32Array;
  readonly bias: Float32Array | null;
  /** Applied after bias and residual: out = act(conv(x) + bias + residual). */
  readonly activation: Activation;
  /** Step between filter positions [h, w] (default [1, 1]). */
  readonly stride?: Pair;
  /** Spacing between filter taps [h, w] (default [1, 1]). */
  readonly dilation?: Pair;
  /** The conv's padding when known (only decides whether a 1x1 conv reads its input in place). */
  readonly padding?: PaddingSpec;
  /** The input [H, W] to plan for, when known (runs at other sizes still work; see conv-plan.ts). */
  readonly inputSize?: Pair;
  /** Force an algorithm (it must compute this conv); default: the planner's rule. */
  readonly algorithm?: ConvAlgorithm;
  /** Packed weight bytes this conv may take (the rule then passes over larger forms); default: no limit. */
  readonly maxPackedBytes?: number;
}

/** A prepared convolution: weights are packed once, `run` may be called concurrently. */
export interface ConvKernel {
  /** The algorithm chosen at prepare and the packed bytes it costs (absent on custom backends). */
  readonly plan?: ConvPlan;
  /**
   * input: N x Cin x H x W, output: N x Cout x outH x outW, residual (optional): same shape as
   * output, added before the activation (a ResNet shortcut).
   */
  runSync(input: Float32Array, geometry: ConvGeometry, output: Float32Array, residual?: Float32Array | null): void;
  /** The same, off the JS main thread where the backend can (native); resolves when output is written. */
  run(input: Float32Array, geometry: ConvGeometry, output: Float32Array, residual?: Float32Array | null): Promise<void>;
}

/** What a backend needs to prepare a fully connected layer; weight is [outFeatures, inFeatures]. */
export interface LinearWeights {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: Float32Array;
  readonly bias: Float32Array | null;
  readonly activation: Activation;
}

export interface LinearKernel {
  /** input: batch x inFeatures, output: batch x outFeatures. */
  runSync(input: Float32Array, batch: number, output: Float32Array): void;
  run(input: Float32Array, batch: number, output: Float32Array): Promise<void>;
}

export type PoolKind = 'max' | 'avg';

export interface PoolGeometry extends WindowGeometry {
  readonly batch: number;
  readonly channels: number;
  readonly kind: PoolKind;
  /** Average pooling: count padded cells in the divisor (true) or only real ones (false). */
  readonly countIncludePad: boolean;
}

export interface Backend {
  readonly name: BackendName;
  /**
   * True when calls started without awaiting the previous ones still take effect in call order
   * wherever they share memory (a later call that reads an earlier call's output waits for it).
   * Graph runtimes then queue consecutive kernels and await once, instead of once per kernel.
   */
  readonly ordersQueuedCalls: boolean;
  prepareConv2d(weights: ConvWeights): ConvKernel;
  prepareLinear(weights: LinearWeights): LinearKernel;
  /** input: N x C x H x W, output: N x C x outH x outW. */
  pool2dSync(input: Float32Array, geometry: PoolGeometry, output: Float32Array): void;
  pool2d(input: Float32Array, geometry: PoolGeometry, output: Float32Array): Promise<void>;
  /** Reduces each of batch*channels planes of `plane` values to one value. */
  globalPool2dSync(input: Float32Array, kind: PoolKind, planes: number, plane: number, output: Float32Array): void;
  globalPool2d(input: Float32Array, kind: PoolKind, planes: number, plane: number, output: Float32Array): Promise<void>;

  // The element-wise engine: what is not fused into a conv / Gemm epilogue runs here.
  /** output = act(input), element by element; output may be input. */
  unarySync(input: Float32Array, output: Float32Array, activation: Activation): void;
  unary(input: Float32Array, output: Float32Array, activation: Activation): Promise<void>;
  /** output = act(a op b) under numpy broadcasting; outShape is the broadcast of aShape and bShape. */
  binarySync(op: BinaryOp, a: Float32Array, aShape: readonly number[], b: Float32Array, bShape: readonly number[],
    output: Float32Array, outShape: readonly number[], activation?: Activation): void;
  binary(op: BinaryOp, a: Float32Array, aShape: readonly number[], b: Float32Array, bShape: readonly number[],
    output: Float32Array, outShape: readonly number[], activation?: Activation): Promise<void>;
  /** Per-channel (or per image and channel) scale and shift, then the activation: see ChannelAffine. */
  channelAffineSync(input: Float32Array, affine: ChannelAffine, output: Float32Array): void;
  channelAffine(input: Float32Array, affine: ChannelAffine, output: Float32Array): Promise<void>;
}
