/**
 * jsBackend pooling, global pooling and Linear against naive versions written here, plus
 * hand-worked values (the lecture's 4x4 max pool, PyTorch's ceil_mode / count_include_pad
 * semantics worked out by hand on 0..8 and 0..24 ramps).
 */
import { describe, expect, it } from 'vitest';
import { jsBackend } from '../lib/backends/js.js';
import type { PoolGeometry, PoolKind } from '../lib/backends/backend.js';
import { planWindow, type Pads, type PaddingSpec } from '../lib/planner/geometry.js';
import { ParameterError } from '../lib/errors.js';
import { ALL_ACTIVATIONS, expectClose, randomFloats, seededRandom, referenceActivation } from './helpers/numeric.js';

type Pair = [number, number];

interface PoolCase {
  kind: PoolKind;
  batch: number;
  channels: number;
  inH: number;
  inW: number;
  kernel: Pair;
  stride: Pair;
  dilation: Pair;
  padding: PaddingSpec;
  ceilMode: boolean;
  countIncludePad: boolean;
}

/** PyTorch's pooling output size, written independently of lib/planner. */
function pooledSize(inSize: number, k: number, s: number, d: number, before: number, after: number, ceil: boolean): number {
  const span = inSize + before + after - (d * (k - 1) + 1);
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= inSize + before) out--;
  return out;
}

/** The oracle; returns null when some window covers only padding (the kernel must refuse it). */
function naivePool(c: PoolCase, pads: Pads, x: Float32Array): { out: Float64Array; outH: number; outW: number } | null {
  const outH = pooledSize(c.inH, c.kernel[0], c.stride[0], c.dilation[0], pads.top, pads.bottom, c.ceilMode);
  const outW = pooledSize(c.inW, c.kernel[1], c.stride[1], c.dilation[1], pads.left, pads.right, c.ceilMode);
  const out = new Float64Array(c.batch * c.channels * outH * outW);
  let o = 0;
  for (let plane = 0; plane < c.batch * c.channels; plane++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++, o++) {
        let max = -Infinity;
        let sum = 0;
        let real = 0;
        let insidePadded = 0;
        for (let ty = 0; ty < c.kernel[0]; ty++) {
          for (let tx = 0; tx < c.kernel[1]; tx++) {
            const iy = oy * c.stride[0] - pads.top + ty * c.dilation[0];
            const ix = ox * c.stride[1] - pads.left + tx * c.dilation[1];
            const inPadded = iy >= -pads.top && iy < c.inH + pads.bottom && ix >= -pads.left && ix < c.inW + pads.right;
            if (inPadded) insidePadded++;
            if (iy < 0 || iy >= c.inH || ix < 0 || ix >= c.inW) continue;
            const v = x[(plane * c.inH + iy) * c.inW + ix];
            max = Math.max(max, v);
            sum += v;
            real++;
          }
        }
        if (real === 0) return null;
        out[o] = c.kind === 'max' ? max : sum / (c.countIncludePad ? insidePadded : real);
      }
    }
  }
  return { out, outH, outW };
}

function poolGeometry(c: PoolCase): PoolGeometry {
  const window = planWindow('pool test', c.inH, c.inW, {
    kernel: c.kernel, stride: c.stride, dilation: c.dilation, padding: c.padding, ceilMode: c.ceilMode,
  });
  return { ...window, batch: c.batch, channels: c.channels, kind: c.kind, countIncludePad: c.countIncludePad };
}

let seed = 1000;

/** 'ran' when compared, 'refused' when the kernel rightly rejected an all-padding window. */
function checkPool(c: PoolCase): 'ran' | 'refused' {
  const label = JSON.stringify(c);
  const geometry = poolGeometry(c);
  const x = randomFloats(c.batch * c.channels * c.inH * c.inW, seededRandom(seed++));
  const expected = naivePool(c, geometry.pads, x);
  const output = new Float32Array(c.batch * c.channels * geometry.outH * geometry.outW).fill(Number.NaN);
  if (expected === null) {
    expect(() => jsBackend.pool2dSync(x, geometry, output), label).toThrow(/covers only padding/);
    return 'refused';
  }
  expect([geometry.outH, geometry.outW], `${label}: output size`).toEqual([expected.outH, expected.outW]);
  jsBackend.pool2dSync(x, geometry, output);
  expectClose(output, expected.out, label);
  return 'ran';
}

