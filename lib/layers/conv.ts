/**
 * Conv2d: the lecture's cross-correlation "convolution" with stride, padding, dilation and
 * groups; DepthwiseConv2d is the groups = channels case.
 */
import { activeBackend } from '../backends/index.js';
import type { Activation, ActivationKind, Backend, ConvKernel } from '../backends/backend.js';
import { ParameterError, ShapeError } from '../errors.js';
import {
  checkConvChannels,
  checkPaddingSpec,
  effectiveKernel,
  planConv,
  toPair,
  type ConvGeometry,
  type PaddingSpec,
  type Pair,
  nextReceptiveField,
} from '../planner/geometry.js';
import { Tensor, formatShape } from '../tensor.js';
import { toActivation } from '../activation.js';
import { type FieldState, positiveInt, layerLabel } from './layer.js';
import { checkOptionNames, optionalBoolean } from '../options.js';
import { WeightedLayer } from './weighted.js';

export interface Conv2dOptions {
  /** Channels of the input, Cin. */
  inChannels: number;
  /** Number of filters, Cout (channels of the output). */
  outChannels: number;
  /** Filter size K, or [KH, KW]. */
  kernelSize: number | Pair;
  /** Step between filter positions, S (default 1). */
  stride?: number | Pair;
  /** Zero padding: P, [PH, PW], [top, left, bottom, right], 'valid', 'same', 'same_lower' or 'full' (default 0). */
  padding?: PaddingSpec;
  /** Spacing between filter taps, D (default 1); the filter spans D(K-1)+1 pixels. */
  dilation?: number | Pair;
  /** Split channels into G groups, each with its own filters (default 1; Cin for depthwise). */
  groups?: number;
  /** Add a learned bias per filter (default true). */
  bias?: boolean;
  /** Activation fused into the kernel's epilogue (default 'none'). */
  activation?: ActivationKind | Activation;
  /**
   * Packed weight bytes the backend may keep for this layer (default: no limit). Faster forms
   * that cost more (Winograd keeps 16/9 or 36/9 of the filters) are passed over for one that
   * fits; the compact form (about the filters' size) is always allowed. See lib/planner/conv-plan.ts.
   */
  maxPackedBytes?: number;
  name?: string;
}

const CONV2D_OPTIONS = [
  'inChannels',
  'outChannels',
  'kernelSize',
  'stride',
  'padding',
  'dilation',
  'groups',
  'bias',
  'activation',
  'maxPackedBytes',
  'name',
] as const satisfies ReadonlyArray<keyof Conv2dOptions>;

export class Conv2d extends WeightedLayer<ConvKernel> {
  readonly type: string = 'Conv2d';
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: Pair;
  readonly stride: Pair;
  readonly padding: PaddingSpec;
  readonly dilation: Pair;
  readonly groups: number;
  readonly activation: Activation;
  readonly maxPackedBytes: number | undefined;
  /** The input [H, W] the kernels are planned for: the first one this layer ran on. */
  private plannedInput: Pair | undefined;

  constructor(options: Conv2dOptions) {
    super(options?.name);
    if (options === null || typeof options !== 'object') {
      throw new ParameterError(`Conv2d: options must be an object, got ${String(options)}`);
    }
    const owner = layerLabel('Conv2d', options.name);
    checkOptionNames(options, CONV2D_OPTIONS, 'Conv2d', owner);
    this.inChannels = options.inChannels;
    this.outChannels = options.outChannels;
    this.groups = options.groups ?? 1;
    checkConvChannels(owner, this.inChannels, this.outChannels, this.groups);
    if (options.kernelSize === undefined) throw new ParameterError(`${owner}: kernelSize is required`);
    this.kernelSize = toPair(options.kernelSize, 1, 'kernelSize', owner);
    this.stride = toPair(options.stride, 1, 'stride', owner);
    this.dilation = toPair(options.dilation, 1, 'dilation', owner);
    this.padding = options.padding ?? 0;
    checkPaddingSpec(this.padding, owner);
    this.activation = toActivation(options.activation, owner);
    const limit = options.maxPackedBytes;
    if (limit !== undefined && !(typeof limit === 'number' && Number.isFinite(limit) && limit >= 0)) {
      throw new ParameterError(`${owner}: maxPackedBytes must be a non-negative number of bytes, got ${String(limit)}`);
    }
    this.maxPackedBytes = limit;
    const [kh, kw] = this.kernelSize;
    const fanIn = (this.inChannels / this.groups) * kh * kw;
    // Filters are [Cout, Cin/groups, KH, KW]; one bias per filter.
    const bias = optionalBoolean(options.bias, true, 'bias', owner);
    this.initParameters([this.outChannels, this.inChannels / this.groups, kh, kw], bias ? this.outChannels : null, fanIn);
  }

  geometry(inputShape: readonly number[]): ConvGeometry {
    return planConv(this.label, inputShape, {
      kernel: this.kernelSize,
      stride: this.stride,
      dilation: this.dilation,
      padding: this.padding,
      inChannels: this.inChannels,
      outChannels: this.outChannels,
      groups: this.groups,
    });
  }

  outputShape(inputShape: readonly number[]): number[] {
    const g = this.geometry(inputShape);
    return [g.batch, this.outChannels, g.outH, g.outW];
  }

  /** Cout * H' * W' * (Cin / groups) * KH * KW per image, times N. */
  override multiplyAdds(inputShape: readonly number[]): number {
    const g = this.geometry(inputShape);
    const [kh, kw] = this.kernelSize;
    return g.batch * this.outChannels * g.outH * g.outW * (this.inChannels / this.groups) * kh * kw;
  }

