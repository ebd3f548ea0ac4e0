/**
 * Shared pieces of the native tests: geometry builders over lib/planner/geometry.ts and a naive
 * convolution written straight from the definition (the second, independent oracle next to
 * jsBackend). The random source and the comparison come from helpers/numeric.ts.
 */
import type { Activation, Backend, ConvAlgorithm } from '../lib/backends/backend.js';
import { planConv, type ConvGeometry, type PaddingSpec, type Pair } from '../lib/planner/geometry.js';
import { randomFloats, referenceActivation, seededRandom } from './helpers/numeric.js';

export interface ConvCase {
  batch: number;
  inChannels: number;
  outChannels: number;
  groups: number;
  inH: number;
  inW: number;
  kernel: Pair;
  stride: Pair;
  dilation: Pair;
  padding: PaddingSpec;
  activation: Activation;
  bias: boolean;
  residual: boolean;
}

/**
 * A conv case from its sizes: the common 3x3 conv (stride 1, dilation 1, padding 1, one group,
 * a bias, no activation, no residual) unless `fields` says otherwise.
 */
export function convCase(fields: Pick<ConvCase, 'batch' | 'inChannels' | 'outChannels' | 'inH' | 'inW'> & Partial<ConvCase>): ConvCase {
  return {
    groups: 1, kernel: [3, 3], stride: [1, 1], dilation: [1, 1], padding: 1, activation: { kind: 'none' }, bias: true, residual: false,
    ...fields,
  };
}

export function describeCase(c: ConvCase): string {
  return (
    `N${c.batch} ${c.inChannels}->${c.outChannels} g${c.groups} ${c.inH}x${c.inW} k${c.kernel.join('x')} ` +
    `s${c.stride.join('x')} d${c.dilation.join('x')} p${JSON.stringify(c.padding)} ${c.activation.kind}` +
    `${c.bias ? ' +bias' : ''}${c.residual ? ' +residual' : ''}`
  );
}

export function convGeometry(c: ConvCase): ConvGeometry {
  return planConv('native test', [c.batch, c.inChannels, c.inH, c.inW], {
    inChannels: c.inChannels,
    outChannels: c.outChannels,
    groups: c.groups,
    kernel: c.kernel,
    stride: c.stride,
    dilation: c.dilation,
    padding: c.padding,
  });
}

/**
 * The same geometry derived here, from the lecture's formulas, without lib/planner: the naive
 * oracle runs on it, so a wrong planner geometry cannot pass on both sides of a comparison.
 * K_eff = D(K - 1) + 1; O = floor((W + P_before + P_after - K_eff) / S) + 1; 'valid' pads 0,
 * 'full' pads K_eff - 1 each side, 'same' pads max((ceil(W / S) - 1) S + K_eff - W, 0) in all
 * with the odd pixel after (bottom / right). null where no output pixel exists.
 */
export function lectureGeometry(c: ConvCase): ConvGeometry | null {
  const kEff = [c.dilation[0] * (c.kernel[0] - 1) + 1, c.dilation[1] * (c.kernel[1] - 1) + 1];
  const size = [c.inH, c.inW];
  const axisPads = (axis: 0 | 1): [number, number] => {
    const p = c.padding;
    if (typeof p === 'number') return [p, p];
    if (p === 'valid') return [0, 0];
    if (p === 'full') return [kEff[axis] - 1, kEff[axis] - 1];
    if (p === 'same') {
      const total = Math.max((Math.ceil(size[axis] / c.stride[axis]) - 1) * c.stride[axis] + kEff[axis] - size[axis], 0);
      return [Math.floor(total / 2), total - Math.floor(total / 2)];
    }
    if (Array.isArray(p) && p.length === 2) return [p[axis], p[axis]];
    if (Array.isArray(p) && p.length === 4) return axis === 0 ? [p[0], p[2]] : [p[1], p[3]];
    throw new Error(`lectureGeometry: padding ${JSON.stringify(p)} is not one this test derives`);
  };
  const [top, bottom] = axisPads(0);
  const [left, right] = axisPads(1);
  const outH = Math.floor((c.inH + top + bottom - kEff[0]) / c.stride[0]) + 1;
  const outW = Math.floor((c.inW + left + right - kEff[1]) / c.stride[1]) + 1;
  if (!(outH >= 1 && outW >= 1)) return null;
  return {
    batch: c.batch, inChannels: c.inChannels, outChannels: c.outChannels, groups: c.groups,
    inH: c.inH, inW: c.inW, kernelH: c.kernel[0], kernelW: c.kernel[1], strideH: c.stride[0], strideW: c.stride[1],
    dilationH: c.dilation[0], dilationW: c.dilation[1], pads: { top, left, bottom, right }, outH, outW,
    exact: (c.inH + top + bottom - kEff[0]) % c.stride[0] === 0 && (c.inW + left + right - kEff[1]) % c.stride[1] === 0,
  };
}

