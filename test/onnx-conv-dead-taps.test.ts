/**
 * Atrous convs whose outer taps read only padding (DeepLabV3's ASPP at a small input) run with
 * those taps cut (lib/onnx/ops/conv-dead-taps.ts). The cut itself, worked by hand; then in-memory
 * convs at rates that kill every outer tap, some of them, one side only, or none, with strides,
 * asymmetric padding and a second input size on the same model, against onnxruntime-node on
 * both backends.
 */
import { describe, expect, it } from 'vitest';
import { planConv } from '../lib/planner/geometry.js';
import { cropDeadTaps } from '../lib/onnx/ops/conv-dead-taps.js';
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

function atrousModel(dilation: number, pads: number[], stride = 1): Uint8Array {
  const c = 3;
  return encodeModel({
    opset: 13,
    nodes: [node('Conv', ['x', 'w', 'b'], ['y'], { dilations: { ints: [dilation, dilation] }, pads: { ints: pads }, strides: { ints: [stride, stride] }, kernel_shape: { ints: [3, 3] } })],
    initializers: [floatTensor('w', [4, c, 3, 3], randomInput([4 * c * 9], 3)), floatTensor('b', [4], randomInput([4], 4))],
    inputs: [{ name: 'x', shape: null }],
    outputs: [{ name: 'y' }],
  });
}

const CASES: { name: string; dilation: number; pads: number[]; stride?: number; shapes: number[][] }[] = [
  { name: 'rate 36 on 14 x 14: only the centre is live', dilation: 36, pads: [36, 36, 36, 36], shapes: [[1, 3, 14, 14], [2, 3, 14, 14]] },
  { name: 'rate 6 on 5 x 9: rows cut, columns kept', dilation: 6, pads: [6, 6, 6, 6], shapes: [[1, 3, 5, 9]] },
  { name: 'asymmetric padding: only the padded sides lose taps', dilation: 5, pads: [10, 0, 0, 10], shapes: [[1, 3, 4, 4]] },
  { name: 'stride 2', dilation: 8, pads: [8, 8, 8, 8], stride: 2, shapes: [[1, 3, 7, 7]] },
  { name: 'the same model at a larger size keeps every tap', dilation: 4, pads: [4, 4, 4, 4], shapes: [[1, 3, 3, 3], [1, 3, 12, 12], [1, 3, 3, 3]] },
];

describe.each(availableBackends())('atrous convs with dead taps vs onnxruntime (%s)', (backend) => {
  it.each(CASES)('$name', async ({ dilation, pads, stride, shapes }) => {
    await expectMatchesOnnxruntimeOn(atrousModel(dilation, pads, stride), backend, shapes, 1e-4);
  });
});
