/**
 * Atrous convs whose outer taps read only padding (DeepLabV3's ASPP at a small input) run with
 * those taps cut (lib/onnx/ops/conv-dead-taps.ts). The cut itself, worked by hand; then in-memory
 * convs at rates that kill every outer tap, some of them, one side only, or none, with strides,
 * asymmetric padding and a second input size on the same model, against onnxruntime-node on
 * both backends. Outer taps that are live on a band of the output only run as one 1x1 conv per
 * tap over its band (lib/onnx/ops/conv-tap-regions.ts): the bands by hand, the same models, and
 * ASPP-sized ones with a fused ReLU.
 */
import { describe, expect, it } from 'vitest';
import { planConv } from '../lib/planner/geometry.js';
import { cropDeadTaps } from '../lib/onnx/ops/conv-dead-taps.js';
import { planTapRegions } from '../lib/onnx/ops/conv-tap-regions.js';
import type { Backend } from '../lib/backends/backend.js';
import { jsBackend } from '../lib/backends/js.js';
import { loadOnnx } from '../lib/onnx/index.js';
import { Tensor } from '../lib/tensor.js';
import { availableBackends } from './helpers/backends.js';
import { expectMatchesOnnxruntimeOn } from './helpers/ort-compare.js';
import { randomInput } from './helpers/numeric.js';
import { encodeModel, floatTensor, node } from './onnx-model-builder.js';

const spec = (dilation: number, padding: [number, number, number, number], stride = 1) => ({
  kernel: [3, 3] as [number, number], stride: [stride, stride] as [number, number], dilation: [dilation, dilation] as [number, number],
  padding, inChannels: 2, outChannels: 2, groups: 1,
});

describe('the cut, by hand', () => {
  it('rate 24 on 14 x 14 with padding 24: only the centre tap reads the input, a 1x1 conv unpadded', () => {
    const crop = cropDeadTaps(planConv('t', [1, 2, 14, 14], spec(24, [24, 24, 24, 24])));
    expect(crop && [crop.top, crop.bottom, crop.left, crop.right]).toEqual([1, 1, 1, 1]);
    expect(crop!.geometry).toMatchObject({ kernelH: 1, kernelW: 1, pads: { top: 0, left: 0, bottom: 0, right: 0 }, outH: 14, outW: 14 });
  });
  it('rate 12 on 14 x 14: every tap still reads some pixel (12 < 14), nothing is cut', () => {
    expect(cropDeadTaps(planConv('t', [1, 2, 14, 14], spec(12, [12, 12, 12, 12])))).toBeNull();
  });
  it('an undilated 3x3 conv on 20 x 20 keeps every tap', () => {
    expect(cropDeadTaps(planConv('t', [1, 2, 20, 20], spec(1, [1, 1, 1, 1])))).toBeNull();
  });
});

describe('the per-tap bands, by hand', () => {
  it("rate 12 on 14 x 14 (DeepLabV3's ASPP at 224 x 224): the centre covers all, each outer tap 2 rows or columns", () => {
    const regions = planTapRegions(planConv('t', [1, 2, 14, 14], spec(12, [12, 12, 12, 12])))!;
    expect(regions.whole).toMatchObject({ ty: 1, tx: 1, y0: 0, y1: 14, x0: 0, x1: 14, dy: 0, dx: 0 });
    // Tap row 0 reads input row y - 12: live for y in [12, 14); tap row 2 reads y + 12: y in [0, 2).
    const band = (ty: number, tx: number) => regions.partial.find((r) => r.ty === ty && r.tx === tx);
    expect(band(0, 1)).toMatchObject({ y0: 12, y1: 14, x0: 0, x1: 14, dy: -12, dx: 0 });
    expect(band(2, 0)).toMatchObject({ y0: 0, y1: 2, x0: 12, x1: 14, dy: 12, dx: -12 });
    expect(regions.partial).toHaveLength(8);
    // (196 + 4 x 28 + 4 x 4) live of 9 x 196.
    expect(regions.liveFraction).toBeCloseTo(324 / 1764, 12);
  });
  it('an undilated 3x3 conv is nearly all live; a stride or an output of another size has no bands', () => {
    expect(planTapRegions(planConv('t', [1, 2, 20, 20], spec(1, [1, 1, 1, 1])))!.liveFraction).toBeCloseTo((20 * 20 + 4 * 19 * 20 + 4 * 19 * 19) / (9 * 400), 12);
    expect(planTapRegions(planConv('t', [1, 2, 20, 20], spec(2, [2, 2, 2, 2], 2)))).toBeNull();
    expect(planTapRegions(planConv('t', [1, 2, 20, 20], spec(2, [0, 0, 0, 0])))).toBeNull();
  });
});