export function outputLength(g: ConvGeometry): number {
  return g.batch * g.outChannels * g.outH * g.outW;
}

/** out[n, o, y, x] = act(bias[o] + residual + sum over the window), straight from the definition. */
export function naiveConv(
  input: Float32Array,
  g: ConvGeometry,
  weight: Float32Array,
  bias: Float32Array | null,
  residual: Float32Array | null,
  activation: Activation,
): Float32Array {
  const out = new Float32Array(outputLength(g));
  const cinG = g.inChannels / g.groups;
  const coutG = g.outChannels / g.groups;
  let at = 0;
  for (let n = 0; n < g.batch; n++) {
    for (let o = 0; o < g.outChannels; o++) {
      const group = Math.floor(o / coutG);
      for (let oy = 0; oy < g.outH; oy++) {
        for (let ox = 0; ox < g.outW; ox++) {
          let sum = bias ? bias[o] : 0;
          for (let ci = 0; ci < cinG; ci++) {
            const c = group * cinG + ci;
            for (let ky = 0; ky < g.kernelH; ky++) {
              const iy = oy * g.strideH - g.pads.top + ky * g.dilationH;
              if (iy < 0 || iy >= g.inH) continue;
              for (let kx = 0; kx < g.kernelW; kx++) {
                const ix = ox * g.strideW - g.pads.left + kx * g.dilationW;
                if (ix < 0 || ix >= g.inW) continue;
                sum +=
                  input[((n * g.inChannels + c) * g.inH + iy) * g.inW + ix] *
                  weight[((o * cinG + ci) * g.kernelH + ky) * g.kernelW + kx];
              }
            }
          }
          if (residual) sum += residual[at];
          out[at++] = referenceActivation(sum, activation);
        }
      }
    }
  }
  return out;
}

/**
 * Runs case `c` on `backend` (runSync) with weights, bias, input and (if c.residual) a residual
 * drawn from seededRandom(seed) in that order, so two backends or two thread counts given the same
 * case and seed see the same numbers. The output starts as NaN: an output no task wrote shows.
 */
export function runSeededConv(backend: Backend, c: ConvCase, seed: number, algorithm?: ConvAlgorithm): Float32Array {
  const random = seededRandom(seed);
  const weight = randomFloats((c.outChannels * c.inChannels * c.kernel[0] * c.kernel[1]) / c.groups, random);
  const bias = randomFloats(c.outChannels, random);
  const input = randomFloats(c.batch * c.inChannels * c.inH * c.inW, random);
  const g = convGeometry(c);
  const residual = c.residual ? randomFloats(outputLength(g), random) : null;
  const kernel = backend.prepareConv2d({
    inChannels: c.inChannels, outChannels: c.outChannels, groups: c.groups, kernelH: c.kernel[0], kernelW: c.kernel[1],
    weight, bias, activation: c.activation, stride: c.stride, dilation: c.dilation, padding: c.padding, algorithm,
  });
  const out = new Float32Array(outputLength(g)).fill(Number.NaN);
  kernel.runSync(input, g, out, residual);
  return out;
}
