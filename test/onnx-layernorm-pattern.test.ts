/**
 * The hand-written LayerNorm (ReduceMean, Sub, Pow 2, ReduceMean, Add eps, Sqrt, Div, Mul, Add)
 * is fused into one LayerNormalization (lib/onnx/fusion-layernorm.ts): the fused model matches
 * the unfused one and onnxruntime-node at batch 1 and 3 on both backends, the summary shows one
 * row, and forms that must not fuse (an intermediate read elsewhere, positive axes) stay apart.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { loadOnnx } from '../lib/onnx/index.js';
import { Tensor } from '../lib/tensor.js';
import { availableBackends } from './helpers/backends.js';
import { randomInput, worstRelativeError } from './helpers/numeric.js';
import { encodeModel, floatTensor, intTensor, node, type NodeSpec, type TensorSpec } from './onnx-model-builder.js';

interface PatternForm {
  readonly name: string;
  readonly opset: number;
  readonly axes: number[];
  /** Shape of x for batch n. */
  readonly shape: (n: number) => number[];
  readonly beta?: boolean;
  /** Also declare this intermediate as a graph output (fusion must then leave the pattern). */
  readonly exposeCentered?: boolean;
  readonly fuses: boolean;
}

function patternModel(form: PatternForm): Uint8Array {
  const normalised = form.shape(1).slice(-form.axes.length);
  const count = normalised.reduce((a, b) => a * b, 1);
  const axesInput = form.opset >= 18;
  const reduce = (input: string, output: string): NodeSpec =>
    axesInput ? node('ReduceMean', [input, 'axes'], [output]) : node('ReduceMean', [input], [output], { axes: { ints: form.axes } });
  const initializers: TensorSpec[] = [
    floatTensor('two', [], [2]),
    floatTensor('eps', [], [1e-5]),
    floatTensor('gamma', normalised, randomInput([count], 4).map((v) => 1 + v / 4)),
    floatTensor('beta', normalised, randomInput([count], 5)),
  ];
  if (axesInput) initializers.push(intTensor('axes', [form.axes.length], form.axes));
  const nodes = [
    reduce('x', 'mean'),
    node('Sub', ['x', 'mean'], ['centered']),
    node('Pow', ['centered', 'two'], ['squared']),
    reduce('squared', 'variance'),
    node('Add', ['variance', 'eps'], ['shifted']),
    node('Sqrt', ['shifted'], ['deviation']),
    node('Div', ['centered', 'deviation'], ['normalised']),
    node('Mul', ['normalised', 'gamma'], form.beta === false ? ['y'] : ['scaled']),
    ...(form.beta === false ? [] : [node('Add', ['scaled', 'beta'], ['y'])]),
  ];
  return encodeModel({
    opset: form.opset,
    nodes,
    initializers,
    inputs: [{ name: 'x', shape: null }],
    outputs: [{ name: 'y' }, ...(form.exposeCentered ? [{ name: 'centered' }] : [])],
  });
}

const FORMS: PatternForm[] = [
  { name: 'last axis, opset 13 (axes attribute)', opset: 13, axes: [-1], shape: (n) => [n, 6, 8], fuses: true },
  { name: 'last two axes, opset 18 (axes input)', opset: 18, axes: [-2, -1], shape: (n) => [n, 3, 4, 5], fuses: true },
  { name: 'no beta (Mul is the last node)', opset: 13, axes: [-1], shape: (n) => [n, 4, 4, 8], beta: false, fuses: true },
  { name: 'centered value also a graph output', opset: 13, axes: [-1], shape: (n) => [n, 6, 8], exposeCentered: true, fuses: false },
  { name: 'positive axes (rank unknown when fusing)', opset: 13, axes: [2], shape: (n) => [n, 6, 8], fuses: false },
];

describe.each(availableBackends())('hand-written LayerNorm fused into LayerNormalization (%s)', (backend) => {
  it.each(FORMS)('$name', async (form) => {
    const bytes = patternModel(form);
    const session = await ort.InferenceSession.create(bytes);
    const fused = await loadOnnx(bytes, { backend });
    const unfused = await loadOnnx(bytes, { backend, fuse: false });
    const types = fused.summaryRows(form.shape(1)).map((r) => r.type);
    expect(types.includes('LayerNormalization'), types.join(', ')).toBe(form.fuses);
    if (form.fuses) expect(types).toEqual(['LayerNormalization']);
    expect(unfused.summaryRows(form.shape(1)).map((r) => r.type)).not.toContain('LayerNormalization');
    for (const n of [1, 3]) {
      const shape = form.shape(n);
      // An offset mean and a wide spread, so a wrong mean or variance shows.
      const data = randomInput(shape, 9 + n).map((v) => 3 + 5 * v);
      const want = (await session.run({ x: new ort.Tensor('float32', data.slice(), shape) })).y.data as Float32Array;
      const got = (await fused.run({ x: new Tensor(shape, data) })).y;
      const plain = (await unfused.run({ x: new Tensor(shape, data) })).y;
      expect(got.shape).toEqual(shape);
      expect(worstRelativeError(got.data, want), `fused vs onnxruntime, batch ${n}`).toBeLessThanOrEqual(1e-5);
      expect(worstRelativeError(got.data, plain.data), `fused vs unfused, batch ${n}`).toBeLessThanOrEqual(1e-5);
    }
  });
});