function atrousModel(dilation: number, pads: number[], stride = 1, c = 3, out = 4, relu = false): Uint8Array {
  return encodeModel({
    opset: 13,
    nodes: [
      node('Conv', ['x', 'w', 'b'], [relu ? 'z' : 'y'], { dilations: { ints: [dilation, dilation] }, pads: { ints: pads }, strides: { ints: [stride, stride] }, kernel_shape: { ints: [3, 3] } }),
      ...(relu ? [node('Relu', ['z'], ['y'])] : []),
    ],
    initializers: [floatTensor('w', [out, c, 3, 3], randomInput([out * c * 9], 3)), floatTensor('b', [out], randomInput([out], 4))],
    inputs: [{ name: 'x', shape: null }],
    outputs: [{ name: 'y' }],
  });
}

const CASES: { name: string; dilation: number; pads: number[]; stride?: number; shapes: number[][]; channels?: [number, number]; relu?: boolean }[] = [
  { name: 'ASPP rate 12 on 14 x 14 with ReLU: per-tap bands', dilation: 12, pads: [12, 12, 12, 12], shapes: [[1, 40, 14, 14], [3, 40, 14, 14]], channels: [40, 24], relu: true },
  { name: 'rate 8 on 14 x 14 (bands), then on 40 x 40 (every tap mostly live: the full conv)', dilation: 8, pads: [8, 8, 8, 8], shapes: [[1, 5, 14, 14], [1, 5, 40, 40], [2, 5, 14, 14]], channels: [5, 6], relu: true },
  { name: 'rate 36 on 14 x 14: only the centre is live', dilation: 36, pads: [36, 36, 36, 36], shapes: [[1, 3, 14, 14], [2, 3, 14, 14]] },
  { name: 'rate 6 on 5 x 9: rows cut, columns kept', dilation: 6, pads: [6, 6, 6, 6], shapes: [[1, 3, 5, 9]] },
  { name: 'asymmetric padding: only the padded sides lose taps', dilation: 5, pads: [10, 0, 0, 10], shapes: [[1, 3, 4, 4]] },
  { name: 'stride 2', dilation: 8, pads: [8, 8, 8, 8], stride: 2, shapes: [[1, 3, 7, 7]] },
  { name: 'the same model at a larger size keeps every tap', dilation: 4, pads: [4, 4, 4, 4], shapes: [[1, 3, 3, 3], [1, 3, 12, 12], [1, 3, 3, 3]] },
];

describe.each(availableBackends())('atrous convs with dead taps vs onnxruntime (%s)', (backend) => {
  it.each(CASES)('$name', async ({ dilation, pads, stride, shapes, channels, relu }) => {
    await expectMatchesOnnxruntimeOn(atrousModel(dilation, pads, stride, channels?.[0], channels?.[1], relu), backend, shapes, 1e-4);
  });
});

describe('which form runs', () => {
  it('ASPP rate 12 at 14 x 14 prepares one 1x1 conv per live tap (9), the full 3x3 conv only at 40 x 40', async () => {
    const prepared: number[] = [];
    const spy: Backend = { ...jsBackend, prepareConv2d: (w) => { prepared.push(w.kernelH); return jsBackend.prepareConv2d(w); } };
    const model = await loadOnnx(atrousModel(12, [12, 12, 12, 12], 1, 4, 2, true), { backend: spy });
    await model.run({ x: new Tensor([1, 4, 14, 14], randomInput([1, 4, 14, 14], 1)) });
    expect(prepared).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1]);
    await model.run({ x: new Tensor([1, 4, 40, 40], randomInput([1, 4, 40, 40], 1)) });
    expect(prepared.slice(9)).toEqual([3]);
  });
});
