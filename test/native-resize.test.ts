/**
 * The native f32-resize kernels (native/kernels/f32-resize) against the pure-JS path on every
 * Resize mode the importer accepts, on every ISA tier this CPU runs (the planes wide enough for
 * full vectors and their tails, 2x nearest, a segmentation head's 8x bilinear, downsampling),
 * sync and async; the 8x head against onnxruntime-node too; and bad tables refused with a typed
 * error that names the table, before any read.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { Backend } from '../lib/backends/backend.js';
import { availableIsas, setIsa } from '../lib/backends/native.js';
import { ShapeError, ParameterError } from '../lib/errors.js';
import type { ResizePlan } from '../lib/kernels/resize.js';
import { loadOnnx } from '../lib/onnx/index.js';
import { Tensor } from '../lib/tensor.js';
import { useNativeBackend } from './helpers/backends.js';
import { randomInput, worstRelativeError } from './helpers/numeric.js';
import { encodeModel, intTensor, floatTensor, node, type Attr } from './onnx-model-builder.js';

let native: Backend;
useNativeBackend((loaded) => {
  native = loaded;
});

const s = (v: string): Attr => ({ s: v });
const C = 3;
const IN_H = 9;
const IN_W = 21;

/** A Resize-13 (or -19) model over [N, 3, 9, 21] with constant scales or sizes. */
function resizeModel(attrs: Record<string, Attr>, target: { scales?: number[]; sizes?: number[] }, opset = 13): Uint8Array {
  const initializers = target.sizes ? [intTensor('sizes', [4], target.sizes)] : [floatTensor('scales', [4], target.scales!)];
  return encodeModel({
    opset,
    nodes: [node('Resize', target.sizes ? ['x', '', '', 'sizes'] : ['x', '', 'scales'], ['y'], attrs)],
    initializers,
    inputs: [{ name: 'x', shape: ['N', C, IN_H, IN_W] }],
    outputs: [{ name: 'y' }],
  });
}

interface Form {
  readonly name: string;
  readonly attrs: Record<string, Attr>;
  readonly target: { scales?: number[]; sizes?: number[] };
  readonly opset?: number;
}

const COORDINATES = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric'];
const FORMS: Form[] = [
  ...COORDINATES.flatMap((mode): Form[] => [
    { name: `linear ${mode} 2x`, attrs: { mode: s('linear'), coordinate_transformation_mode: s(mode) }, target: { scales: [1, 1, 2, 2] } },
    { name: `linear ${mode} 8x`, attrs: { mode: s('linear'), coordinate_transformation_mode: s(mode) }, target: { scales: [1, 1, 8, 8] } },
    { name: `linear ${mode} sizes 4x37 (down, up)`, attrs: { mode: s('linear'), coordinate_transformation_mode: s(mode) }, target: { sizes: [1, C, 4, 37] } },
  ]),
  ...['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'].flatMap((nearest): Form[] => [
    ...[...COORDINATES, 'tf_half_pixel_for_nn'].map((mode): Form => (
      { name: `nearest ${nearest} ${mode} 2x`, attrs: { mode: s('nearest'), coordinate_transformation_mode: s(mode), nearest_mode: s(nearest) }, target: { scales: [1, 1, 2, 2] } })),
    { name: `nearest ${nearest} half_pixel 1.7x1.3`, attrs: { mode: s('nearest'), nearest_mode: s(nearest) }, target: { scales: [1, 1, 1.7, 1.3] } },
    { name: `nearest ${nearest} asymmetric 0.5x`, attrs: { mode: s('nearest'), coordinate_transformation_mode: s('asymmetric'), nearest_mode: s(nearest) }, target: { scales: [1, 1, 0.5, 0.5] } },
  ]),
  { name: 'linear half_pixel_symmetric 1.5x2.5 (opset 19)', attrs: { mode: s('linear'), coordinate_transformation_mode: s('half_pixel_symmetric') }, target: { scales: [1, 1, 1.5, 2.5] }, opset: 19 },
];

