/**
 * The native grouped-direct conv (native/kernels/f32-gconv, ops/grouped.cc) on every ISA this
 * CPU has, against the pure-JS im2col path on the same inputs: ResNeXt / RegNet group widths,
 * stride 1 and 2 (the phase-plane copy), dilation, asymmetric pads, 5x5 and 1x3 windows, maps
 * whose rows are shorter than a vector (7x7, 4x4) or cut mid-vector, blocks of 8 output
 * channels plus a remainder, batch 2, bias, residual and activations with and without a vector
 * form. The grid's columns past the output row are computed but must never be stored: every
 * output starts as NaN, and every residual is a distinct value per pixel. Groups whose blocks of
 * 16 outputs are at least 3/4 full run the channels-in-lanes kernel instead (the 'lanes:' cases:
 * strides 1, 2 and 3, dilation, pads cut on every side, a map with no interior pixel, 1-2 blocks).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Activation } from '../lib/backends/backend.js';
import { jsBackend } from '../lib/backends/js.js';
import { availableIsas, getIsa, loadNativeBackend, setIsa, type IsaName } from '../lib/backends/native.js';
import { planConv, type PaddingSpec } from '../lib/planner/geometry.js';
import { expectCloseToScale, randomFloats, seededRandom } from './helpers/numeric.js';

interface GroupedCase {
  name: string;
  batch: number;
  inChannels: number;
  outChannels: number;
  groups: number;
  size: [number, number];
  kernel: [number, number];
  stride: [number, number];
  dilation: [number, number];
  padding: PaddingSpec;
  activation: Activation;
  bias: boolean;
  residual: boolean;
}

const base = { batch: 1, dilation: [1, 1] as [number, number], bias: true, residual: false, activation: { kind: 'relu' } as Activation };
const CASES: GroupedCase[] = [
  { ...base, name: 'ResNeXt width 4 @20', inChannels: 32, outChannels: 32, groups: 8, size: [20, 20], kernel: [3, 3], stride: [1, 1], padding: 1 },
  { ...base, name: 'ResNeXt width 8, stride 2, odd map', inChannels: 64, outChannels: 64, groups: 8, size: [23, 19], kernel: [3, 3], stride: [2, 2], padding: 1, residual: true },
  { ...base, name: 'RegNet width 16, 24 outputs a group (8 + 8 + 8)', inChannels: 32, outChannels: 48, groups: 2, size: [14, 14], kernel: [3, 3], stride: [1, 1], padding: 1, activation: { kind: 'silu' } },
  { ...base, name: 'width 16, 13 outputs a group (8 + 5), 7x7 map', inChannels: 48, outChannels: 39, groups: 3, size: [7, 7], kernel: [3, 3], stride: [1, 1], padding: 1, residual: true, activation: { kind: 'hardSwish' } },
  { ...base, name: 'stride 2 onto a 4x4 map, batch 2', batch: 2, inChannels: 24, outChannels: 24, groups: 3, size: [8, 8], kernel: [3, 3], stride: [2, 2], padding: 1, activation: { kind: 'sigmoid' } },
  { ...base, name: 'dilation 2, asymmetric pads', inChannels: 12, outChannels: 18, groups: 3, size: [17, 29], kernel: [3, 3], stride: [1, 1], dilation: [2, 2], padding: [2, 1, 0, 3], bias: false },
  { ...base, name: 'stride 2 with dilation 2', inChannels: 16, outChannels: 16, groups: 4, size: [21, 26], kernel: [3, 3], stride: [2, 2], dilation: [2, 2], padding: 2, residual: true, activation: { kind: 'leakyRelu', alpha: 0.1 } },
  { ...base, name: '5x5, stride 2 x 1, no padding', inChannels: 10, outChannels: 20, groups: 2, size: [19, 40], kernel: [5, 5], stride: [2, 1], padding: 0, activation: { kind: 'none' } },
  { ...base, name: '1x3 window, stride 1 x 3', inChannels: 6, outChannels: 9, groups: 3, size: [9, 50], kernel: [1, 3], stride: [1, 3], padding: [0, 1, 0, 1], residual: true, activation: { kind: 'relu6' } },
  { ...base, name: 'one output channel a group, wide row', batch: 2, inChannels: 8, outChannels: 4, groups: 4, size: [5, 70], kernel: [3, 3], stride: [1, 1], padding: 1 },
  // Blocks of 16 outputs at least 3/4 full run the channels-in-lanes kernel (input read in place):
  { ...base, name: 'lanes: RegNetX width 16, stride 2 from 14x14', inChannels: 32, outChannels: 32, groups: 2, size: [14, 14], kernel: [3, 3], stride: [2, 2], padding: 1, residual: true },
  { ...base, name: 'lanes: RegNetX width 16 @7, stride 1', inChannels: 48, outChannels: 48, groups: 3, size: [7, 7], kernel: [3, 3], stride: [1, 1], padding: 1, activation: { kind: 'silu' } },
  { ...base, name: 'lanes: 32 outputs a group, odd map, stride 2, dilation 2, asymmetric pads, batch 2', batch: 2, inChannels: 16, outChannels: 64, groups: 2, size: [15, 11], kernel: [3, 3], stride: [2, 2], dilation: [2, 2], padding: [1, 2, 2, 0], activation: { kind: 'sigmoid' } },
  { ...base, name: 'lanes: a map smaller than the window (no interior pixel)', inChannels: 32, outChannels: 32, groups: 2, size: [3, 2], kernel: [5, 5], stride: [1, 1], padding: 2, residual: true },
  { ...base, name: 'lanes: 14 outputs a group, stride 1 x 3 (a run-time pitch)', inChannels: 32, outChannels: 28, groups: 2, size: [10, 31], kernel: [3, 3], stride: [1, 3], padding: [0, 1, 0, 1], activation: { kind: 'hardSwish' } },
  { ...base, name: 'lanes: 12 outputs a group, 5x5, stride 2 x 1, no padding', inChannels: 20, outChannels: 24, groups: 2, size: [19, 40], kernel: [5, 5], stride: [2, 1], padding: 0, activation: { kind: 'none' }, bias: false },
  { ...base, name: 'lanes: 16 outputs @56 (a long row, many steps)', inChannels: 32, outChannels: 32, groups: 2, size: [56, 56], kernel: [3, 3], stride: [1, 1], padding: 1, residual: true },
];

function runCase(c: GroupedCase, backend: typeof jsBackend, algorithm: 'grouped-direct' | 'im2col-gemm') {
  const random = seededRandom(c.inChannels * 131 + c.size[1]);
  const spec = { inChannels: c.inChannels, outChannels: c.outChannels, groups: c.groups, kernel: c.kernel, stride: c.stride, dilation: c.dilation, padding: c.padding };
  const g = planConv(c.name, [c.batch, c.inChannels, c.size[0], c.size[1]], spec);
  const input = randomFloats(c.batch * c.inChannels * c.size[0] * c.size[1], random);
  const weight = randomFloats((c.outChannels * c.inChannels * c.kernel[0] * c.kernel[1]) / c.groups, random);
  const bias = c.bias ? randomFloats(c.outChannels, random) : null;
  const outLength = c.batch * c.outChannels * g.outH * g.outW;
  const residual = c.residual ? Float32Array.from({ length: outLength }, (_, i) => ((i * 7919) % 1000) / 500 - 1) : null;
  const kernel = backend.prepareConv2d({
    inChannels: c.inChannels, outChannels: c.outChannels, groups: c.groups, kernelH: c.kernel[0], kernelW: c.kernel[1],
    weight, bias, activation: c.activation, stride: c.stride, dilation: c.dilation, padding: c.padding, algorithm,
  });
  expect(kernel.plan?.algorithm ?? algorithm).toBe(algorithm);
  const out = new Float32Array(outLength).fill(Number.NaN);
  kernel.runSync(input, g, out, residual);
  return out;
}

const loaded = loadNativeBackend();
const isas: IsaName[] = loaded instanceof Error ? [] : availableIsas();

describe.skipIf(loaded instanceof Error)('native grouped-direct conv vs the pure-JS path', () => {
  let before: IsaName | undefined;
  beforeAll(() => {
    before = getIsa();
  });
  afterAll(() => {
    if (before) setIsa(before);
  });
  for (const isa of isas) {
    it.each(CASES)(`${isa}: $name`, (c) => {
      setIsa(isa);
      const want = runCase(c, jsBackend, 'im2col-gemm');
      const got = runCase(c, loaded as typeof jsBackend, 'grouped-direct');
      expectCloseToScale(got, want, `${isa}: ${c.name}`);
    });
  }
});