  override nextField(field: FieldState | null): FieldState | null {
    return nextReceptiveField(field, this.kernelSize, this.dilation, this.stride);
  }

  override warnings(inputShape: readonly number[]): string[] {
    const g = this.geometry(inputShape);
    return g.exact ? [] : [inexactStrideWarning(g, this.kernelSize, this.dilation)];
  }

  forwardSync(x: Tensor): Tensor {
    return this.forwardFusedSync(x, this.activation, null);
  }

  forward(x: Tensor): Promise<Tensor> {
    return this.forwardFused(x, this.activation, null);
  }

  /**
   * Runs with an activation (and optionally a residual, added before it) fused into the
   * kernel's epilogue: out = act(conv(x) + bias + residual). Sequential and blocks use this.
   */
  forwardFusedSync(x: Tensor, activation: Activation, residual: Tensor | null): Tensor {
    const { kernel, geometry, output } = this.prepareRun(x, activation, residual);
    if (output.size > 0) kernel.runSync(x.data, geometry, output.data, residual?.data ?? null);
    return output;
  }

  async forwardFused(x: Tensor, activation: Activation, residual: Tensor | null): Promise<Tensor> {
    const { kernel, geometry, output } = this.prepareRun(x, activation, residual);
    if (output.size > 0) await kernel.run(x.data, geometry, output.data, residual?.data ?? null);
    return output;
  }

  /**
   * Checks the input (and residual) and allocates the output. An empty output (a batch of 0,
   * as imagesToBatch gives when nothing decodes) is returned without calling the kernel: the
   * native addon refuses zero-sized geometry, and there is nothing to compute.
   */
  private prepareRun(x: Tensor, activation: Activation, residual: Tensor | null) {
    this.checkInput(x);
    const geometry = this.geometry(x.shape);
    const outShape = [geometry.batch, this.outChannels, geometry.outH, geometry.outW];
    if (residual !== null) {
      if (!(residual instanceof Tensor) || formatShape(residual.shape) !== formatShape(outShape)) {
        throw new ShapeError(
          `${this.label}: residual must have the output's shape ${formatShape(outShape)}, got ${
            residual instanceof Tensor ? formatShape(residual.shape) : typeof residual
          }`,
        );
      }
    }
    this.plannedInput ??= [geometry.inH, geometry.inW];
    return { kernel: this.kernelFor(activeBackend(), activation), geometry, output: new Tensor(outShape) };
  }

  protected prepare(backend: Backend, activation: Activation): ConvKernel {
    return backend.prepareConv2d({
      inChannels: this.inChannels,
      outChannels: this.outChannels,
      groups: this.groups,
      kernelH: this.kernelSize[0],
      kernelW: this.kernelSize[1],
      weight: this.weight.data,
      bias: this.bias?.data ?? null,
      activation,
      stride: this.stride,
      dilation: this.dilation,
      padding: this.padding,
      inputSize: this.plannedInput,
      maxPackedBytes: this.maxPackedBytes,
    });
  }
}

export interface DepthwiseConv2dOptions {
  /** Channels in (and, with depthMultiplier 1, out). */
  channels: number;
  kernelSize: number | Pair;
  stride?: number | Pair;
  padding?: PaddingSpec;
  dilation?: number | Pair;
  /** Filters per input channel (default 1): outChannels = channels * depthMultiplier. */
  depthMultiplier?: number;
  bias?: boolean;
  activation?: ActivationKind | Activation;
  name?: string;
}

const DEPTHWISE_OPTIONS = [
  'channels',
  'kernelSize',
  'stride',
  'padding',
  'dilation',
  'depthMultiplier',
  'bias',
  'activation',
  'name',
] as const satisfies ReadonlyArray<keyof DepthwiseConv2dOptions>;

/** One filter per input channel (groups = channels): the spatial half of a separable conv. */
export class DepthwiseConv2d extends Conv2d {
  override readonly type: string = 'DepthwiseConv2d';

  constructor(options: DepthwiseConv2dOptions) {
    const owner = layerLabel('DepthwiseConv2d', options?.name);
    checkOptionNames(options, DEPTHWISE_OPTIONS, 'DepthwiseConv2d', owner);
    const channels = positiveInt(options?.channels, 'channels', owner);
    const multiplier = positiveInt(options.depthMultiplier ?? 1, 'depthMultiplier', owner);
    const { channels: _channels, depthMultiplier: _multiplier, ...convOptions } = options;
    super({ ...convOptions, inChannels: channels, outChannels: channels * multiplier, groups: channels });
  }
}

/** The lecture's advice: choose hyper-parameters so (W - K + 2P) / S is exact. */
export function inexactStrideWarning(g: { inH: number; inW: number; strideH: number; strideW: number; pads: ConvGeometry['pads'] }, kernel: Pair, dilation: Pair): string {
  const parts: string[] = [];
  const axes = [
    ['height', g.inH, g.pads.top + g.pads.bottom, effectiveKernel(kernel[0], dilation[0]), g.strideH],
    ['width', g.inW, g.pads.left + g.pads.right, effectiveKernel(kernel[1], dilation[1]), g.strideW],
  ] as const;
  for (const [axis, size, pad, kEff, stride] of axes) {
    const span = size + pad - kEff;
    if (span % stride !== 0) {
      parts.push(`${axis}: (${size} - ${kEff} + ${pad}) = ${span} is not divisible by stride ${stride}, so the last ${span % stride} row(s)/column(s) are never covered`);
    }
  }
  return parts.join('; ');
}