describe('native Resize vs the pure-JS path, every mode, every ISA tier', () => {
  it.each(FORMS)('$name', async (form) => {
    const bytes = resizeModel(form.attrs, form.target, form.opset);
    const reference = await loadOnnx(bytes, { backend: 'js' });
    const model = await loadOnnx(bytes, { backend: 'native' });
    const batches = form.target.sizes ? [1] : [1, 2];  // sizes fix N
    for (const n of batches) {
      const x = new Tensor([n, C, IN_H, IN_W], randomInput([n, C, IN_H, IN_W], 40 + n));
      const want = (await reference.run({ x })).y;
      for (const isa of availableIsas()) {
        setIsa(isa);
        const got = (await model.run({ x })).y;
        const gotSync = model.runSync({ x }).y;
        expect(got.shape).toEqual(want.shape);
        // Nearest copies values: exact. Bilinear differs from the JS double arithmetic only in
        // float rounding (and FMA).
        const tolerance = form.attrs.mode.s === 'nearest' ? 0 : 1e-6;
        expect(worstRelativeError(got.data, want.data), `${isa} batch ${n}`).toBeLessThanOrEqual(tolerance);
        expect(worstRelativeError(gotSync.data, want.data), `${isa} batch ${n} sync`).toBeLessThanOrEqual(tolerance);
      }
    }
  });

  it("a segmentation head's 8x bilinear upsample (21 classes, 28x28 -> 224x224) matches onnxruntime-node", async () => {
    const bytes = encodeModel({
      opset: 13,
      nodes: [node('Resize', ['x', '', '', 'sizes'], ['y'], { mode: s('linear'), coordinate_transformation_mode: s('half_pixel') })],
      initializers: [intTensor('sizes', [4], [1, 21, 224, 224])],
      inputs: [{ name: 'x', shape: [1, 21, 28, 28] }],
      outputs: [{ name: 'y' }],
    });
    const session = await ort.InferenceSession.create(bytes);
    const model = await loadOnnx(bytes, { backend: 'native' });
    const data = randomInput([1, 21, 28, 28], 8);
    const want = (await session.run({ x: new ort.Tensor('float32', data.slice(), [1, 21, 28, 28]) })).y;
    for (const isa of availableIsas()) {
      setIsa(isa);
      const got = (await model.run({ x: new Tensor([1, 21, 28, 28], data) })).y;
      expect(worstRelativeError(got.data, want.data as Float32Array), isa).toBeLessThanOrEqual(1e-5);
    }
  });
});

describe('the native resize call refuses bad tables, naming them', () => {
  const axis = (inLength: number, lo: number[], hi = lo, weight = lo.map(() => 0.5)) => (
    { in: inLength, lo: Int32Array.from(lo), hi: Int32Array.from(hi), weight: Float32Array.from(weight) });
  const good: ResizePlan = { planes: 2, bilinear: true, rows: axis(2, [0, 0, 1], [1, 1, 1]), cols: axis(2, [0, 1], [1, 1]) };
  const input = new Float32Array(2 * 2 * 2);
  const output = () => new Float32Array(2 * 3 * 2);

  it('runs a good plan (by hand: the blends of a 2x2 plane)', () => {
    const x = Float32Array.from([0, 1, 2, 3, 10, 20, 30, 40]);
    const y = output();
    native.resizeSync!(x, good, y);
    // Plane [[0, 1], [2, 3]]: columns blend col 0 and 1 by 0.5, then col 1 with itself, so the
    // rows' blends are [0.5, 1] and [2.5, 3]; output rows 0 and 1 blend those by 0.5, row 2 is
    // row 1's alone.
    expect([...y.subarray(0, 6)]).toEqual([1.5, 2, 1.5, 2, 2.5, 3]);
    expect([...y.subarray(6)]).toEqual([25, 30, 25, 30, 35, 40]);
  });

  const bad: Array<[string, ResizePlan, Float32Array, RegExp, typeof ShapeError | typeof ParameterError]> = [
    ['an index past the input', { ...good, cols: axis(2, [0, 2], [1, 1]) }, output(), /cols\.lo holds 2, outside the input's 0\.\.1/, ShapeError],
    ['a negative index', { ...good, rows: axis(2, [0, 0, 1], [1, -1, 1]) }, output(), /rows\.hi holds -1/, ShapeError],
    ['a weight above 1', { ...good, rows: axis(2, [0, 0, 1], [1, 1, 1], [0.5, 2, 0]) }, output(), /rows\.weight must hold blends in \[0, 1\]/, ShapeError],
    ['a short weight table', { ...good, cols: axis(2, [0, 1], [1, 1], [0.5]) }, output(), /cols\.weight has 1 elements/, ShapeError],
    ['an output one float short', good, new Float32Array(11), /output has 11 elements/, ShapeError],
    ['a table that is not an Int32Array', { ...good, rows: { ...good.rows, lo: new Float32Array(3) as unknown as Int32Array } }, output(), /params\.rows\.lo must be an Int32Array/, ParameterError],
  ];
  it.each(bad)('%s', async (_, plan, out, message, type) => {
    expect(() => native.resizeSync!(input, plan, out)).toThrow(type);
    expect(() => native.resizeSync!(input, plan, out)).toThrow(message);
    await expect(native.resize!(input, plan, out)).rejects.toThrow(message);
  });
});