describe('jsBackend pool2d against a naive pooling loop', () => {
  const VARIANTS: Array<[PoolKind, boolean]> = [['max', false], ['avg', true], ['avg', false]];
  it.each(VARIANTS)('%s pooling (countIncludePad %s) over kernels, strides, pads and ceilMode', (kind, countIncludePad) => {
    const counts = { ran: 0, refused: 0 };
    for (const kernel of [[1, 1], [2, 2], [3, 3], [2, 3], [5, 5], [3, 1]] as Pair[]) {
      for (const stride of [[1, 1], [2, 2], [3, 3], [1, 2]] as Pair[]) {
        for (const padding of [0, 1, 2, [1, 0], [0, 1, 1, 0], 'same'] as PaddingSpec[]) {
          for (const ceilMode of [false, true]) {
            counts[checkPool({ kind, countIncludePad, batch: 2, channels: 3, inH: 9, inW: 8, kernel, stride, dilation: [1, 1], padding, ceilMode })]++;
          }
        }
      }
    }
    expect(counts.ran + counts.refused).toBe(6 * 4 * 6 * 2);
    expect(counts.ran).toBeGreaterThan(200);
    expect(counts.refused).toBeGreaterThan(0); // e.g. padding 1 around a 1x1 kernel: the corner window is all padding
  });

  it('max pooling with dilation', () => {
    let ran = 0;
    for (const dilation of [[2, 2], [3, 1], [1, 2]] as Pair[]) {
      for (const kernel of [[2, 2], [3, 3], [3, 2]] as Pair[]) {
        for (const stride of [[1, 1], [2, 2]] as Pair[]) {
          for (const padding of [0, 1, [0, 1, 1, 0]] as PaddingSpec[]) {
            for (const ceilMode of [false, true]) {
              if (checkPool({ kind: 'max', countIncludePad: false, batch: 1, channels: 2, inH: 11, inW: 10, kernel, stride, dilation, padding, ceilMode }) === 'ran') ran++;
            }
          }
        }
      }
    }
    expect(ran).toBe(3 * 3 * 2 * 3 * 2); // padding <= half the dilated kernel here, so every case runs
  });

  it('padded cells never win a max: an all-negative input stays negative at the borders', () => {
    const geometry = poolGeometry({ kind: 'max', countIncludePad: false, batch: 1, channels: 1, inH: 3, inW: 3, kernel: [3, 3], stride: [1, 1], dilation: [1, 1], padding: 1, ceilMode: false });
    const x = Float32Array.from([-9, -8, -7, -6, -5, -4, -3, -2, -1]);
    const out = new Float32Array(9);
    jsBackend.pool2dSync(x, geometry, out);
    expect(Array.from(out)).toEqual([-5, -4, -4, -2, -1, -1, -2, -1, -1]);
  });

  it("the lecture's 4x4 max pool gives [[6, 8], [3, 4]]", () => {
    const geometry = poolGeometry({ kind: 'max', countIncludePad: false, batch: 1, channels: 1, inH: 4, inW: 4, kernel: [2, 2], stride: [2, 2], dilation: [1, 1], padding: 0, ceilMode: false });
    const out = new Float32Array(4);
    jsBackend.pool2dSync(Float32Array.from([1, 1, 2, 4, 5, 6, 7, 8, 3, 2, 1, 0, 1, 2, 3, 4]), geometry, out);
    expect(Array.from(out)).toEqual([6, 8, 3, 4]);
  });

  // Worked by hand with PyTorch's rules: ceil-mode windows are clipped at the padded input;
  // countIncludePad counts padding cells but not cells past the padded input.
  const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => i);
  it.each([
    ['3x3 ramp, k2 s2 p0, ceil, countIncludePad', 3, 2, 2, 0, true, true, [2, 3.5, 6.5, 8]],
    ['3x3 ramp, k2 s2 p1, countIncludePad', 3, 2, 2, 1, false, true, [0, 0.75, 2.25, 6]],
    ['3x3 ramp, k2 s2 p1, real cells only', 3, 2, 2, 1, false, false, [0, 1.5, 4.5, 6]],
    ['5x5 ramp, k3 s2 p1, ceil, countIncludePad', 5, 3, 2, 1, true, true, [12 / 9, 3, 24 / 9, 7, 12, 9, 8, 13, 84 / 9]],
  ] as Array<[string, number, number, number, number, boolean, boolean, number[]]>)(
    'avg pool, %s', (_label, size, k, s, p, ceilMode, countIncludePad, expected) => {
      const geometry = poolGeometry({ kind: 'avg', countIncludePad, batch: 1, channels: 1, inH: size, inW: size, kernel: [k, k], stride: [s, s], dilation: [1, 1], padding: p, ceilMode });
      const out = new Float32Array(expected.length);
      jsBackend.pool2dSync(ramp(size * size), geometry, out);
      expectClose(out, expected, _label, 1e-6);
    },
  );

  it('pool2d() returns a promise with the same result', async () => {
    const geometry = poolGeometry({ kind: 'avg', countIncludePad: false, batch: 2, channels: 2, inH: 7, inW: 5, kernel: [3, 3], stride: [2, 2], dilation: [1, 1], padding: 1, ceilMode: true });
    const x = randomFloats(2 * 2 * 7 * 5, seededRandom(5));
    const a = new Float32Array(2 * 2 * geometry.outH * geometry.outW);
    const b = new Float32Array(a.length);
    jsBackend.pool2dSync(x, geometry, a);
    await jsBackend.pool2d(x, geometry, b);
    expect(Array.from(b)).toEqual(Array.from(a));
  });
});

