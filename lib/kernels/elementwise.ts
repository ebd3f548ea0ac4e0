/**
 * The pure-JS element-wise engine: activations over a buffer, broadcast binary ops, and the
 * per-channel affine step (a standalone BatchNormalization, or a squeeze-and-excitation gate
 * scaling each channel of each image). The fallback path and the oracle of the native engine.
 */
import { applyActivationTo, checkActivation, resolveActivation, type Activation } from '../activation.js';
import { ParameterError, ShapeError } from '../errors.js';
import { broadcastBinary, broadcastShapes, type BinaryFn } from './broadcast.js';

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div';

export const BINARY_FUNCTIONS: Readonly<Record<BinaryOp, BinaryFn>> = Object.freeze({
  add: (x: number, y: number) => x + y,
  sub: (x: number, y: number) => x - y,
  mul: (x: number, y: number) => x * y,
  div: (x: number, y: number) => x / y,
});

/**
 * out[n, c, p] = act(x[n, c, p] * scale + shift) over N x C x plane, where scale and shift hold
 * C values (one per channel: a BatchNormalization folded to scale/shift) or N*C values (one per
 * image and channel: a squeeze-and-excitation gate). Either may be null (1 / 0).
 */
export interface ChannelAffine {
  readonly batch: number;
  readonly channels: number;
  readonly plane: number;
  readonly scale: Float32Array | null;
  readonly shift: Float32Array | null;
  readonly activation: Activation;
}

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function checkLength(array: Float32Array, needed: number, name: string, owner: string): void {
  if (!(array instanceof Float32Array)) throw new ParameterError(`${owner}: ${name} must be a Float32Array`);
  if (array.length < needed) throw new ShapeError(`${owner}: ${name} holds ${array.length} values, needs ${needed}`);
}

/** output = act(input), element by element (output may be input). */
export function unary(input: Float32Array, output: Float32Array, activation: Activation): void {
  checkLength(output, input.length, 'output', 'unary');
  applyActivationTo(input, output, activation, 0, input.length);
}

/** output = act(a op b) under numpy broadcasting; outShape must be the broadcast shape. */
export function binary(
  op: BinaryOp,
  a: Float32Array, aShape: readonly number[],
  b: Float32Array, bShape: readonly number[],
  output: Float32Array, outShape: readonly number[],
  activation?: Activation,
): void {
  const fn = BINARY_FUNCTIONS[op];
  if (!fn) throw new ParameterError(`binary: op must be one of ${Object.keys(BINARY_FUNCTIONS).join(', ')}, got ${JSON.stringify(op)}`);
  checkLength(a, numel(aShape), 'a', `binary ${op}`);
  checkLength(b, numel(bShape), 'b', `binary ${op}`);
  checkLength(output, numel(outShape), 'output', `binary ${op}`);
  const expected = broadcastShapes(aShape, bShape, `binary ${op}`);
  if (expected.length !== outShape.length || expected.some((d, i) => d !== outShape[i])) {
    throw new ShapeError(`binary ${op}: outShape [${outShape.join(', ')}] must be the broadcast of aShape [${aShape.join(', ')}] and bShape [${bShape.join(', ')}], which is [${expected.join(', ')}]`);
  }
  if (activation !== undefined) checkActivation(activation, `binary ${op}`);
  const total = numel(outShape);
  const out = output.length === total ? output : output.subarray(0, total);
  broadcastBinary(a, aShape, b, bShape, out, outShape, fn);
  if (activation && activation.kind !== 'none') applyActivationTo(out, out, activation, 0, total);
}

/** See ChannelAffine. output may be input. */
export function channelAffine(input: Float32Array, affine: ChannelAffine, output: Float32Array): void {
  const { batch, channels, plane, scale, shift, activation } = affine;
  for (const [name, value] of [['batch', batch], ['channels', channels], ['plane', plane]] as const) {
    if (!Number.isInteger(value) || value < 0) throw new ParameterError(`channelAffine: ${name} must be a non-negative integer, got ${value}`);
  }
  checkActivation(activation, 'channelAffine');
  const total = batch * channels * plane;
  checkLength(input, total, 'input', 'channelAffine');
  checkLength(output, total, 'output', 'channelAffine');
  const perImage = (values: Float32Array | null, name: string): boolean => {
    if (values === null) return false;
    if (values.length === batch * channels && batch > 1) return true;
    if (values.length !== channels) {
      throw new ShapeError(`channelAffine: ${name} must hold ${channels} (per channel) or ${batch * channels} (per image and channel) values, got ${values.length}`);
    }
    return false;
  };
  const scalePerImage = perImage(scale, 'scale');
  const shiftPerImage = perImage(shift, 'shift');
  const r = resolveActivation(activation);
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < channels; c++) {
      const s = scale ? scale[scalePerImage ? n * channels + c : c] : 1;
      const t = shift ? shift[shiftPerImage ? n * channels + c : c] : 0;
      const base = (n * channels + c) * plane;
      for (let p = base; p < base + plane; p++) output[p] = input[p] * s + t;
      if (r.kind !== 'none') applyActivationTo(output, output, activation, base, base + plane);
    }
  }
}
