/**
 * Shared pieces of the native tests: a seeded random source, the comparison with relative
 * tolerance, geometry builders over lib/planner/geometry.ts, and a naive convolution written
 * straight from the definition (the second, independent oracle next to jsBackend).
 */
import { expect } from 'vitest';
import type { Activation } from '../lib/backends/backend.js';
import { planConv, type ConvGeometry, type PaddingSpec, type Pair } from '../lib/planner/geometry.js';

/** mulberry32, values in [-1, 1): failing sweep cases can be re-run exactly from their seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

export function randomFloats(length: number, random: () => number): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = random();
  return out;
}

/** |actual - expected| <= 1e-4 * max(1, |expected|) element-wise; reports the first bad element. */
export function expectClose(actual: Float32Array, expected: Float32Array, label: string, tolerance = 1e-4): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (!(Math.abs(a - e) <= tolerance * Math.max(1, Math.abs(e))) && a !== e) {
      expect.fail(`${label}: element ${i} is ${a}, expected ${e}`);
    }
  }
}

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

function referenceActivation(x: number, a: Activation): number {
  switch (a.kind) {
    case 'none':
      return x;
    case 'relu':
      return Math.max(0, x);
    case 'relu6':
      return Math.min(6, Math.max(0, x));
    case 'leakyRelu':
      return x < 0 ? (a.alpha ?? 0.01) * x : x;
    case 'hardSwish':
      return (x * Math.min(6, Math.max(0, x + 3))) / 6;
    case 'sigmoid':
      return 1 / (1 + Math.exp(-x));
  }
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
