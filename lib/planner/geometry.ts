/**
 * The one place that turns kernel / stride / padding / dilation options into output sizes and
 * explicit pads. Layers, both backends, the ONNX importer and the summary all call it, so they
 * can never disagree about a shape.
 *
 * The lecture's formula, with dilation folded into an effective kernel size:
 *   K_eff = D * (K - 1) + 1
 *   O     = floor((W + P_before + P_after - K_eff) / S) + 1
 */
import { ParameterError, ShapeError } from '../errors.js';

export type Pair = readonly [number, number];

/**
 * Padding as a layer accepts it: one number for all sides, [h, w] (symmetric), [top, left,
 * bottom, right], or a mode. 'same' keeps H x W at stride 1 (at stride S: ceil(W / S)); when
 * the total is odd the extra pixel goes bottom/right, as ONNX SAME_UPPER does. 'same_lower'
 * puts it top/left (ONNX SAME_LOWER). 'full' pads K_eff - 1 on every side.
 */
export type PaddingSpec =
  | number
  | readonly [number, number]
  | readonly [number, number, number, number]
  | 'valid'
  | 'same'
  | 'same_lower'
  | 'full';

export interface Pads {
  readonly top: number;
  readonly left: number;
  readonly bottom: number;
  readonly right: number;
}

/** The static options of a sliding window (a convolution's or a pooling layer's). */
export interface WindowSpec {
  readonly kernel: Pair;
  readonly stride: Pair;
  readonly dilation: Pair;
  readonly padding: PaddingSpec;
  /** Pooling only: round the output size up instead of down (PyTorch ceil_mode). */
  readonly ceilMode?: boolean;
}

/** A window resolved against one input size: everything a kernel needs to run. */
export interface WindowGeometry {
  readonly inH: number;
  readonly inW: number;
  readonly kernelH: number;
  readonly kernelW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly dilationH: number;
  readonly dilationW: number;
  readonly pads: Pads;
  readonly outH: number;
  readonly outW: number;
  /** True when the stride divides (W + pads - K_eff) exactly along both axes. */
  readonly exact: boolean;
}

/** Reads a number-or-[h, w] option, checking it is a positive (or non-negative) integer. */
export function toPair(value: number | Pair | undefined, fallback: number, name: string, owner: string, min = 1): Pair {
  const pair: Pair = value === undefined ? [fallback, fallback] : typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(pair) || pair.length !== 2) {
    throw new ParameterError(`${owner}: ${name} must be a number or [h, w], got ${JSON.stringify(value)}`);
  }
  for (const v of pair) {
    if (!Number.isInteger(v) || v < min) {
      throw new ParameterError(
        `${owner}: ${name} must be ${min === 0 ? 'a non-negative' : 'a positive'} integer (or [h, w] of them), got ${JSON.stringify(value)}`,
      );
    }
  }
  return [pair[0], pair[1]];
}

export function effectiveKernel(kernel: number, dilation: number): number {
  return dilation * (kernel - 1) + 1;
}

/** Checks the shape of a padding option without resolving it (resolution may need the input size). */
export function checkPaddingSpec(padding: PaddingSpec, owner: string): void {
  if (typeof padding === 'string') {
    if (!['valid', 'same', 'same_lower', 'full'].includes(padding)) {
      throw new ParameterError(
        `${owner}: padding must be a number, [h, w], [top, left, bottom, right], 'valid', 'same', 'same_lower' or 'full', got '${padding}'`,
      );
    }
    return;
  }
  const values = typeof padding === 'number' ? [padding] : padding;
  if (!Array.isArray(values) || ![1, 2, 4].includes(values.length)) {
    throw new ParameterError(
      `${owner}: padding must be a number, [h, w] or [top, left, bottom, right], got ${JSON.stringify(padding)}`,
    );
  }
  for (const v of values) {
    if (!Number.isInteger(v) || v < 0) {
      throw new ParameterError(`${owner}: padding must hold non-negative integers, got ${JSON.stringify(padding)}`);
    }
  }
}

