/**
 * Pooling: a fixed window summary per feature map (max or average), no parameters. Channels
 * never change; only H and W shrink. Global pooling covers the whole map.
 */
import { activeBackend } from '../backends/index.js';
import type { PoolGeometry, PoolKind } from '../backends/backend.js';
import { ParameterError, ShapeError } from '../errors.js';
import { checkPaddingSpec, expectNCHW, planWindow, toPair, type PaddingSpec, type Pair, effectiveKernel, resolvePads, nextReceptiveField } from '../planner/geometry.js';
import { Tensor } from '../tensor.js';
import { inexactStrideWarning } from './conv.js';
import { Layer, type FieldState, layerLabel } from './layer.js';
import { checkOptionNames, optionalBoolean } from '../options.js';

export interface Pool2dOptions {
  /** Window size K, or [KH, KW]. */
  kernelSize: number | Pair;
  /** Step between windows (default: kernelSize, so windows do not overlap). */
  stride?: number | Pair;
  /** Implicit padding (default 0): as Conv2d, but at most half the window on each side. */
  padding?: PaddingSpec;
  /** Round the output size up instead of down (default false). */
  ceilMode?: boolean;
  name?: string;
}

export interface MaxPool2dOptions extends Pool2dOptions {
  /** Spacing between window taps (default 1). */
  dilation?: number | Pair;
}

export interface AvgPool2dOptions extends Pool2dOptions {
  /** Count padded zeros in the average's divisor (default true, as PyTorch). */
  countIncludePad?: boolean;
}

const MAX_POOL_OPTIONS = ['kernelSize', 'stride', 'padding', 'dilation', 'ceilMode', 'name'] as const satisfies ReadonlyArray<
  keyof MaxPool2dOptions
>;
const AVG_POOL_OPTIONS = ['kernelSize', 'stride', 'padding', 'ceilMode', 'countIncludePad', 'name'] as const satisfies ReadonlyArray<
  keyof AvgPool2dOptions
>;

abstract class Pool2d extends Layer {
  abstract readonly kind: PoolKind;
  readonly kernelSize: Pair;
  readonly stride: Pair;
  readonly padding: PaddingSpec;
  readonly dilation: Pair;
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;

  constructor(options: MaxPool2dOptions & AvgPool2dOptions, type: string) {
    super(options?.name);
    const owner = layerLabel(type, options?.name);
    if (options === null || typeof options !== 'object' || options.kernelSize === undefined) {
      throw new ParameterError(`${owner}: options with a kernelSize are required`);
    }
    this.kernelSize = toPair(options.kernelSize, 1, 'kernelSize', owner);
    this.stride = options.stride === undefined ? this.kernelSize : toPair(options.stride, 1, 'stride', owner);
    this.dilation = toPair(options.dilation, 1, 'dilation', owner);
    this.padding = options.padding ?? 0;
    checkPaddingSpec(this.padding, owner);
    this.ceilMode = optionalBoolean(options.ceilMode, false, 'ceilMode', owner);
    this.countIncludePad = optionalBoolean(options.countIncludePad, true, 'countIncludePad', owner);
    // A window that lies wholly in padding has nothing to pool: PyTorch forbids pads above K/2.
    if (typeof this.padding !== 'string') {
      const pads = resolvePads(this.padding, 1, 1, 1, 1, this.stride);
      const halfH = Math.floor(effectiveKernel(this.kernelSize[0], this.dilation[0]) / 2);
      const halfW = Math.floor(effectiveKernel(this.kernelSize[1], this.dilation[1]) / 2);
      if (Math.max(pads.top, pads.bottom) > halfH || Math.max(pads.left, pads.right) > halfW) {
        throw new ParameterError(
          `${owner}: padding ${JSON.stringify(this.padding)} must be at most half the window (${halfH} x ${halfW} for kernelSize ${this.kernelSize.join('x')})`,
        );
      }
    }
  }

  geometry(inputShape: readonly number[]): PoolGeometry {
    const [batch, channels, h, w] = expectNCHW(this.label, inputShape);
    const window = planWindow(this.label, h, w, {
      kernel: this.kernelSize,
      stride: this.stride,
      dilation: this.dilation,
      padding: this.padding,
      ceilMode: this.ceilMode,
    });
    return { ...window, batch, channels, kind: this.kind, countIncludePad: this.countIncludePad };
  }

