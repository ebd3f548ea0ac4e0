/**
 * ConvTranspose's native col2im (native/ops/col2im.cc) against the pure-JS kernel
 * (lib/kernels/col2im.ts) on random footprint planes: kernels over, at and under the stride,
 * padding that drops taps, dilation, output_padding's extra row, sizes split over 2 threads, sync
 * and async; a hand-worked case; a full-size UNet-style up-conv against onnxruntime-node; and bad
 * sizes refused with a typed error that names the field, before any read.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { Backend } from '../lib/backends/backend.js';
import { getNumThreads, setNumThreads } from '../lib/backends/native.js';
import { ShapeError } from '../lib/errors.js';
import { col2im, type Col2imPlan } from '../lib/kernels/col2im.js';
import { loadOnnx } from '../lib/onnx/index.js';
import { Tensor } from '../lib/tensor.js';
import { useNativeBackend } from './helpers/backends.js';
import { randomInput, worstRelativeError } from './helpers/numeric.js';
import { encodeModel, floatTensor, node } from './onnx-model-builder.js';

let native: Backend;
useNativeBackend((loaded) => {
  native = loaded;
});

/** ONNX's output size: S (in - 1) + D (K - 1) + 1 + extra - pads. */
function planOf(batch: number, channels: number, k: number, s: number, d: number, inH: number, inW: number,
  pads: [number, number, number, number], extra = 0): Col2imPlan {
  const [top, left, bottom, right] = pads;
  return {
    batch, channels, kernelH: k, kernelW: k, strideH: s, strideW: s, dilationH: d, dilationW: d, padTop: top, padLeft: left, inH, inW,
    outH: s * (inH - 1) + d * (k - 1) + 1 + extra - top - bottom, outW: s * (inW - 1) + d * (k - 1) + 1 + extra - left - right,
  };
}

const colsLength = (p: Col2imPlan) => p.batch * p.channels * p.kernelH * p.kernelW * p.inH * p.inW;
const outLength = (p: Col2imPlan) => p.batch * p.channels * p.outH * p.outW;

const CASES: Array<[string, Col2imPlan]> = [
  ['4x4/2 pad 1', planOf(1, 5, 4, 2, 1, 7, 9, [1, 1, 1, 1])],
  ['3x3/2 pad 1 output_padding 1, batch 2', planOf(2, 3, 3, 2, 1, 6, 5, [1, 1, 1, 1], 1)],
  ['3x3/1 pad 1', planOf(1, 4, 3, 1, 1, 8, 19, [1, 1, 1, 1])],
  ['2x2/3 (gaps)', planOf(1, 3, 2, 3, 1, 5, 6, [0, 0, 0, 0], 2)],
  ['3x3/2 dilation 2, uneven pads', planOf(1, 2, 3, 2, 2, 5, 7, [2, 1, 0, 3])],
  ['4x4/2 pad 1, 32 channels @40x24 (split over the pool)', planOf(1, 32, 4, 2, 1, 40, 24, [1, 1, 1, 1])],
];

describe('native col2im vs the pure-JS kernel', () => {
  it.each(CASES)('%s', async (_, plan) => {
    const cols = randomInput([colsLength(plan)], 7);
    const bias = randomInput([plan.channels], 8);
    const threads = getNumThreads();
    try {
      for (const t of [1, 2]) {
        setNumThreads(t);
        for (const b of [bias, null]) {
          const want = new Float32Array(outLength(plan));
          col2im(cols, b, want, plan);
          const sync = new Float32Array(outLength(plan)).fill(Number.NaN);
          native.col2imSync!(cols, b, sync, plan);
          expect(worstRelativeError(sync, want), `threads ${t}`).toBeLessThanOrEqual(1e-6);
          const async = new Float32Array(outLength(plan)).fill(Number.NaN);
          await native.col2im!(cols, b, async, plan);
          expect(Array.from(async)).toEqual(Array.from(sync));
        }
      }
    } finally {
      setNumThreads(threads);
    }
  });

  it('by hand: a 1-channel 2x2 footprint at stride 1 overlaps its neighbours', () => {
    // in 1x2, kernel 2x2 stride 1: pixel 0 sends taps [1, 2; 3, 4] to columns 0-1, pixel 1 sends
    // [10, 20; 30, 40] to columns 1-2. cols layout [ky, kx, iy, ix].
    const plan = planOf(1, 1, 2, 1, 1, 1, 2, [0, 0, 0, 0]);
    const cols = Float32Array.from([1, 10, 2, 20, 3, 30, 4, 40]);
    const out = new Float32Array(6);
    native.col2imSync!(cols, Float32Array.from([0.5]), out, plan);
    expect(Array.from(out)).toEqual([1.5, 12.5, 20.5, 3.5, 34.5, 40.5]);
  });

  const good = planOf(1, 2, 4, 2, 1, 3, 3, [1, 1, 1, 1]);
  const bad: Array<[string, Col2imPlan, number, number | null, number, RegExp]> = [
    ['cols one float short', good, colsLength(good) - 1, null, outLength(good), /cols has 287 elements but N x C x KH x KW x inH x inW needs 288/],
    ['an output one float long', good, colsLength(good), null, outLength(good) + 1, /output has 73 elements/],
    ['a bias of 3 values for 2 channels', good, colsLength(good), 3, outLength(good), /bias has 3 elements but one value per output channel needs 2/],
    ['stride 0', { ...good, strideW: 0 }, colsLength(good), null, outLength(good), /strideW must be at least 1, got 0/],
  ];
  it.each(bad)('refuses %s', async (_, plan, cols, bias, out, message) => {
    const args = [new Float32Array(cols), bias === null ? null : new Float32Array(bias), new Float32Array(out), plan] as const;
    expect(() => native.col2imSync!(...args)).toThrow(ShapeError);
    expect(() => native.col2imSync!(...args)).toThrow(message);
    await expect(native.col2im!(...args)).rejects.toThrow(message);
  });
});

describe('a UNet-style 4x4/2 up-conv, 64 -> 32 channels @32x32, against onnxruntime-node', () => {
  it('matches at 1 and 2 threads', async () => {
    const cin = 64, cout = 32;
    const weight = randomInput([cin * cout * 16], 3).map((v) => v * 0.1);
    const bias = randomInput([cout], 4);
    const bytes = encodeModel({
      opset: 13,
      nodes: [node('ConvTranspose', ['x', 'w', 'b'], ['y'], { strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] } })],
      initializers: [floatTensor('w', [cin, cout, 4, 4], weight), floatTensor('b', [cout], bias)],
      inputs: [{ name: 'x', shape: [1, cin, 32, 32] }],
      outputs: [{ name: 'y' }],
    });
    const x = randomInput([cin * 32 * 32], 5);
    const session = await ort.InferenceSession.create(bytes);
    const want = (await session.run({ x: new ort.Tensor('float32', x, [1, cin, 32, 32]) })).y;
    expect(want.dims).toEqual([1, cout, 64, 64]);
    const model = await loadOnnx(bytes, { backend: 'native' });
    const threads = getNumThreads();
    try {
      for (const t of [1, 2]) {
        setNumThreads(t);
        const got = (await model.run({ x: new Tensor([1, cin, 32, 32], x) })).y;
        expect(worstRelativeError(got.data, want.data as Float32Array), `threads ${t}`).toBeLessThanOrEqual(1e-5);
      }
    } finally {
      setNumThreads(threads);
    }
  });
});