function samePads(inSize: number, kEff: number, stride: number, lower: boolean): [number, number] {
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + kEff - inSize, 0);
  const small = Math.floor(total / 2);
  return lower ? [total - small, small] : [small, total - small];
}

/** Turns a padding option into explicit per-side pads for one input size. */
export function resolvePads(padding: PaddingSpec, inH: number, inW: number, kEffH: number, kEffW: number, stride: Pair): Pads {
  if (typeof padding === 'number') return { top: padding, left: padding, bottom: padding, right: padding };
  switch (padding) {
    case 'valid':
      return { top: 0, left: 0, bottom: 0, right: 0 };
    case 'full':
      return { top: kEffH - 1, left: kEffW - 1, bottom: kEffH - 1, right: kEffW - 1 };
    case 'same':
    case 'same_lower': {
      const lower = padding === 'same_lower';
      const [top, bottom] = samePads(inH, kEffH, stride[0], lower);
      const [left, right] = samePads(inW, kEffW, stride[1], lower);
      return { top, left, bottom, right };
    }
  }
  if (padding.length === 2) return { top: padding[0], left: padding[1], bottom: padding[0], right: padding[1] };
  return { top: padding[0], left: padding[1], bottom: padding[2], right: padding[3] };
}

/** Output size along one axis; see the module comment. */
export function outputSize(inSize: number, kEff: number, stride: number, padBefore: number, padAfter: number, ceilMode = false): number {
  // Public: called directly, a zero stride or a fractional size would give NaN or Infinity.
  const args: Array<[string, number, number]> = [['inSize', inSize, 0], ['kEff', kEff, 1], ['stride', stride, 1], ['padBefore', padBefore, 0], ['padAfter', padAfter, 0]];
  for (const [name, value, min] of args) {
    if (!Number.isInteger(value) || value < min) {
      throw new ParameterError(`outputSize: ${name} must be ${min === 0 ? 'a non-negative' : 'a positive'} integer, got ${value}`);
    }
  }
  const span = inSize + padBefore + padAfter - kEff;
  if (span < 0) return 0;
  if (!ceilMode) return Math.floor(span / stride) + 1;
  let out = Math.ceil(span / stride) + 1;
  // As PyTorch does: the last window must start inside the input or its leading padding.
  if ((out - 1) * stride >= inSize + padBefore) out -= 1;
  return out;
}

/**
 * Resolves a window against an input of inH x inW. Throws (naming the layer and the numbers)
 * when the dilated kernel does not fit in the padded input.
 */
export function planWindow(owner: string, inH: number, inW: number, spec: WindowSpec): WindowGeometry {
  // Layers check these at construction; planWindow is also public, so it checks them again.
  const [kernelH, kernelW] = toPair(spec.kernel, 1, 'kernelSize', owner);
  const [strideH, strideW] = toPair(spec.stride, 1, 'stride', owner);
  const [dilationH, dilationW] = toPair(spec.dilation, 1, 'dilation', owner);
  checkPaddingSpec(spec.padding, owner);
  if (!Number.isInteger(inH) || !Number.isInteger(inW)) {
    throw new ShapeError(`${owner}: input is ${inH}x${inW}; height and width must be positive integers`);
  }
  const kEffH = effectiveKernel(kernelH, dilationH);
  const kEffW = effectiveKernel(kernelW, dilationW);
  if (inH < 1 || inW < 1) {
    throw new ShapeError(`${owner}: input is ${inH}x${inW}; height and width must be at least 1`);
  }
  const pads = resolvePads(spec.padding, inH, inW, kEffH, kEffW, spec.stride);
  const paddedH = inH + pads.top + pads.bottom;
  const paddedW = inW + pads.left + pads.right;
  const axes: Array<[string, number, number, number, number]> = [
    ['height', kernelH, dilationH, kEffH, paddedH],
    ['width', kernelW, dilationW, kEffW, paddedW],
  ];
  for (const [axis, k, d, kEff, padded] of axes) {
    if (kEff > padded) {
      const dil = d > 1 ? ` with dilation ${d}` : '';
      throw new ShapeError(
        `${owner}: kernelSize ${k}${dil} spans ${kEff} pixels but the padded input is ${padded} ${axis === 'height' ? 'high' : 'wide'} (${axis} ${axis === 'height' ? inH : inW} + padding ${axis === 'height' ? pads.top + pads.bottom : pads.left + pads.right})`,
      );
    }
  }
  const outH = outputSize(inH, kEffH, strideH, pads.top, pads.bottom, spec.ceilMode);
  const outW = outputSize(inW, kEffW, strideW, pads.left, pads.right, spec.ceilMode);
  const exact = (paddedH - kEffH) % strideH === 0 && (paddedW - kEffW) % strideW === 0;
  return { inH, inW, kernelH, kernelW, strideH, strideW, dilationH, dilationW, pads, outH, outW, exact };
}

