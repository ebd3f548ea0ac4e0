/**
 * ConvTranspose against onnxruntime-node on in-memory models (stride, padding, output_padding,
 * dilation, groups, auto_pad, output_shape), at batch 1 and 3 on both backends; and a
 * hand-worked 1-channel case from the definition (each input pixel scatters the kernel).
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { loadOnnx, OnnxError } from '../lib/onnx/index.js';
import { Tensor } from '../lib/tensor.js';
import { availableBackends } from './helpers/backends.js';
import { expectMatchesOnnxruntimeOn } from './helpers/ort-compare.js';
import { randomInput, worstRelativeError } from './helpers/numeric.js';
import { encodeModel, floatTensor, node, type Attr } from './onnx-model-builder.js';

interface Form {
  readonly name: string;
  readonly cin: number;
  readonly coutPerGroup: number;
  readonly k: [number, number];
  readonly attrs: Record<string, Attr>;
  readonly bias?: boolean;
  readonly groups?: number;
}

const H = 5;
const W = 6;

function modelOf(form: Form): Uint8Array {
  const groups = form.groups ?? 1;
  const wLength = form.cin * form.coutPerGroup * form.k[0] * form.k[1];
  const weight = Float32Array.from({ length: wLength }, (_, i) => Math.sin(i * 1.3) * 0.5);
  const bias = Float32Array.from({ length: form.coutPerGroup * groups }, (_, i) => 0.1 * i - 0.2);
  const withBias = form.bias ?? true;
  return encodeModel({
    opset: 13,
    nodes: [node('ConvTranspose', withBias ? ['x', 'w', 'b'] : ['x', 'w'], ['y'], { ...form.attrs, ...(groups > 1 ? { group: { i: groups } } : {}) })],
    initializers: [floatTensor('w', [form.cin, form.coutPerGroup, ...form.k], weight), ...(withBias ? [floatTensor('b', [bias.length], bias)] : [])],
    inputs: [{ name: 'x', shape: ['N', form.cin, H, W] }],
    outputs: [{ name: 'y' }],
  });
}

const FORMS: Form[] = [
  { name: 'UNet up: k2 s2', cin: 4, coutPerGroup: 3, k: [2, 2], attrs: { strides: { ints: [2, 2] } } },
  { name: 'k2 s2 without bias, wider (the tiled form)', cin: 20, coutPerGroup: 17, k: [2, 2], attrs: { strides: { ints: [2, 2] } }, bias: false },
  { name: 'k3x2 s(3,2), explicit zero pads (the tiled form)', cin: 5, coutPerGroup: 4, k: [3, 2], attrs: { strides: { ints: [3, 2] }, pads: { ints: [0, 0, 0, 0] } } },
  { name: 'k2 s2 with groups 2 (not tiled)', cin: 4, coutPerGroup: 3, k: [2, 2], attrs: { strides: { ints: [2, 2] } }, groups: 2 },
  { name: 'k4 s2 p1 (DCGAN)', cin: 3, coutPerGroup: 2, k: [4, 4], attrs: { strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] } }, bias: false },
  { name: 'k3 s2 p1 output_padding 1', cin: 2, coutPerGroup: 3, k: [3, 3], attrs: { strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] }, output_padding: { ints: [1, 1] } } },
  { name: 'k3 s1 dilation 2, asymmetric pads', cin: 3, coutPerGroup: 2, k: [3, 3], attrs: { dilations: { ints: [2, 2] }, pads: { ints: [0, 1, 2, 0] } } },
  { name: 'groups 2, k3x2 s(2,1)', cin: 4, coutPerGroup: 3, k: [3, 2], attrs: { strides: { ints: [2, 1] } }, groups: 2 },
  { name: 'depthwise transposed (groups = C)', cin: 4, coutPerGroup: 1, k: [3, 3], attrs: { strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] } }, groups: 4 },
  { name: 'output_shape 11 x 13', cin: 2, coutPerGroup: 2, k: [3, 3], attrs: { strides: { ints: [2, 2] }, output_shape: { ints: [11, 13] } } },
  { name: 'auto_pad SAME_UPPER', cin: 2, coutPerGroup: 2, k: [3, 3], attrs: { strides: { ints: [2, 2] }, auto_pad: { s: 'SAME_UPPER' } } },
];

describe.each(availableBackends())('ConvTranspose vs onnxruntime-node (%s)', (backend) => {
  it.each(FORMS)('$name', async (form) => {
    await expectMatchesOnnxruntimeOn(modelOf(form), backend, [[1, form.cin, H, W], [3, form.cin, H, W]], 1e-5);
  });
});

describe('ConvTranspose by hand', () => {
  it('a 2x2 input, 2x2 kernel of ones, stride 2: each pixel becomes a 2x2 block', async () => {
    const bytes = encodeModel({
      opset: 13,
      nodes: [node('ConvTranspose', ['x', 'w'], ['y'], { strides: { ints: [2, 2] } })],
      initializers: [floatTensor('w', [1, 1, 2, 2], [1, 1, 1, 1])],
      inputs: [{ name: 'x', shape: [1, 1, 2, 2] }],
      outputs: [{ name: 'y' }],
    });
    const model = await loadOnnx(bytes, { backend: 'js' });
    const y = (await model.run({ x: new Tensor([1, 1, 2, 2], [1, 2, 3, 4]) })).y;
    expect(y.shape).toEqual([1, 1, 4, 4]);
    expect(Array.from(y.data)).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    // Multiply-adds as the lecture counts a conv: every input value times every kernel tap.
    expect(model.summaryRows([1, 1, 2, 2]).find((r) => r.type === 'ConvTranspose')?.multiplyAdds).toBe(16);
  });

  it('refuses an output_padding not smaller than the stride, by name', async () => {
    const bytes = modelOf({ name: '', cin: 1, coutPerGroup: 1, k: [3, 3], attrs: { strides: { ints: [2, 2] }, output_padding: { ints: [2, 0] } } });
    const error = await loadOnnx(bytes, { backend: 'js' }).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(OnnxError);
    expect((error as Error).message).toMatch(/output_padding 2 must be smaller than the stride 2/);
  });
});
