/**
 * Shared pieces of the native tests: geometry builders over lib/planner/geometry.ts and a naive
 * convolution written straight from the definition (the second, independent oracle next to
 * jsBackend). The random source and the comparison come from helpers/numeric.ts.
 */
import type { Activation } from '../lib/backends/backend.js';
import { planConv, type ConvGeometry, type PaddingSpec, type Pair } from '../lib/planner/geometry.js';
import { referenceActivation } from './helpers/numeric.js';

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
