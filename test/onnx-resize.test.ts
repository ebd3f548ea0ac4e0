/**
 * Resize (opset 10-19) and Upsample (7-9), every mode convnode accepts, against onnxruntime-node
 * on models built in memory, at batch 1 and 3; and each refused form with its error.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { loadOnnx, OnnxError } from '../lib/onnx/index.js';
import { Tensor } from '../lib/tensor.js';
import { availableBackends } from './helpers/backends.js';
import { expectMatchesOnnxruntimeOn } from './helpers/ort-compare.js';
import { randomInput, worstRelativeError } from './helpers/numeric.js';
import { encodeModel, floatTensor, intTensor, node, type Attr } from './onnx-model-builder.js';

interface Form {
  readonly name: string;
  readonly opset: number;
  readonly attrs: Record<string, Attr>;
  readonly scales?: number[];
  readonly sizes?: number[];
  readonly op?: 'Resize' | 'Upsample';
}

const IN_H = 5;
const IN_W = 7;

function modelOf(form: Form): Uint8Array {
  const op = form.op ?? 'Resize';
  const initializers = [];
  let inputs: string[];
  if (op === 'Upsample' && form.opset < 9) {
    inputs = ['x'];
  } else if (op === 'Upsample' || form.opset < 11) {
    inputs = ['x', 'scales'];
    initializers.push(floatTensor('scales', [4], form.scales!));
  } else if (form.sizes) {
    inputs = ['x', '', '', 'sizes'];
    initializers.push(intTensor('sizes', [4], form.sizes));
  } else {
    inputs = ['x', '', 'scales'];
    initializers.push(floatTensor('scales', [4], form.scales!));
  }
  if (form.opset === 11 && inputs[1] === '') {
    // Opset 11 requires roi and scales inputs to be present (empty tensors allowed).
    initializers.push(floatTensor('roi', [0], []));
    inputs[1] = 'roi';
    if (inputs[2] === '') {
      initializers.push(floatTensor('noscales', [0], []));
      inputs[2] = 'noscales';
    }
  }
  return encodeModel({
    opset: form.opset,
    nodes: [node(op, inputs, ['y'], form.attrs)],
    initializers,
    inputs: [{ name: 'x', shape: ['N', 2, IN_H, IN_W] }],
    outputs: [{ name: 'y' }],
  });
}

const s = (v: string): Attr => ({ s: v });
const FORMS: Form[] = [
  { name: 'Upsample-7 nearest 2x', op: 'Upsample', opset: 7, attrs: { mode: s('nearest'), scales: { floats: [1, 1, 2, 2] } } },
  { name: 'Upsample-9 linear 2x3', op: 'Upsample', opset: 9, attrs: { mode: s('linear') }, scales: [1, 1, 2, 3] },
  { name: 'Resize-10 nearest 2x', opset: 10, attrs: { mode: s('nearest') }, scales: [1, 1, 2, 2] },
  { name: 'Resize-10 nearest 0.6 (down)', opset: 10, attrs: { mode: s('nearest') }, scales: [1, 1, 0.6, 0.6] },
  { name: 'Resize-10 linear 1.5x', opset: 10, attrs: { mode: s('linear') }, scales: [1, 1, 1.5, 1.5] },
  ...['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric'].flatMap((mode): Form[] => [
    { name: `Resize-13 linear ${mode} 2x`, opset: 13, attrs: { mode: s('linear'), coordinate_transformation_mode: s(mode) }, scales: [1, 1, 2, 2] },
    { name: `Resize-13 linear ${mode} sizes 3x11`, opset: 13, attrs: { mode: s('linear'), coordinate_transformation_mode: s(mode) }, sizes: [1, 2, 3, 11] },
  ]),
  ...['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'].flatMap((nearest): Form[] => [
    { name: `Resize-13 nearest ${nearest} asymmetric 2x`, opset: 13, attrs: { mode: s('nearest'), coordinate_transformation_mode: s('asymmetric'), nearest_mode: s(nearest) }, scales: [1, 1, 2, 2] },
    { name: `Resize-13 nearest ${nearest} half_pixel 1.7x`, opset: 13, attrs: { mode: s('nearest'), nearest_mode: s(nearest) }, scales: [1, 1, 1.7, 1.3] },
  ]),
  { name: 'Resize-13 nearest tf_half_pixel_for_nn 0.5x', opset: 13, attrs: { mode: s('nearest'), coordinate_transformation_mode: s('tf_half_pixel_for_nn') }, scales: [1, 1, 0.5, 0.5] },
  { name: 'Resize-11 linear align_corners sizes', opset: 11, attrs: { mode: s('linear'), coordinate_transformation_mode: s('align_corners') }, sizes: [1, 2, 9, 4] },
  { name: 'Resize-19 linear half_pixel_symmetric 1.5x', opset: 19, attrs: { mode: s('linear'), coordinate_transformation_mode: s('half_pixel_symmetric') }, scales: [1, 1, 1.5, 2.5] },
  { name: 'Resize-18 nearest sizes', opset: 18, attrs: { mode: s('nearest') }, sizes: [1, 2, 10, 3] },
];

describe.each(availableBackends())('Resize / Upsample vs onnxruntime-node (%s)', (backend) => {
  it.each(FORMS)('$name', async (form) => {
    // sizes fix N: the sizes forms run at batch 1 only.
    const batches = form.sizes ? [1] : [1, 3];
    await expectMatchesOnnxruntimeOn(modelOf(form), backend, batches.map((n) => [n, 2, IN_H, IN_W]), 1e-5);
  });
});

describe('Resize forms convnode refuses, by name', () => {
  const refused: Array<[string, Form, RegExp]> = [
    ['cubic', { name: '', opset: 13, attrs: { mode: s('cubic') }, scales: [1, 1, 2, 2] }, /mode 'cubic' is not supported/],
    ['tf_crop_and_resize', { name: '', opset: 13, attrs: { mode: s('linear'), coordinate_transformation_mode: s('tf_crop_and_resize') }, scales: [1, 1, 2, 2] }, /'tf_crop_and_resize' is not supported/],
    ['a channel scale', { name: '', opset: 13, attrs: { mode: s('nearest') }, scales: [1, 2, 2, 2] }, /only H and W may be resized/],
    ['antialias', { name: '', opset: 18, attrs: { mode: s('linear'), antialias: { i: 1 } }, scales: [1, 1, 0.5, 0.5] }, /antialias is not supported/],
    ['half_pixel_symmetric before 19', { name: '', opset: 18, attrs: { mode: s('linear'), coordinate_transformation_mode: s('half_pixel_symmetric') }, scales: [1, 1, 2, 2] }, /'half_pixel_symmetric' is not one of .* at opset 18/],
  ];
  it.each(refused)('%s', async (_, form, message) => {
    const error = await loadOnnx(modelOf(form), { backend: 'js' })
      .then((m) => m.run({ x: new Tensor([1, 2, IN_H, IN_W], new Float32Array(70)) }))
      .then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(OnnxError);
    expect((error as Error).message).toMatch(message);
  });
});
