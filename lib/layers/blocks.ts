/**
 * The lecture's efficient building blocks: the depthwise-separable conv (a depthwise spatial
 * filter per channel, then a 1x1 pointwise mix) and MobileNetV2's inverted bottleneck
 * (expand with 1x1, filter depthwise, project back with 1x1, add the shortcut).
 */
import type { Activation, ActivationKind } from '../backends/backend.js';
import { ParameterError } from '../errors.js';
import type { PaddingSpec, Pair } from '../planner/geometry.js';
import { Tensor } from '../tensor.js';
import { toActivation } from '../activation.js';
import { Conv2d, DepthwiseConv2d } from './conv.js';
import { positiveInt, layerLabel } from './layer.js';
import { checkOptionNames } from '../options.js';
import { Sequential } from './sequential.js';

export interface SeparableConv2dOptions {
  inChannels: number;
  outChannels: number;
  /** Depthwise filter size (default 3). */
  kernelSize?: number | Pair;
  stride?: number | Pair;
  /** Depthwise padding (default 'same'). */
  padding?: PaddingSpec;
  dilation?: number | Pair;
  bias?: boolean;
  /** Activation after the pointwise conv (default 'none'). */
  activation?: ActivationKind | Activation;
  name?: string;
}

const SEPARABLE_OPTIONS = [
  'inChannels',
  'outChannels',
  'kernelSize',
  'stride',
  'padding',
  'dilation',
  'bias',
  'activation',
  'name',
] as const satisfies ReadonlyArray<keyof SeparableConv2dOptions>;

/** Depthwise K x K then pointwise 1x1: Cin*K*K + Cin*Cout weights instead of Cin*Cout*K*K. */
export class SeparableConv2d extends Sequential {
  override readonly type: string = 'SeparableConv2d';

  constructor(options: SeparableConv2dOptions) {
    const owner = layerLabel('SeparableConv2d', options?.name);
    checkOptionNames(options, SEPARABLE_OPTIONS, 'SeparableConv2d', owner);
    const inChannels = positiveInt(options?.inChannels, 'inChannels', owner);
    const outChannels = positiveInt(options.outChannels, 'outChannels', owner);
    super(
      [
        new DepthwiseConv2d({
          name: 'depthwise',
          channels: inChannels,
          kernelSize: options.kernelSize ?? 3,
          stride: options.stride,
          padding: options.padding ?? 'same',
          dilation: options.dilation,
          bias: options.bias,
        }),
        new Conv2d({
          name: 'pointwise',
          inChannels,
          outChannels,
          kernelSize: 1,
          bias: options.bias,
          activation: toActivation(options.activation, owner),
        }),
      ],
      { name: options.name },
    );
  }
}

export interface InvertedResidualOptions {
  inChannels: number;
  outChannels: number;
  /** Hidden width = inChannels * expandRatio (default 6). */
  expandRatio?: number;
  /** Depthwise stride, 1 or 2 (default 1). The shortcut exists only at stride 1 with inChannels == outChannels. */
  stride?: 1 | 2;
  name?: string;
}

/**
 * MobileNetV2's block: 1x1 expand + ReLU6, 3x3 depthwise + ReLU6, 1x1 linear projection, plus
 * the input when shapes allow. The shortcut add is fused into the projection's epilogue.
 */
export class InvertedResidual extends Sequential {
  override readonly type: string = 'InvertedResidual';
  readonly useShortcut: boolean;
  private readonly project: Conv2d;

  constructor(options: InvertedResidualOptions) {
    const owner = layerLabel('InvertedResidual', options?.name);
    checkOptionNames(options, ['inChannels', 'outChannels', 'expandRatio', 'stride', 'name'], 'InvertedResidual', owner);
    const inChannels = positiveInt(options?.inChannels, 'inChannels', owner);
    const outChannels = positiveInt(options.outChannels, 'outChannels', owner);
    const ratio = options.expandRatio ?? 6;
    const stride = options.stride ?? 1;
    if (stride !== 1 && stride !== 2) throw new ParameterError(`${owner}: stride must be 1 or 2, got ${String(stride)}`);
    const hidden = positiveInt(Math.round(inChannels * ratio), 'inChannels * expandRatio', owner);
    const layers = [];
    if (ratio !== 1) {
      layers.push(new Conv2d({ name: 'expand', inChannels, outChannels: hidden, kernelSize: 1, bias: false, activation: 'relu6' }));
    }
    layers.push(
      new DepthwiseConv2d({ name: 'depthwise', channels: hidden, kernelSize: 3, stride, padding: 1, bias: false, activation: 'relu6' }),
    );
    const project = new Conv2d({ name: 'project', inChannels: hidden, outChannels, kernelSize: 1, bias: false });
    layers.push(project);
    super(layers, { name: options.name });
    this.project = project;
    this.useShortcut = stride === 1 && inChannels === outChannels;
  }

  override forwardSync(x: Tensor): Tensor {
    if (!this.useShortcut) return super.forwardSync(x);
    this.checkInput(x);
    let y = x;
    for (const layer of this.layers.slice(0, -1)) y = layer.forwardSync(y);
    return this.project.forwardFusedSync(y, this.project.activation, x);
  }

  override async forward(x: Tensor): Promise<Tensor> {
    if (!this.useShortcut) return super.forward(x);
    this.checkInput(x);
    let y = x;
    for (const layer of this.layers.slice(0, -1)) y = await layer.forward(y);
    return this.project.forwardFused(y, this.project.activation, x);
  }
}
