/**
 * f32-squeeze-excite: a squeeze-and-excitation block as one step, per image n and channel c:
 *   s[c] = mean over the plane of x[n, c];  h = act1(W1 s + b1);  g = act2(W2 h + b2)
 *   out[n, c, p] = x[n, c, p] * g[c]
 * W1 is [hidden, channels] (the reduce 1x1 conv's [out, in, 1, 1]), W2 [channels, hidden].
 * This is the pure-JS backend's kernel and the oracle for the native one: plain loops, sums in
 * doubles, the activations' one JS definition (lib/activation.ts). output may be input.
 */
import { activate, checkActivation, type Activation } from '../activation.js';
import { ParameterError } from '../errors.js';
import { expectCount, expectLength } from './checks.js';

/** One gate layer: weight [out, in] row-major, bias of `out` values or null, its activation. */
export interface SqueezeExciteLayer {
  readonly weight: Float32Array;
  readonly bias: Float32Array | null;
  readonly activation: Activation;
}

/** What a backend prepares a squeeze-and-excitation block from. */
export interface SqueezeExciteWeights {
  /** Channels of the feature map the block squeezes and scales. */
  readonly channels: number;
  /** Width of the gate's bottleneck (the reduce layer's outputs). */
  readonly hidden: number;
  /** channels -> hidden, usually ReLU or SiLU after it. */
  readonly reduce: SqueezeExciteLayer;
  /** hidden -> channels, the gate (Sigmoid, HardSigmoid) after it. */
  readonly expand: SqueezeExciteLayer;
}

export interface PreparedSqueezeExcite {
  /** input, output: batch x channels x plane; output may be input. */
  runSync(input: Float32Array, batch: number, plane: number, output: Float32Array): void;
}

const OWNER = 'squeezeExcite';

function checkLayer(layer: SqueezeExciteLayer, name: string, outs: number, ins: number): void {
  if (!(layer.weight instanceof Float32Array)) throw new ParameterError(`${OWNER}: ${name}.weight must be a Float32Array`);
  expectLength(OWNER, `${name}.weight`, layer.weight, outs * ins, `[out, in] = [${outs}, ${ins}]`);
  if (layer.bias !== null) expectLength(OWNER, `${name}.bias`, layer.bias, outs, `out = ${outs}`);
  checkActivation(layer.activation, `${OWNER} ${name}`);
}

/** act(W v + b) for one image: out[o] over `ins` inputs. */
function gateLayer(layer: SqueezeExciteLayer, ins: number, outs: number, v: Float64Array, out: Float64Array): void {
  const { weight, bias, activation } = layer;
  for (let o = 0; o < outs; o++) {
    let sum = bias === null ? 0 : bias[o];
    for (let i = 0; i < ins; i++) sum += weight[o * ins + i] * v[i];
    out[o] = activate(Math.fround(sum), activation);
  }
}

/** Throws a ParameterError / ShapeError naming the field unless the weights describe a block. */
export function checkSqueezeExciteWeights(weights: SqueezeExciteWeights): void {
  const { channels, hidden } = weights;
  expectCount(OWNER, 'channels', channels, 1);
  expectCount(OWNER, 'hidden', hidden, 1);
  checkLayer(weights.reduce, 'reduce', hidden, channels);
  checkLayer(weights.expand, 'expand', channels, hidden);
}

export function prepareSqueezeExcite(weights: SqueezeExciteWeights): PreparedSqueezeExcite {
  checkSqueezeExciteWeights(weights);
  const { channels, hidden } = weights;
  // Own copies: the caller may free or reuse its arrays once prepared (as the native kernel packs).
  const copy = (l: SqueezeExciteLayer): SqueezeExciteLayer => ({ weight: l.weight.slice(), bias: l.bias ? l.bias.slice() : null, activation: l.activation });
  const reduce = copy(weights.reduce);
  const expand = copy(weights.expand);
  return {
    runSync(input, batch, plane, output) {
      expectCount(OWNER, 'batch', batch, 1);
      expectCount(OWNER, 'plane', plane, 1);
      const total = batch * channels * plane;
      const shape = `batch x channels x plane = ${batch}x${channels}x${plane}`;
      expectLength(OWNER, 'input', input, total, shape);
      expectLength(OWNER, 'output', output, total, shape);
      const sameArray = input.buffer === output.buffer && input.byteOffset === output.byteOffset;
      if (!sameArray && input.buffer === output.buffer &&
        input.byteOffset < output.byteOffset + output.byteLength && output.byteOffset < input.byteOffset + input.byteLength) {
        throw new ParameterError(`${OWNER}: output must be input itself or not share memory with it`);
      }
      const squeezed = new Float64Array(channels);
      const bottleneck = new Float64Array(hidden);
      const gate = new Float64Array(channels);
      for (let n = 0; n < batch; n++) {
        const image = n * channels * plane;
        for (let c = 0; c < channels; c++) {
          let sum = 0;
          for (let p = image + c * plane, end = p + plane; p < end; p++) sum += input[p];
          squeezed[c] = Math.fround(sum / plane);
        }
        gateLayer(reduce, channels, hidden, squeezed, bottleneck);
        gateLayer(expand, hidden, channels, bottleneck, gate);
        for (let c = 0; c < channels; c++) {
          const g = gate[c];
          for (let p = image + c * plane, end = p + plane; p < end; p++) output[p] = input[p] * g;
        }
      }
    },
  };
}
