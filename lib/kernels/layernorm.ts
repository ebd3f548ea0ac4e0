/**
 * LayerNorm over groups of values in a dense [outer, length, inner] view of a tensor: each of
 * the outer x inner groups holds `length` values `inner` floats apart, and becomes
 *   y = (x - mean) / sqrt(var + epsilon) * scale[l] + bias[l]
 * with the mean and (biased) variance of its own values, accumulated in float64, two passes.
 * inner 1 is LayerNormalization over trailing axes (ViT, Swin); inner = H*W with length = C is
 * the channel LayerNorm of an NCHW map (ConvNeXt's channels-last LayerNorm without its
 * transposes). The native kernels (native/kernels/f32-layernorm) are tested against this.
 */
import { ParameterError } from '../errors.js';
import { expectCount, expectLength } from './checks.js';

/** outer x length x inner: `length` values per group, `inner` floats apart. */
export interface GroupShape {
  readonly outer: number;
  readonly length: number;
  readonly inner: number;
}

export interface LayerNormParams extends GroupShape {
  /** `length` values. */
  readonly scale: Float32Array;
  /** `length` values, or null for no shift. */
  readonly bias: Float32Array | null;
  readonly epsilon: number;
}

/** The argument rules both backends share; the messages name the parameter. */
export function checkGroupShape(owner: string, input: Float32Array, output: Float32Array, shape: GroupShape): void {
  expectCount(owner, 'outer', shape.outer, 1);
  expectCount(owner, 'length', shape.length, 1);
  expectCount(owner, 'inner', shape.inner, 1);
  const total = shape.outer * shape.length * shape.inner;
  const described = `outer x length x inner = ${shape.outer}x${shape.length}x${shape.inner}`;
  expectLength(owner, 'input', input, total, described);
  expectLength(owner, 'output', output, total, described);
}

export function checkLayerNormParams(input: Float32Array, output: Float32Array, params: LayerNormParams): void {
  checkGroupShape('layerNorm', input, output, params);
  expectLength('layerNorm', 'scale', params.scale, params.length, `length ${params.length}`);
  if (params.bias !== null) expectLength('layerNorm', 'bias', params.bias, params.length, `length ${params.length}`);
  if (typeof params.epsilon !== 'number' || !(params.epsilon >= 0) || !Number.isFinite(params.epsilon)) {
    throw new ParameterError(`layerNorm: epsilon must be a finite non-negative number, got ${String(params.epsilon)}`);
  }
}

/** See the file comment. output may be input. */
export function layerNorm(input: Float32Array, output: Float32Array, params: LayerNormParams): void {
  checkLayerNormParams(input, output, params);
  const { outer, length, inner, scale, bias, epsilon } = params;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < inner; c++) {
      const base = o * length * inner + c;
      let sum = 0;
      for (let l = 0, at = base; l < length; l++, at += inner) sum += input[at];
      const mean = sum / length;
      let squares = 0;
      for (let l = 0, at = base; l < length; l++, at += inner) {
        const d = input[at] - mean;
        squares += d * d;
      }
      const inverse = 1 / Math.sqrt(squares / length + epsilon);
      for (let l = 0, at = base; l < length; l++, at += inner) {
        output[at] = (input[at] - mean) * inverse * scale[l] + (bias === null ? 0 : bias[l]);
      }
    }
  }
}
