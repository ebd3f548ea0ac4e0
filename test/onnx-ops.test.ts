/**
 * Operator forms the PyTorch fixtures do not exercise (older and newer opset forms, less common
 * attributes), each as a tiny model built in memory and checked against onnxruntime-node.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { BackendName } from '../lib/backends/backend.js';
import { backendByName } from '../lib/backends/index.js';
import { loadOnnx } from '../lib/onnx/index.js';
import { Tensor } from '../lib/tensor.js';
import { encodeModel, floatTensor, intTensor, node, type ModelSpec } from './onnx-model-builder.js';

const BACKENDS: BackendName[] = ['js'];
try {
  backendByName('native');
  BACKENDS.push('native');
} catch (error) {
  console.log(`onnx op-form tests: skipping the native backend (${(error as Error).message})`);
}

function values(count: number, seed: number): Float32Array {
  let state = seed;
  return Float32Array.from({ length: count }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state / 2 ** 32) * 6 - 3;
  });
}

async function expectMatchesOnnxruntime(spec: ModelSpec, feeds: Record<string, { shape: number[]; data?: Float32Array }>) {
  const bytes = encodeModel(spec);
  const session = await ort.InferenceSession.create(bytes);
  const ortFeeds: Record<string, ort.Tensor> = {};
  const ourFeeds: Record<string, Tensor> = {};
  Object.entries(feeds).forEach(([name, { shape, data }], i) => {
    const filled = data ?? values(shape.reduce((a, b) => a * b, 1), 7 + i);
    ortFeeds[name] = new ort.Tensor('float32', filled.slice(), shape);
    ourFeeds[name] = new Tensor(shape, filled);
  });
  const reference = await session.run(ortFeeds);
  for (const backend of BACKENDS) {
    const model = await loadOnnx(bytes, { backend });
    const ours = model.runSync(ourFeeds);
    for (const name of session.outputNames) {
      expect(ours[name].shape, `${backend}: ${name} shape`).toEqual(reference[name].dims);
      const expected = reference[name].data as Float32Array;
      const actual = ours[name].data;
      for (let i = 0; i < expected.length; i++) {
        expect(Math.abs(actual[i] - expected[i]), `${backend}: ${name}[${i}]`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(expected[i])));
      }
    }
  }
}

describe('ONNX operator forms vs onnxruntime-node', () => {
  it('Softmax before opset 13 normalises over everything from axis on', async () => {
    await expectMatchesOnnxruntime(
      {
        opset: 11,
        nodes: [node('Softmax', ['x'], ['y'], { axis: { i: 1 } })],
        inputs: [{ name: 'x', shape: ['n', 3, 4] }],
        outputs: [{ name: 'y' }],
      },
      { x: { shape: [2, 3, 4] } },
    );
  });

  it('Softmax at opset 13 normalises along one axis', async () => {
    await expectMatchesOnnxruntime(
      { opset: 13, nodes: [node('Softmax', ['x'], ['y'], { axis: { i: 1 } })], inputs: [{ name: 'x', shape: [2, 3, 4] }], outputs: [{ name: 'y' }] },
      { x: { shape: [2, 3, 4] } },
    );
  });

  it('Squeeze/Unsqueeze with axes as inputs (opset 13), Concat on a spatial axis, Transpose, Identity', async () => {
    await expectMatchesOnnxruntime(
      {
        opset: 13,
        initializers: [intTensor('axes0', [1], [0]), intTensor('axes2', [1], [2])],
        nodes: [
          node('Unsqueeze', ['x', 'axes0'], ['u']),
          node('Squeeze', ['u', 'axes0'], ['s']),
          node('Concat', ['s', 'x'], ['c'], { axis: { i: 2 } }),
          node('Transpose', ['c'], ['t'], { perm: { ints: [0, 3, 1, 2] } }),
          node('Identity', ['t'], ['y']),
        ],
        inputs: [{ name: 'x', shape: [2, 3, 4, 5] }],
        outputs: [{ name: 'y' }],
      },
      { x: { shape: [2, 3, 4, 5] } },
    );
  });

  it('Slice with attributes (opset 9) and with negative steps (opset 13)', async () => {
    await expectMatchesOnnxruntime(
      {
        opset: 9,
        nodes: [node('Slice', ['x'], ['y'], { starts: { ints: [1, 0] }, ends: { ints: [3, -1] }, axes: { ints: [1, 3] } })],
        inputs: [{ name: 'x', shape: [2, 4, 3, 5] }],
        outputs: [{ name: 'y' }],
      },
      { x: { shape: [2, 4, 3, 5] } },
    );
    await expectMatchesOnnxruntime(
      {
        opset: 13,
        initializers: [intTensor('starts', [1], [-1]), intTensor('ends', [1], [-100]), intTensor('axes', [1], [3]), intTensor('steps', [1], [-2])],
        nodes: [node('Slice', ['x', 'starts', 'ends', 'axes', 'steps'], ['y'])],
        inputs: [{ name: 'x', shape: [1, 2, 3, 5] }],
        outputs: [{ name: 'y' }],
      },
      { x: { shape: [1, 2, 3, 5] } },
    );
  });

  it('Clip with min/max inputs that are not ReLU6, HardSigmoid with its own alpha/beta, GlobalMaxPool, Dropout', async () => {
    await expectMatchesOnnxruntime(
      {
        opset: 13,
        initializers: [floatTensor('lo', [], [-0.5]), floatTensor('hi', [], [1.25])],
        nodes: [
          node('Clip', ['x', 'lo', 'hi'], ['c']),
          node('HardSigmoid', ['x'], ['h'], { alpha: { f: 0.3 }, beta: { f: 0.4 } }),
          node('Mul', ['c', 'h'], ['m']),
          node('Dropout', ['m'], ['d']),
          node('GlobalMaxPool', ['d'], ['y']),
        ],
        inputs: [{ name: 'x', shape: ['n', 3, 5, 5] }],
        outputs: [{ name: 'y' }],
      },
      { x: { shape: [2, 3, 5, 5] } },
    );
  });

  it('Conv with group, dilation and asymmetric pads; AveragePool with count_include_pad and ceil_mode', async () => {
    const w = values(6 * 2 * 3 * 3, 3);
    await expectMatchesOnnxruntime(
      {
        opset: 13,
        initializers: [floatTensor('w', [6, 2, 3, 3], w)],
        nodes: [
          node('Conv', ['x', 'w'], ['c'], { group: { i: 2 }, dilations: { ints: [2, 1] }, pads: { ints: [0, 2, 1, 1] }, strides: { ints: [1, 2] } }),
          node('AveragePool', ['c'], ['y'], { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] }, count_include_pad: { i: 1 }, ceil_mode: { i: 1 } }),
        ],
        inputs: [{ name: 'x', shape: ['n', 4, 9, 8] }],
        outputs: [{ name: 'y' }],
      },
      { x: { shape: [3, 4, 9, 8] } },
    );
  });

  it('MatMul of two runtime tensors with broadcast batch dims, Gemm with a full C matrix, Div and Sub broadcasting', async () => {
    await expectMatchesOnnxruntime(
      {
        opset: 13,
        initializers: [floatTensor('cmat', [2, 4], values(8, 9)), floatTensor('gb', [3, 4], values(12, 10)), floatTensor('two', [1], [2])],
        nodes: [
          node('MatMul', ['a', 'b'], ['ab']),
          node('Div', ['ab', 'two'], ['half']),
          node('Sub', ['two', 'half'], ['y']),
          node('Gemm', ['g', 'gb', 'cmat'], ['z'], { alpha: { f: 0.5 }, beta: { f: -1 } }),
        ],
        inputs: [
          { name: 'a', shape: [2, 1, 3, 4] },
          { name: 'b', shape: [3, 4, 2] },
          { name: 'g', shape: [2, 3] },
        ],
        outputs: [{ name: 'y' }, { name: 'z' }],
      },
      { a: { shape: [2, 1, 3, 4] }, b: { shape: [3, 4, 2] }, g: { shape: [2, 3] } },
    );
  });

  it('a conv whose fused residual broadcasts (N x C x 1 x 1) falls back to a separate add, then the activation', async () => {
    const spec: ModelSpec = {
      opset: 13,
      initializers: [floatTensor('w', [4, 4, 3, 3], values(144, 5)), floatTensor('b', [4], values(4, 6))],
      nodes: [
        node('GlobalAveragePool', ['x'], ['g']),
        node('Conv', ['x', 'w', 'b'], ['c'], { pads: { ints: [1, 1, 1, 1] } }),
        node('Add', ['g', 'c'], ['s']),
        node('Relu', ['s'], ['y']),
      ],
      inputs: [{ name: 'x', shape: ['n', 4, 6, 6] }],
      outputs: [{ name: 'y' }],
    };
    const model = await loadOnnx(encodeModel(spec), { backend: 'js' });
    expect(model.summaryRows([1, 4, 6, 6]).map((r) => r.type)).toEqual(['GlobalAveragePool', 'Conv+Add+Relu']);
    await expectMatchesOnnxruntime(spec, { x: { shape: [2, 4, 6, 6] } });
  });

  it('a fused residual Add that broadcasts the conv output up to a larger shape', async () => {
    const spec: ModelSpec = {
      opset: 13,
      initializers: [floatTensor('w', [3, 2, 1, 1], values(6, 12))],
      nodes: [
        node('GlobalAveragePool', ['x'], ['g']),
        node('Conv', ['g', 'w'], ['c']),
        node('Add', ['c', 'map'], ['s']),
        node('Relu', ['s'], ['y']),
      ],
      inputs: [{ name: 'x', shape: ['n', 2, 5, 5] }, { name: 'map', shape: ['n', 3, 4, 4] }],
      outputs: [{ name: 'y' }],
    };
    const model = await loadOnnx(encodeModel(spec), { backend: 'js' });
    expect(model.summaryRows({ x: [1, 2, 5, 5], map: [1, 3, 4, 4] }).map((r) => r.type)).toEqual(['GlobalAveragePool', 'Conv+Add+Relu']);
    await expectMatchesOnnxruntime(spec, { x: { shape: [2, 2, 5, 5] }, map: { shape: [2, 3, 4, 4] } });
  });

  it('a zero Pad in front of a conv is folded into the conv padding', async () => {
    const spec: ModelSpec = {
      opset: 13,
      initializers: [floatTensor('w', [3, 2, 3, 3], values(54, 8)), intTensor('pads', [8], [0, 0, 2, 0, 0, 0, 1, 3])],
      nodes: [node('Pad', ['x', 'pads'], ['p']), node('Conv', ['p', 'w'], ['c'], { pads: { ints: [1, 1, 0, 0] }, strides: { ints: [2, 2] } }), node('Relu', ['c'], ['y'])],
      inputs: [{ name: 'x', shape: ['n', 2, 7, 6] }],
      outputs: [{ name: 'y' }],
    };
    const model = await loadOnnx(encodeModel(spec), { backend: 'js' });
    expect(model.summaryRows([1, 2, 7, 6]).map((r) => r.type)).toEqual(['Pad+Conv+Relu']);
    await expectMatchesOnnxruntime(spec, { x: { shape: [2, 2, 7, 6] } });
  });

  it('Pad in reflect mode, edge mode with attributes (opset 9), and negative pads that crop', async () => {
    await expectMatchesOnnxruntime(
      {
        opset: 13,
        initializers: [intTensor('pads', [8], [0, 0, 2, 1, 0, 0, 1, 3])],
        nodes: [node('Pad', ['x', 'pads'], ['y'], { mode: { s: 'reflect' } })],
        inputs: [{ name: 'x', shape: ['n', 2, 4, 5] }],
        outputs: [{ name: 'y' }],
      },
      { x: { shape: [2, 2, 4, 5] } },
    );
    await expectMatchesOnnxruntime(
      {
        opset: 9,
        nodes: [node('Pad', ['x'], ['y'], { mode: { s: 'edge' }, pads: { ints: [0, 1, 2, -1, 0, 0, 1, 2] } })],
        inputs: [{ name: 'x', shape: [1, 2, 4, 5] }],
        outputs: [{ name: 'y' }],
      },
      { x: { shape: [1, 2, 4, 5] } },
    );
    await expectMatchesOnnxruntime(
      {
        opset: 13,
        initializers: [intTensor('pads', [8], [0, 0, 1, -2, 0, 0, -1, 1]), floatTensor('v', [], [0.75])],
        nodes: [node('Pad', ['x', 'pads', 'v'], ['y'])],
        inputs: [{ name: 'x', shape: [1, 2, 4, 5] }],
        outputs: [{ name: 'y' }],
      },
      { x: { shape: [1, 2, 4, 5] } },
    );
  });

  it('Shape with start (opset 15), Cast, Concat and Reshape evaluated as a shape chain', async () => {
    await expectMatchesOnnxruntime(
      {
        opset: 15,
        initializers: [intTensor('minus1', [1], [-1])],
        nodes: [
          node('Shape', ['x'], ['s'], { start: { i: 2 } }),
          node('Cast', ['s'], ['sf'], { to: { i: 1 } }),
          node('Cast', ['sf'], ['si'], { to: { i: 7 } }),
          node('Concat', ['minus1', 'si'], ['target'], { axis: { i: 0 } }),
          node('Reshape', ['x', 'target'], ['r']),
          node('Sigmoid', ['r'], ['y']),
        ],
        inputs: [{ name: 'x', shape: ['n', 3, 4, 5] }],
        outputs: [{ name: 'y' }],
      },
      { x: { shape: [2, 3, 4, 5] } },
    );
  });

  it('a graph output that is a view of another output is its own copy', async () => {
    await expectMatchesOnnxruntime(
      {
        opset: 13,
        initializers: [intTensor('shape', [2], [0, -1])],
        nodes: [node('Relu', ['x'], ['r']), node('Reshape', ['r', 'shape'], ['flat'])],
        inputs: [{ name: 'x', shape: ['n', 2, 3, 3] }],
        outputs: [{ name: 'r' }, { name: 'flat' }],
      },
      { x: { shape: [2, 2, 3, 3] } },
    );
  });
});
