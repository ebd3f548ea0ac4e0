/**
 * The element-wise ONNX ops on both backends against onnxruntime-node: every standalone
 * activation op, the broadcast binary ops in the forms CNNs use (a squeeze-and-excitation gate,
 * a per-channel bias, a scalar), PRelu with per-channel and shared slopes, and a standalone
 * BatchNormalization (one channelAffine pass on the backend).
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { BackendName } from '../lib/backends/backend.js';
import { backendByName } from '../lib/backends/index.js';
import { loadOnnx } from '../lib/onnx/index.js';
import { Tensor } from '../lib/tensor.js';
import { encodeModel, floatTensor, node, type Attr, type ModelSpec } from './onnx-model-builder.js';

const BACKENDS: BackendName[] = ['js'];
try {
  backendByName('native');
  BACKENDS.push('native');
} catch (error) {
  console.log(`onnx element-wise tests: skipping the native backend (${(error as Error).message})`);
}

/** Values in [-6, 6): both tails of every activation, and the knees of the piecewise ones. */
function values(count: number, seed: number): Float32Array {
  let state = seed;
  return Float32Array.from({ length: count }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state / 2 ** 32) * 12 - 6;
  });
}

async function expectMatchesOnnxruntime(spec: ModelSpec, feeds: Record<string, number[]>, label: string) {
  const bytes = encodeModel(spec);
  const session = await ort.InferenceSession.create(bytes);
  const ortFeeds: Record<string, ort.Tensor> = {};
  const ourFeeds: Record<string, Tensor> = {};
  Object.entries(feeds).forEach(([name, shape], i) => {
    const data = values(shape.reduce((a, b) => a * b, 1), 11 + i);
    ortFeeds[name] = new ort.Tensor('float32', data.slice(), shape);
    ourFeeds[name] = new Tensor(shape, data);
  });
  const reference = await session.run(ortFeeds);
  for (const backend of BACKENDS) {
    const model = await loadOnnx(bytes, { backend });
    for (const run of ['sync', 'async'] as const) {
      const ours = run === 'sync' ? model.runSync(ourFeeds) : await model.run(ourFeeds);
      for (const name of session.outputNames) {
        expect(ours[name].shape, `${label} ${backend} ${run}: ${name} shape`).toEqual(reference[name].dims);
        const expected = reference[name].data as Float32Array;
        const actual = ours[name].data;
        for (let i = 0; i < expected.length; i++) {
          const ok = Math.abs(actual[i] - expected[i]) <= 1e-5 * Math.max(1, Math.abs(expected[i]));
          if (!ok) expect.fail(`${label} ${backend} ${run}: ${name}[${i}] is ${actual[i]}, onnxruntime says ${expected[i]}`);
        }
      }
    }
  }
}

const unaryCases: Array<{ op: string; opset: number; attrs?: Record<string, Attr>; extra?: ModelSpec['initializers'] }> = [
  { op: 'Relu', opset: 13 },
  { op: 'Sigmoid', opset: 13 },
  { op: 'Tanh', opset: 13 },
  { op: 'Exp', opset: 13 },
  { op: 'Softplus', opset: 13 },
  { op: 'Erf', opset: 13 },
  { op: 'LeakyRelu', opset: 13, attrs: { alpha: { f: 0.2 } } },
  { op: 'Elu', opset: 13, attrs: { alpha: { f: 0.7 } } },
  { op: 'HardSigmoid', opset: 13, attrs: { alpha: { f: 1 / 6 }, beta: { f: 0.5 } } },
  { op: 'HardSwish', opset: 14 },
  { op: 'Mish', opset: 18 },
  { op: 'Gelu', opset: 20 },
  { op: 'Gelu', opset: 20, attrs: { approximate: { s: 'tanh' } } },
];

describe('ONNX element-wise ops vs onnxruntime-node', () => {
  it.each(unaryCases)('$op (opset $opset) $attrs', async ({ op, opset, attrs }) => {
    await expectMatchesOnnxruntime(
      { opset, nodes: [node(op, ['x'], ['y'], attrs ?? {})], inputs: [{ name: 'x', shape: [2, 3, 5, 7] }], outputs: [{ name: 'y' }] },
      { x: [2, 3, 5, 7] },
      op,
    );
  });

  it('Clip with constant bounds other than relu / relu6', async () => {
    await expectMatchesOnnxruntime(
      {
        opset: 13,
        initializers: [floatTensor('lo', [], [-1.5]), floatTensor('hi', [], [2.25])],
        nodes: [node('Clip', ['x', 'lo', 'hi'], ['y'])],
        inputs: [{ name: 'x', shape: [2, 4, 9] }],
        outputs: [{ name: 'y' }],
      },
      { x: [2, 4, 9] },
      'Clip',
    );
  });

  it('Mul / Add / Sub / Div under squeeze-and-excitation, per-channel and scalar broadcasting', async () => {
    await expectMatchesOnnxruntime(
      {
        opset: 13,
        initializers: [floatTensor('bias', [8, 1, 1], values(8, 3)), floatTensor('two', [], [2])],
        nodes: [
          node('Sigmoid', ['g'], ['gate']),
          node('Mul', ['x', 'gate'], ['scaled']),
          node('Add', ['scaled', 'bias'], ['biased']),
          node('Sub', ['two', 'biased'], ['flipped']),
          node('Div', ['flipped', 'two'], ['y']),
        ],
        inputs: [{ name: 'x', shape: [2, 8, 6, 6] }, { name: 'g', shape: [2, 8, 1, 1] }],
        outputs: [{ name: 'y' }],
      },
      { x: [2, 8, 6, 6], g: [2, 8, 1, 1] },
      'binary',
    );
  });

  it('PRelu with a slope per channel and with one shared slope', async () => {
    for (const slope of [values(4, 5).map((v) => v / 6), new Float32Array(4).fill(0.3)]) {
      await expectMatchesOnnxruntime(
        {
          opset: 13,
          initializers: [floatTensor('slope', [4, 1, 1], slope)],
          nodes: [node('PRelu', ['x', 'slope'], ['y'])],
          inputs: [{ name: 'x', shape: [2, 4, 3, 5] }],
          outputs: [{ name: 'y' }],
        },
        { x: [2, 4, 3, 5] },
        'PRelu',
      );
    }
  });

  it('a standalone BatchNormalization followed by Relu', async () => {
    const c = 6;
    await expectMatchesOnnxruntime(
      {
        opset: 13,
        initializers: [
          floatTensor('gamma', [c], values(c, 1)),
          floatTensor('beta', [c], values(c, 2)),
          floatTensor('mean', [c], values(c, 3)),
          floatTensor('var', [c], values(c, 4).map((v) => Math.abs(v) + 0.5)),
        ],
        nodes: [node('BatchNormalization', ['x', 'gamma', 'beta', 'mean', 'var'], ['bn']), node('Relu', ['bn'], ['y'])],
        inputs: [{ name: 'x', shape: [3, c, 7, 7] }],
        outputs: [{ name: 'y' }],
      },
      { x: [3, c, 7, 7] },
      'BatchNormalization',
    );
  });
});
