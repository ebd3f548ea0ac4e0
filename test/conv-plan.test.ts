/**
 * The one rule that plans a conv (lib/planner/conv-plan.ts), and every algorithm both backends
 * run held to the float error model (test/helpers/error-model.ts) against a float64 reference.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, ConvAlgorithm } from '../lib/backends/backend.js';
import { jsBackend } from '../lib/backends/js.js';
import { availableIsas, getIsa, loadNativeBackend, setIsa, type IsaName } from '../lib/backends/native.js';
import { convAlgorithmRefusal, packedConvBytes, planConvAlgorithm, WINOGRAD_RULE } from '../lib/planner/conv-plan.js';
import { planConv } from '../lib/planner/geometry.js';
import { ERROR_MODEL_C, measuredC } from './helpers/error-model.js';
import { randomFloats, seededRandom } from './helpers/numeric.js';

const conv = (inChannels: number, outChannels: number, k: number, extra: object = {}) => ({
  inChannels, outChannels, groups: 1, kernelH: k, kernelW: k, ...extra,
});

describe('planConvAlgorithm: one rule for both backends', () => {
  it('picks depthwise, pointwise, Winograd or im2col from the static description and target', () => {
    expect(planConvAlgorithm({ ...conv(32, 32, 3), groups: 32 }, 'avx2').algorithm).toBe('depthwise');
    expect(planConvAlgorithm(conv(32, 64, 1), 'avx2').algorithm).toBe('pointwise-gemm');
    expect(planConvAlgorithm(conv(32, 64, 1, { padding: 1 }), 'avx2').algorithm).toBe('im2col-gemm');
    expect(planConvAlgorithm(conv(32, 64, 1, { stride: [2, 2] }), 'avx2').algorithm).toBe('im2col-gemm');
    expect(planConvAlgorithm(conv(64, 64, 3, { stride: [2, 2] }), 'avx2').algorithm).toBe('im2col-gemm');
    expect(planConvAlgorithm(conv(64, 64, 3, { dilation: [2, 2] }), 'avx2').algorithm).toBe('im2col-gemm');
    // Grouped: direct natively at any stride (not 1x1), im2col in JS.
    expect(planConvAlgorithm({ ...conv(64, 64, 3), groups: 2 }, 'avx2').algorithm).toBe('grouped-direct');
    expect(planConvAlgorithm({ ...conv(64, 64, 3), groups: 2, stride: [2, 2] }, 'avx2').algorithm).toBe('grouped-direct');
    expect(planConvAlgorithm({ ...conv(64, 64, 3), groups: 2, stride: [2, 2] }, 'js').algorithm).toBe('im2col-gemm');
    expect(planConvAlgorithm({ ...conv(64, 64, 1), groups: 2 }, 'avx2').algorithm).toBe('pointwise-gemm');
    expect(planConvAlgorithm({ ...conv(64, 64, 3), groups: 2 }, 'js').algorithm).toBe('im2col-gemm');
    // Per target thresholds: 8 input channels pay for F(2x2) in JS, not natively.
    expect(planConvAlgorithm(conv(8, 8, 3), 'js').algorithm).toBe('winograd-f2x2-3x3');
    expect(planConvAlgorithm(conv(8, 8, 3), 'avx2').algorithm).toBe('im2col-gemm');
    // F(4x4) needs the input size, and a large enough one.
    expect(planConvAlgorithm(conv(64, 64, 3, { inputSize: [56, 56] }), 'avx2').algorithm).toBe('winograd-f4x4-3x3');
    expect(planConvAlgorithm(conv(64, 64, 3, { inputSize: [56, 14] }), 'avx2').algorithm).toBe('winograd-f2x2-3x3');
    expect(planConvAlgorithm(conv(64, 64, 3), 'avx2').algorithm).toBe('winograd-f2x2-3x3');
    expect(planConvAlgorithm(conv(64, 64, 3, { inputSize: [56, 56] }), 'js').algorithm).toBe('winograd-f2x2-3x3');
    // The avx512 tier starts F(4x4) at 64 channels (32->32 @56 measured 1.02-1.15x slower than F(2x2) there).
    expect(planConvAlgorithm(conv(32, 32, 3, { inputSize: [56, 56] }), 'avx2').algorithm).toBe('winograd-f4x4-3x3');
    expect(planConvAlgorithm(conv(32, 32, 3, { inputSize: [56, 56] }), 'avx512').algorithm).toBe('winograd-f2x2-3x3');
    expect(planConvAlgorithm(conv(64, 64, 3, { inputSize: [56, 56] }), 'avx512').algorithm).toBe('winograd-f4x4-3x3');
    // ... and from 14x14 maps (ResNet's 256->256 @14), not on 7x7 (512->512 @7: 4 tiles for 36 U matrices).
    expect(planConvAlgorithm(conv(256, 256, 3, { inputSize: [14, 14] }), 'avx512').algorithm).toBe('winograd-f4x4-3x3');
    expect(planConvAlgorithm(conv(256, 256, 3, { inputSize: [14, 14] }), 'avx2').algorithm).toBe('winograd-f2x2-3x3');
    expect(planConvAlgorithm(conv(512, 512, 3, { inputSize: [7, 7] }), 'avx512').algorithm).toBe('winograd-f2x2-3x3');
    expect(planConvAlgorithm(conv(256, 256, 3, { inputSize: [13, 14] }), 'avx512').algorithm).toBe('winograd-f2x2-3x3');
    // F(6x6) computes these convs when asked, but the rule never picks it (slower than F(4x4) here).
    expect(planConvAlgorithm(conv(64, 64, 3, { inputSize: [56, 56] }), 'avx512', { algorithm: 'winograd-f6x6-3x3' }).algorithm).toBe('winograd-f6x6-3x3');
    // Memory: F(4x4) passed over for F(2x2) under a limit between their sizes.
    const big = conv(64, 64, 3, { inputSize: [56, 56] });
    expect(planConvAlgorithm(big, 'avx2', { maxPackedBytes: packedConvBytes(big, 'winograd-f4x4-3x3') - 1 }).algorithm).toBe('winograd-f2x2-3x3');
    expect(WINOGRAD_RULE.js.f4x4).toBeNull();
  });

  it('names the bytes each algorithm keeps and passes over forms that exceed maxPackedBytes', () => {
    const d = conv(64, 64, 3);
    const filters = 64 * 64 * 9 * 4;
    expect(packedConvBytes(d, 'im2col-gemm', false)).toBe(filters);
    expect(packedConvBytes(d, 'winograd-f2x2-3x3', false)).toBe((filters * 16) / 9);
    expect(packedConvBytes(d, 'winograd-f4x4-3x3', false)).toBe((filters * 45) / 9); // U and the im2col form
    expect(packedConvBytes(d, 'winograd-f6x6-3x3', false)).toBe((filters * 73) / 9);
    expect(packedConvBytes(d, 'im2col-gemm', true)).toBe(filters + 64 * 4);
    const f2 = packedConvBytes(d, 'winograd-f2x2-3x3');
    expect(planConvAlgorithm(d, 'js', { maxPackedBytes: f2 }).algorithm).toBe('winograd-f2x2-3x3');
    expect(planConvAlgorithm(d, 'js', { maxPackedBytes: f2 - 1 }).algorithm).toBe('im2col-gemm');
    // The compact form is always allowed, even under a limit it exceeds.
    expect(planConvAlgorithm(d, 'avx2', { maxPackedBytes: 0 })).toEqual({ algorithm: 'im2col-gemm', packedBytes: filters + 256 });
    expect(() => planConvAlgorithm(d, 'avx2', { maxPackedBytes: -1 })).toThrow(/maxPackedBytes must be a non-negative number, got -1/);
  });

  it('refuses an algorithm that does not compute the conv, saying why', () => {
    expect(convAlgorithmRefusal(conv(8, 8, 3, { stride: [1, 2] }), 'winograd-f4x4-3x3')).toBe(
      'needs a 3x3 kernel, stride 1, dilation 1 and groups 1 (got 3x3, stride 1x2, dilation 1x1, groups 1)',
    );
    expect(convAlgorithmRefusal(conv(8, 8, 3), 'depthwise')).toBe('needs groups == inChannels > 1 (got groups 1, inChannels 8)');
    expect(() => planConvAlgorithm(conv(8, 8, 3), 'avx2', { algorithm: 'pointwise-gemm' })).toThrow(
      "conv2d: algorithm 'pointwise-gemm' needs a 1x1 kernel at stride 1 without padding",
    );
    expect(() => planConvAlgorithm(conv(8, 8, 3), 'avx2', { algorithm: 'fft' as ConvAlgorithm })).toThrow(/is not one of depthwise/);
  });
});

// Every algorithm on every target, float64 reference. Inputs in [-1, 1) and weights of both
// signs, so sums cancel (the hard case for a relative tolerance).
interface SweepCase {
  inChannels: number;
  outChannels: number;
  size: number;
  k: number;
  stride: number;
  groups: number;
  padding: number;
}
const SWEEP: SweepCase[] = [
  { inChannels: 24, outChannels: 16, size: 9, k: 3, stride: 1, groups: 1, padding: 1 },
  { inChannels: 64, outChannels: 20, size: 13, k: 3, stride: 1, groups: 1, padding: 1 },
  { inChannels: 128, outChannels: 12, size: 11, k: 3, stride: 1, groups: 1, padding: 0 },
  { inChannels: 300, outChannels: 8, size: 10, k: 3, stride: 1, groups: 1, padding: 1 },
  { inChannels: 512, outChannels: 6, size: 7, k: 3, stride: 1, groups: 1, padding: 1 },
  { inChannels: 40, outChannels: 24, size: 12, k: 3, stride: 2, groups: 1, padding: 1 },
  { inChannels: 64, outChannels: 32, size: 10, k: 1, stride: 1, groups: 1, padding: 0 },
  { inChannels: 32, outChannels: 32, size: 11, k: 3, stride: 1, groups: 32, padding: 1 },
  { inChannels: 64, outChannels: 64, size: 9, k: 3, stride: 1, groups: 8, padding: 1 },
];

function algorithmsFor(c: SweepCase, native: boolean): ConvAlgorithm[] {
  const d = { ...conv(c.inChannels, c.outChannels, c.k), groups: c.groups, stride: [c.stride, c.stride] as const, padding: c.padding };
  const all: ConvAlgorithm[] = ['depthwise', 'pointwise-gemm', 'im2col-gemm', 'winograd-f2x2-3x3', 'winograd-f4x4-3x3', 'grouped-direct', 'winograd-f6x6-3x3'];
  const nativeOnly: ConvAlgorithm[] = ['winograd-f4x4-3x3', 'winograd-f6x6-3x3', 'grouped-direct'];
  return all.filter((a) => convAlgorithmRefusal(d, a) === null && (native || !nativeOnly.includes(a)));
}

function sweep(backend: Backend, native: boolean): Map<ConvAlgorithm, number> {
  const worst = new Map<ConvAlgorithm, number>();
  let seed = 100;
  for (const c of SWEEP) {
    const random = seededRandom(seed++);
    const g = planConv('sweep', [1, c.inChannels, c.size, c.size], {
      inChannels: c.inChannels, outChannels: c.outChannels, groups: c.groups, kernel: [c.k, c.k],
      stride: [c.stride, c.stride], dilation: [1, 1], padding: c.padding,
    });
    const input = randomFloats(c.inChannels * c.size * c.size, random);
    const weight = randomFloats((c.outChannels * c.inChannels * c.k * c.k) / c.groups, random);
    for (const algorithm of algorithmsFor(c, native)) {
      const kernel = backend.prepareConv2d({
        inChannels: c.inChannels, outChannels: c.outChannels, groups: c.groups, kernelH: c.k, kernelW: c.k, weight,
        bias: null, activation: { kind: 'none' }, stride: [c.stride, c.stride], padding: c.padding, algorithm,
      });
      expect(kernel.plan?.algorithm).toBe(algorithm);
      const out = new Float32Array(g.outChannels * g.outH * g.outW).fill(Number.NaN);
      kernel.runSync(input, g, out);
      const measured = measuredC(out, input, g, weight);
      worst.set(algorithm, Math.max(worst.get(algorithm) ?? 0, measured));
      expect(measured, `${algorithm} ${JSON.stringify(c)}`).toBeLessThanOrEqual(ERROR_MODEL_C);
    }
  }
  return worst;
}

const report = (target: string, worst: Map<ConvAlgorithm, number>) =>
  console.log(`error model, worst c on ${target}: ${[...worst].map(([a, c]) => `${a} ${c.toFixed(4)}`).join(', ')}`);

describe(`every algorithm stays within |y - y64| <= ${ERROR_MODEL_C} (Cin K K) eps32 sum|w x|`, () => {
  it('pure-JS kernels', () => {
    const worst = sweep(jsBackend, false);
    expect([...worst.keys()].sort()).toEqual(['depthwise', 'im2col-gemm', 'pointwise-gemm', 'winograd-f2x2-3x3']);
    report('js', worst);
  });

  const loaded = loadNativeBackend();
  const isas: IsaName[] = loaded instanceof Error ? [] : availableIsas();
  let before: IsaName | undefined;
  beforeAll(() => {
    if (isas.length > 0) before = getIsa();
  });
  afterAll(() => {
    if (before) setIsa(before);
  });
  it.skipIf(loaded instanceof Error)('native kernels on every ISA of this CPU', () => {
    for (const isa of isas) {
      setIsa(isa);
      const worst = sweep(loaded as Backend, true);
      expect(worst.has('winograd-f4x4-3x3') && worst.has('winograd-f6x6-3x3') && worst.has('grouped-direct')).toBe(true);
      report(isa, worst);
    }
  });
});
