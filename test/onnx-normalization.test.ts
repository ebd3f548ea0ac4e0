/**
 * LayerNormalization, InstanceNormalization and GroupNormalization against onnxruntime-node,
 * on in-memory models at batch 1 and 3, on both backends; refused forms name their rule.
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
  readonly op: string;
  readonly opset: number;
  readonly shape: number[]; // without the batch
  readonly attrs: Record<string, Attr>;
  readonly params: number; // values per scale / bias
  readonly bias?: boolean;
  /** Scale / bias dims when not 1-D (LayerNormalization over several axes). */
  readonly paramDims?: number[];
}

const FORMS: Form[] = [
  { name: 'LayerNorm over C, channels last (ConvNeXt)', op: 'LayerNormalization', opset: 17, shape: [7, 7, 24], attrs: { epsilon: { f: 1e-6 } }, params: 24 },
  { name: 'LayerNorm over C x H x W', op: 'LayerNormalization', opset: 17, shape: [6, 4, 5], attrs: { axis: { i: 1 } }, params: 120, paramDims: [6, 4, 5] },
  { name: 'LayerNorm over tokens, no bias (ViT)', op: 'LayerNormalization', opset: 17, shape: [10, 32], attrs: { axis: { i: -1 } }, params: 32, bias: false },
  { name: 'InstanceNorm', op: 'InstanceNormalization', opset: 13, shape: [6, 5, 5], attrs: { epsilon: { f: 1e-3 } }, params: 6 },
  { name: 'GroupNorm-21, 3 groups, per-channel scale', op: 'GroupNormalization', opset: 21, shape: [6, 5, 4], attrs: { num_groups: { i: 3 } }, params: 6 },
];

function modelOf(form: Form): Uint8Array {
  const scale = Float32Array.from({ length: form.params }, (_, i) => 0.5 + ((i * 5) % 7) / 7);
  const bias = Float32Array.from({ length: form.params }, (_, i) => ((i * 3) % 5) / 5 - 0.4);
  const withBias = form.bias ?? true;
  return encodeModel({
    opset: form.opset,
    nodes: [node(form.op, withBias ? ['x', 'scale', 'bias'] : ['x', 'scale'], ['y'], form.attrs)],
    initializers: [
      floatTensor('scale', form.paramDims ?? [form.params], scale),
      ...(withBias ? [floatTensor('bias', form.paramDims ?? [form.params], bias)] : []),
    ],
    inputs: [{ name: 'x', shape: ['N', ...form.shape] }],
    outputs: [{ name: 'y' }],
  });
}

describe.each(availableBackends())('normalisations vs onnxruntime-node (%s)', (backend) => {
  it.each(FORMS)('$name', async (form) => {
    await expectMatchesOnnxruntimeOn(modelOf(form), backend, [[1, ...form.shape], [3, ...form.shape]], 1e-4);
  });
});

describe('normalisation forms refused by name', () => {
  it('a group count that does not divide the channels', async () => {
    const bytes = modelOf({ name: '', op: 'GroupNormalization', opset: 21, shape: [6, 2, 2], attrs: { num_groups: { i: 4 } }, params: 6 });
    const error = await loadOnnx(bytes, { backend: 'js' })
      .then((m) => m.run({ x: new Tensor([1, 6, 2, 2], new Float32Array(24)) }))
      .then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(OnnxError);
    expect((error as Error).message).toMatch(/num_groups 4 must be a positive divisor of the 6 channels/);
  });

  it('a scale of the wrong length', async () => {
    const bytes = modelOf({ name: '', op: 'LayerNormalization', opset: 17, shape: [3, 8], attrs: {}, params: 5 });
    const error = await loadOnnx(bytes, { backend: 'js' }).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(OnnxError);
    expect((error as Error).message).toMatch(/Scale holds 5 values, the normalised axes need 8/);
  });
});

describe('GroupNormalization-18 (one scale per group)', () => {
  it('equals opset 21 with each group scale repeated over its channels (onnxruntime runs the 21 form)', async () => {
    const groupScale = [0.7, 1.3];
    const groupBias = [0.2, -0.1];
    const perChannel = (values: number[]) => values.flatMap((v) => [v, v, v]);
    const bytesOf = (opset: number, scale: number[], bias: number[]) =>
      encodeModel({
        opset,
        nodes: [node('GroupNormalization', ['x', 'scale', 'bias'], ['y'], { num_groups: { i: 2 }, epsilon: { f: 1e-5 } })],
        initializers: [floatTensor('scale', [scale.length], scale), floatTensor('bias', [bias.length], bias)],
        inputs: [{ name: 'x', shape: ['N', 6, 3, 3] }],
        outputs: [{ name: 'y' }],
      });
    const session = await ort.InferenceSession.create(bytesOf(21, perChannel(groupScale), perChannel(groupBias)));
    const model = await loadOnnx(bytesOf(18, groupScale, groupBias), { backend: 'js' });
    const shape = [2, 6, 3, 3];
    const data = randomInput(shape, 3);
    const want = (await session.run({ x: new ort.Tensor('float32', data.slice(), shape) })).y;
    const got = (await model.run({ x: new Tensor(shape, data) })).y;
    expect(worstRelativeError(got.data, want.data as Float32Array)).toBeLessThanOrEqual(1e-4);
  });
});