  outputShape(inputShape: readonly number[]): number[] {
    const g = this.geometry(inputShape);
    return [g.batch, g.channels, g.outH, g.outW];
  }

  override nextField(field: FieldState | null): FieldState | null {
    return nextReceptiveField(field, this.kernelSize, this.dilation, this.stride);
  }

  override warnings(inputShape: readonly number[]): string[] {
    const g = this.geometry(inputShape);
    return g.exact || this.ceilMode ? [] : [inexactStrideWarning(g, this.kernelSize, this.dilation)];
  }

  forwardSync(x: Tensor): Tensor {
    this.checkInput(x);
    const g = this.geometry(x.shape);
    const out = new Tensor([g.batch, g.channels, g.outH, g.outW]);
    // An empty batch (or no channels) has nothing to compute, and the native addon refuses it.
    if (out.size > 0) activeBackend().pool2dSync(x.data, g, out.data);
    return out;
  }

  async forward(x: Tensor): Promise<Tensor> {
    this.checkInput(x);
    const g = this.geometry(x.shape);
    const out = new Tensor([g.batch, g.channels, g.outH, g.outW]);
    if (out.size > 0) await activeBackend().pool2d(x.data, g, out.data);
    return out;
  }
}

/** Keeps the largest value in each window. */
export class MaxPool2d extends Pool2d {
  readonly type = 'MaxPool2d';
  readonly kind = 'max';
  constructor(options: MaxPool2dOptions) {
    checkOptionNames(options, MAX_POOL_OPTIONS, 'MaxPool2d', layerLabel('MaxPool2d', options?.name));
    super({ ...options, countIncludePad: false }, 'MaxPool2d');
  }
}

/** Keeps the mean of each window. */
export class AvgPool2d extends Pool2d {
  readonly type = 'AvgPool2d';
  readonly kind = 'avg';
  constructor(options: AvgPool2dOptions) {
    checkOptionNames(options, AVG_POOL_OPTIONS, 'AvgPool2d', layerLabel('AvgPool2d', options?.name));
    super({ ...options, dilation: 1 }, 'AvgPool2d');
  }
}

abstract class GlobalPool2d extends Layer {
  abstract readonly kind: PoolKind;

  /** N, C, H, W of an input; a map with no pixels has no mean or maximum. */
  private dims(inputShape: readonly number[]): [number, number, number, number] {
    const dims = expectNCHW(this.label, inputShape);
    const [, , h, w] = dims;
    if (h < 1 || w < 1) throw new ShapeError(`${this.label}: input is ${h}x${w}; height and width must be at least 1`);
    return dims;
  }

  outputShape(inputShape: readonly number[]): number[] {
    const [n, c] = this.dims(inputShape);
    return [n, c, 1, 1];
  }

  /** The window is the whole H x W map. */
  override nextField(field: FieldState | null, inputShape: readonly number[]): FieldState | null {
    const [, , h, w] = this.dims(inputShape);
    return nextReceptiveField(field, [h, w], [1, 1], [h, w]);
  }

  forwardSync(x: Tensor): Tensor {
    this.checkInput(x);
    const [n, c, h, w] = this.dims(x.shape);
    const out = new Tensor([n, c, 1, 1]);
    if (out.size > 0) activeBackend().globalPool2dSync(x.data, this.kind, n * c, h * w, out.data);
    return out;
  }

  async forward(x: Tensor): Promise<Tensor> {
    this.checkInput(x);
    const [n, c, h, w] = this.dims(x.shape);
    const out = new Tensor([n, c, 1, 1]);
    if (out.size > 0) await activeBackend().globalPool2d(x.data, this.kind, n * c, h * w, out.data);
    return out;
  }
}

/** Mean of each whole feature map: C x H x W -> C x 1 x 1, the usual step before a classifier. */
export class GlobalAvgPool2d extends GlobalPool2d {
  readonly type = 'GlobalAvgPool2d';
  readonly kind = 'avg';
  constructor(options: { name?: string } = {}) {
    super(options.name);
    checkOptionNames(options, ['name'], 'GlobalAvgPool2d', this.label);
  }
}

/** Maximum of each whole feature map. */
export class GlobalMaxPool2d extends GlobalPool2d {
  readonly type = 'GlobalMaxPool2d';
  readonly kind = 'max';
  constructor(options: { name?: string } = {}) {
    super(options.name);
    checkOptionNames(options, ['name'], 'GlobalMaxPool2d', this.label);
  }
}