describe('jsBackend globalPool2d', () => {
  it.each(['avg', 'max'] as PoolKind[])('global %s pooling of every plane', async (kind) => {
    for (const [planes, plane] of [[1, 1], [6, 49], [10, 13], [3, 3136]]) {
      const x = randomFloats(planes * plane, seededRandom(planes * 31 + plane));
      const expected: number[] = [];
      for (let p = 0; p < planes; p++) {
        const values = Array.from(x.subarray(p * plane, (p + 1) * plane));
        expected.push(kind === 'max' ? Math.max(...values) : values.reduce((s, v) => s + v, 0) / plane);
      }
      const out = new Float32Array(planes);
      jsBackend.globalPool2dSync(x, kind, planes, plane, out);
      expectClose(out, expected, `${kind} ${planes}x${plane}`);
      const viaAsync = new Float32Array(planes);
      await jsBackend.globalPool2d(x, kind, planes, plane, viaAsync);
      expect(Array.from(viaAsync)).toEqual(Array.from(out));
    }
  });
});

describe('jsBackend linear', () => {
  function naiveLinear(x: Float32Array, batch: number, inF: number, outF: number, w: Float32Array, bias: Float32Array | null): number[] {
    const out: number[] = [];
    for (let b = 0; b < batch; b++) {
      for (let o = 0; o < outF; o++) {
        let sum = bias ? bias[o] : 0;
        for (let i = 0; i < inF; i++) sum += x[b * inF + i] * w[o * inF + i];
        out.push(sum);
      }
    }
    return out;
  }

  it('batch x in times W^T plus bias, for odd sizes, every activation', async () => {
    let cases = 0;
    for (const [batch, inF, outF] of [[1, 1, 1], [1, 400, 120], [3, 120, 84], [2, 84, 10], [5, 7, 13], [0, 4, 3], [9, 65, 66]]) {
      for (const withBias of [true, false]) {
        for (const activation of ALL_ACTIVATIONS) {
          const random = seededRandom(cases++);
          const x = randomFloats(batch * inF, random);
          const w = randomFloats(outF * inF, random);
          const bias = withBias ? randomFloats(outF, random) : null;
          const expected = naiveLinear(x, batch, inF, outF, w, bias).map((v) => referenceActivation(v, activation));
          const kernel = jsBackend.prepareLinear({ inFeatures: inF, outFeatures: outF, weight: w, bias, activation });
          const out = new Float32Array(batch * outF).fill(Number.NaN);
          kernel.runSync(x, batch, out);
          expectClose(out, expected, `linear ${batch}x${inF}->${outF} ${activation.kind}`);
          const viaAsync = new Float32Array(batch * outF);
          await kernel.run(x, batch, viaAsync);
          expect(Array.from(viaAsync)).toEqual(Array.from(out));
        }
      }
    }
    expect(cases).toBe(7 * 2 * ALL_ACTIVATIONS.length);
  });

  it('a hand-worked example', () => {
    // [1, 2] x [[1, 0], [2, -1], [0.5, 0.5]]^T + [0, 1, -1] = [1, 1, 0.5]
    const kernel = jsBackend.prepareLinear({
      inFeatures: 2, outFeatures: 3, weight: Float32Array.from([1, 0, 2, -1, 0.5, 0.5]), bias: Float32Array.from([0, 1, -1]),
      activation: { kind: 'none' },
    });
    const out = new Float32Array(3);
    kernel.runSync(Float32Array.from([1, 2]), 1, out);
    expect(Array.from(out)).toEqual([1, 1, 0.5]);
  });
});

it('an all-padding window is a ParameterError, not -Infinity', () => {
  const geometry = poolGeometry({ kind: 'max', countIncludePad: false, batch: 1, channels: 1, inH: 4, inW: 4, kernel: [2, 2], stride: [2, 2], dilation: [1, 1], padding: 2, ceilMode: false });
  expect(() => jsBackend.pool2dSync(new Float32Array(16), geometry, new Float32Array(geometry.outH * geometry.outW))).toThrow(ParameterError);
});
