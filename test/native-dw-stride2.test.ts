/**
 * The native stride-2 depthwise convs on wide rows (3x3 with left pad 0 or 1 and 5x5 with left pad
 * 2: rows split in-lane on AVX-512, native/kernels/f32-dwconv/dwconv-s2-split-avx512.inc; 3x3 with
 * left pad 2 and 5x5 with left pad 1: split by permutes, dwconv-s2-permute-avx512.inc; the other
 * ISAs' row kernels) on every ISA this CPU has,
 * against the pure-JS path on the same inputs: MobileNetV2 / MnasNet / EfficientNet planes (3x3/2
 * @112 and @56, 5x5/2 @56, pads 1 and 2; a few planes each, the kernels work plane by plane at
 * this size), every left pad the permute form takes (3x3 0..2, 5x5 1..2) and one it does not (5x5
 * pad 0), rows whose last 32 columns run past the input (odd widths, 33, 57, 130), a span of 4
 * vectors and a masked tail (130 wide), batch 2, residual, activations with and without a vector
 * form, and 1, 2 and 8 threads (planes cut into row bands). Every output starts as NaN, so a column
 * or row the kernel skips fails.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { Activation } from '../lib/backends/backend.js';
import { jsBackend } from '../lib/backends/js.js';
import { availableIsas, getIsa, loadNativeBackend, setIsa, getNumThreads, setNumThreads, type IsaName } from '../lib/backends/native.js';
import { planConv, type PaddingSpec } from '../lib/planner/geometry.js';
import { expectCloseToScale, randomFloats, seededRandom } from './helpers/numeric.js';

interface Stride2Case {
  name: string;
  batch: number;
  channels: number;
  size: [number, number];
  kernel: number;
  padding: PaddingSpec;
  activation: Activation;
  residual: boolean;
}

const base = { batch: 1, residual: false, activation: { kind: 'relu6' } as Activation };
const CASES: Stride2Case[] = [
  { ...base, name: 'MobileNetV2 3x3/2 @56 (16 of its 144 planes), pad 1', channels: 16, size: [56, 56], kernel: 3, padding: 1 },
  { ...base, name: 'MnasNet 5x5/2 @56 (8 of 72 planes), pad 2', channels: 8, size: [56, 56], kernel: 5, padding: 2, activation: { kind: 'relu' } },
  { ...base, name: 'EfficientNet 5x5/2 @56, SiLU (no vector form: a pass after)', channels: 6, size: [56, 56], kernel: 5, padding: 2, activation: { kind: 'silu' } },
  { ...base, name: '3x3/2 left pad 0 (TF "same" on an even map), residual', channels: 5, size: [20, 40], kernel: 3, padding: [0, 0, 1, 1], residual: true },
  { ...base, name: '3x3/2 left pad 2, odd width 57', channels: 3, size: [11, 57], kernel: 3, padding: [1, 2, 1, 0], activation: { kind: 'hardSwish' } },
  { ...base, name: '5x5/2 left pad 1, width 33, batch 2', batch: 2, channels: 4, size: [13, 33], kernel: 5, padding: [2, 1, 2, 3], residual: true, activation: { kind: 'none' } },
  { ...base, name: '5x5/2 left pad 0 (the row kernel), width 50', channels: 3, size: [9, 50], kernel: 5, padding: 0, activation: { kind: 'sigmoid' } },
  { ...base, name: '3x3/2 from 112 wide (MobileNetV2 96@112: 4 vectors, the last masked), residual', channels: 4, size: [10, 112], kernel: 3, padding: 1, residual: true },
  { ...base, name: '3x3/2 130 wide, TF "same" (left pad 0): a span of 4 vectors + a masked tail, batch 2', batch: 2, channels: 3, size: [9, 130], kernel: 3, padding: [0, 0, 1, 1], activation: { kind: 'relu' } },
  { ...base, name: '3x3/2 129 wide, pad 1, SiLU (a pass after), odd height', channels: 5, size: [23, 129], kernel: 3, padding: 1, activation: { kind: 'silu' } },
  { ...base, name: '5x5/2 112 wide, pad 2 (2-vector spans + a masked tail), hardSwish, residual', channels: 3, size: [11, 112], kernel: 5, padding: 2, residual: true, activation: { kind: 'hardSwish' } },
  // Inputs up to 32 wide with pad 1 (AVX-512: a vector per output row from three permutes of each
  // input row, dwconv-s2-rows-avx512.inc; ymm rows up to 8 outputs)
  { ...base, name: 'MobileNetV2 3x3/2 192@28 -> 14 (20 planes), residual, batch 2', batch: 2, channels: 20, size: [28, 28], kernel: 3, padding: 1, residual: true },
  { ...base, name: 'MobileNetV2 3x3/2 576@14 -> 7 (24 planes)', channels: 24, size: [14, 14], kernel: 3, padding: 1 },
  { ...base, name: '3x3/2 32 wide, odd height 27, SiLU', channels: 5, size: [27, 32], kernel: 3, padding: 1, activation: { kind: 'silu' } },
  { ...base, name: '3x3/2 33 wide (past the form: channels in lanes / row kernel)', channels: 3, size: [9, 33], kernel: 3, padding: 1 },
  { ...base, name: '3x3/2 pad 1 left, 0 right, 16 wide -> 8, sigmoid', channels: 4, size: [16, 16], kernel: 3, padding: [1, 1, 0, 0], activation: { kind: 'sigmoid' } },
  { ...base, name: '3x3/2 17 wide -> 9 (zmm rows), 2 rows, residual', channels: 3, size: [3, 17], kernel: 3, padding: 1, residual: true, activation: { kind: 'none' } },
  { ...base, name: '3x3/2 1 wide, 5 high', channels: 2, size: [5, 1], kernel: 3, padding: 1 },
];

function runCase(c: Stride2Case, backend: typeof jsBackend) {
  const random = seededRandom(c.channels * 131 + c.size[1] * 7 + c.kernel);
  const spec = { inChannels: c.channels, outChannels: c.channels, groups: c.channels, kernel: [c.kernel, c.kernel] as [number, number], stride: [2, 2] as [number, number], dilation: [1, 1] as [number, number], padding: c.padding };
  const g = planConv(c.name, [c.batch, c.channels, c.size[0], c.size[1]], spec);
  const input = randomFloats(c.batch * c.channels * c.size[0] * c.size[1], random);
  const weight = randomFloats(c.channels * c.kernel * c.kernel, random);
  const bias = randomFloats(c.channels, random);
  const outLength = c.batch * c.channels * g.outH * g.outW;
  const residual = c.residual ? Float32Array.from({ length: outLength }, (_, i) => ((i * 7919) % 1000) / 500 - 1) : null;
  const kernel = backend.prepareConv2d({
    inChannels: c.channels, outChannels: c.channels, groups: c.channels, kernelH: c.kernel, kernelW: c.kernel,
    weight, bias, activation: c.activation, stride: spec.stride, dilation: spec.dilation, padding: c.padding,
  });
  const out = new Float32Array(outLength).fill(Number.NaN);
  kernel.runSync(input, g, out, residual);
  return out;
}

const loaded = loadNativeBackend();
const isas: IsaName[] = loaded instanceof Error ? [] : availableIsas();

describe.skipIf(loaded instanceof Error)('native stride-2 depthwise on wide rows vs the pure-JS path', () => {
  let before: IsaName | undefined;
  let threadsBefore = 1;
  beforeAll(() => {
    before = getIsa();
    threadsBefore = getNumThreads();
  });
  afterAll(() => {
    if (before) setIsa(before);
    setNumThreads(threadsBefore);
  });
  for (const isa of isas) {
    it.each(CASES)(`${isa}: $name`, (c) => {
      setIsa(isa);
      const want = runCase(c, jsBackend);
      for (const threads of [1, 2, 8]) {
        setNumThreads(threads);
        const got = runCase(c, loaded as typeof jsBackend);
        expectCloseToScale(got, want, `${isa}, ${threads} threads: ${c.name}`);
      }
    });
  }
});