/** Geometry of a pooling window over a batch. */
export type PoolKind = 'max' | 'avg';

export interface PoolGeometry extends WindowGeometry {
  readonly batch: number;
  readonly channels: number;
  readonly kind: PoolKind;
  /** Average pooling: count padded cells in the divisor (true) or only real ones (false). */
  readonly countIncludePad: boolean;
}

/**
 * Receptive field of one pixel of a feature map on the network input (size, in input pixels)
 * and its jump (how many input pixels apart two neighbouring pixels of that map are). null once
 * spatial structure is gone (after Flatten / Linear / a global pool).
 */
export interface ReceptiveField {
  readonly size: readonly [number, number];
  readonly jump: readonly [number, number];
}

/** The network input: each pixel sees itself. */
export const INPUT_FIELD: ReceptiveField = Object.freeze({ size: [1, 1] as const, jump: [1, 1] as const });

/**
 * The lecture's receptive-field step through one window (conv or pool):
 * RF' = RF + (K_eff - 1) * jump, jump' = jump * S. The layers, the ONNX planner and the summary
 * all take it from here.
 */
export function nextReceptiveField(field: ReceptiveField | null, kernel: Pair, dilation: Pair, stride: Pair): ReceptiveField | null {
  if (field === null) return null;
  const kEffH = effectiveKernel(kernel[0], dilation[0]);
  const kEffW = effectiveKernel(kernel[1], dilation[1]);
  return {
    size: [field.size[0] + (kEffH - 1) * field.jump[0], field.size[1] + (kEffW - 1) * field.jump[1]],
    jump: [field.jump[0] * stride[0], field.jump[1] * stride[1]],
  };
}

/**
 * After a transposed conv (kernel K, dilation D, stride S). Output pixel o receives input pixel i
 * through tap k when i S = o + padBefore - k D: the i it hears from lie between
 * (o + padBefore - (K - 1) D) / S and (o + padBefore) / S, at most floor((K - 1) D / S) input
 * pixels apart, so the field grows by that many input jumps; neighbouring outputs are 1/S input
 * pixels apart, so the jump shrinks by S (a 2x upsampling conv halves it).
 */
export function transposedReceptiveField(field: ReceptiveField | null, kernel: Pair, dilation: Pair, stride: Pair): ReceptiveField | null {
  if (field === null) return null;
  const reach = (k: number, d: number, s: number) => Math.floor(((k - 1) * d) / s);
  return {
    size: [field.size[0] + reach(kernel[0], dilation[0], stride[0]) * field.jump[0], field.size[1] + reach(kernel[1], dilation[1], stride[1]) * field.jump[1]],
    jump: [field.jump[0] / stride[0], field.jump[1] / stride[1]],
  };
}

/**
 * After a resize from [inH, inW] to [outH, outW]: nearest copies one input pixel (the field is
 * the input's), bilinear blends two neighbours per axis (one more input jump); output pixels are
 * in / out input pixels apart.
 */
export function resizedReceptiveField(field: ReceptiveField | null, linear: boolean, inSize: Pair, outSize: Pair): ReceptiveField | null {
  if (field === null) return null;
  const grow = (axis: 0 | 1) => (linear && inSize[axis] > 1 ? field.jump[axis] : 0);
  return {
    size: [field.size[0] + grow(0), field.size[1] + grow(1)],
    jump: [(field.jump[0] * inSize[0]) / outSize[0], (field.jump[1] * inSize[1]) / outSize[1]],
  };
}

/** Geometry of a convolution over a batch: the window plus channel bookkeeping. */
export interface ConvGeometry extends WindowGeometry {
  readonly batch: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly groups: number;
}

export interface ConvSpec extends WindowSpec {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly groups: number;
}

/** Checks a conv's channel options; the message names the layer and the numbers. */
export function checkConvChannels(owner: string, inChannels: number, outChannels: number, groups: number): void {
  for (const [name, v] of [
    ['inChannels', inChannels],
    ['outChannels', outChannels],
    ['groups', groups],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new ParameterError(`${owner}: ${name} must be a positive integer, got ${String(v)}`);
    }
  }
  if (inChannels % groups !== 0 || outChannels % groups !== 0) {
    throw new ParameterError(
      `${owner}: groups ${groups} must divide both inChannels ${inChannels} and outChannels ${outChannels}`,
    );
  }
}

/** Checks an NCHW input against a conv and resolves its geometry. */
export function planConv(owner: string, inputShape: readonly number[], spec: ConvSpec): ConvGeometry {
  const [batch, channels, inH, inW] = expectNCHW(owner, inputShape, spec.inChannels);
  const window = planWindow(owner, inH, inW, spec);
  return { ...window, batch, inChannels: channels, outChannels: spec.outChannels, groups: spec.groups };
}

/**
 * Checks that a shape is N x C x H x W with the given C (any C when channels is undefined).
 * The error names the layer, the expected and the actual shape.
 */
export function expectNCHW(owner: string, shape: readonly number[], channels?: number): [number, number, number, number] {
  const expected = `N x ${channels ?? 'C'} x H x W`;
  if (shape.length !== 4) {
    throw new ShapeError(`${owner}: expected input of shape ${expected}, got [${shape.join(', ')}] (rank ${shape.length})`);
  }
  if (channels !== undefined && shape[1] !== channels) {
    throw new ShapeError(
      `${owner}: expected input of shape ${expected} (${channels} channels), got [${shape.join(', ')}] with ${shape[1]} channels`,
    );
  }
  return [shape[0], shape[1], shape[2], shape[3]];
}

/**
 * Output size along one axis of a transposed convolution (the gradient of a conv's input): each
 * input pixel spreads a kernel footprint `stride` apart, so
 * O = S (W - 1) + K_eff - P_before - P_after + output_padding, the conv formula solved for W.
 */
export function transposedOutputSize(
  inSize: number, kEff: number, stride: number, padBefore: number, padAfter: number, outputPadding = 0,
): number {
  const args: Array<[string, number, number]> = [
    ['inSize', inSize, 1], ['kEff', kEff, 1], ['stride', stride, 1], ['padBefore', padBefore, 0], ['padAfter', padAfter, 0], ['outputPadding', outputPadding, 0],
  ];
  for (const [name, value, min] of args) {
    if (!Number.isInteger(value) || value < min) {
      throw new ParameterError(`transposedOutputSize: ${name} must be ${min === 0 ? 'a non-negative' : 'a positive'} integer, got ${value}`);
    }
  }
  return stride * (inSize - 1) + kEff - padBefore - padAfter + outputPadding;
}
