/**
 * Split and ReduceMean / ReduceMax / ReduceMin / ReduceSum: the PyTorch fixtures (a reduced
 * ShuffleNetV2 and a mix of the forms torch writes) and in-memory graphs for the forms torch does
 * not write (opset 7 and 18 Split, axes as inputs, noop_with_empty_axes, reductions over the
 * batch), all against onnxruntime-node on every backend; then the errors a bad model gets.
 */
import * as ort from 'onnxruntime-node';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Backend, BackendName } from '../lib/backends/backend.js';
import { backendByName } from '../lib/backends/index.js';
import { ConvnodeError } from '../lib/errors.js';
import { loadOnnx, loadOnnxSync, OnnxError } from '../lib/onnx/index.js';
import { Tensor } from '../lib/tensor.js';
import { encodeModel, floatTensor, intTensor, node, type ModelSpec } from './onnx-model-builder.js';
import { randomInput, worstRelativeError } from './helpers/numeric.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/onnx/', import.meta.url));

const BACKENDS: BackendName[] = ['js'];
try {
  backendByName('native');
  BACKENDS.push('native');
} catch (error) {
  console.log(`split/reduce tests: skipping the native backend (${(error as Error).message})`);
}



const FIXTURE_MODELS: Record<string, readonly number[]> = {
  shufflenet_small_opset11: [3, 32, 32],
  shufflenet_small_opset13: [3, 32, 32],
  shufflenet_small_opset18: [3, 32, 32],
  split_reduce_opset11: [3, 8, 8],
  split_reduce_opset13: [3, 8, 8],
};

describe.each(BACKENDS)('Split/Reduce fixtures vs onnxruntime-node (%s backend)', (backend) => {
  describe.each(Object.entries(FIXTURE_MODELS))('%s', (name, inputShape) => {
    it.each([1, 3])('matches at batch %i (run and runSync)', async (batch) => {
      const path = `${FIXTURES}${name}.onnx`;
      const shape = [batch, ...inputShape];
      const data = randomInput(shape, 29 + batch);
      const session = await ort.InferenceSession.create(path, { intraOpNumThreads: 1 });
      const reference = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', data.slice(), shape) });
      const expected = reference[session.outputNames[0]];
      const expectedData = expected.data as Float32Array;

      const model = await loadOnnx(path, { backend });
      const feeds = { [model.inputNames[0]]: new Tensor(shape, data) };
      const asyncOut = (await model.run(feeds))[model.outputNames[0]];
      const syncOut = model.runSync(feeds)[model.outputNames[0]];
      expect(asyncOut.shape).toEqual(expected.dims);
      expect(worstRelativeError(asyncOut.data, expectedData)).toBeLessThanOrEqual(1e-4);
      expect(worstRelativeError(syncOut.data, expectedData)).toBeLessThanOrEqual(1e-4);
      expect(new Set(expectedData).size).toBeGreaterThan(1);
      expect(Math.max(...Array.from(expectedData, Math.abs))).toBeGreaterThan(1e-2);
      // The ops under test run (they are not folded away or skipped).
      const types = model.summaryRows(shape).map((row) => row.type);
      expect(types).toContain('Split');
      expect(types.some((t) => t.startsWith('Reduce'))).toBe(true);
    });
  });
});

/**
 * Every output of an in-memory model, at each input shape, against onnxruntime, on every backend.
 * One loaded model per backend serves all the shapes: a new batch size must need no reload.
 */
async function expectMatchesOnnxruntime(spec: ModelSpec, shapes: ReadonlyArray<Record<string, number[]>>): Promise<void> {
  const bytes = encodeModel(spec);
  const session = await ort.InferenceSession.create(bytes);
  const models = await Promise.all(BACKENDS.map((backend) => loadOnnx(bytes, { backend })));
  for (const [s, feedShapes] of shapes.entries()) {
    const ortFeeds: Record<string, ort.Tensor> = {};
    const ourFeeds: Record<string, Tensor> = {};
    Object.entries(feedShapes).forEach(([name, shape], i) => {
      const data = randomInput(shape, 11 + 7 * i + 101 * s);
      ortFeeds[name] = new ort.Tensor('float32', data.slice(), shape);
      ourFeeds[name] = new Tensor(shape, data);
    });
    const reference = await session.run(ortFeeds);
    for (const [b, backend] of BACKENDS.entries()) {
      const model = models[b];
      const results = [model.runSync(ourFeeds), await model.run(ourFeeds)];
      for (const ours of results) {
        for (const name of session.outputNames) {
          const where = `${backend}, input ${JSON.stringify(feedShapes)}, output ${name}`;
          expect(ours[name].shape, where).toEqual(reference[name].dims);
          expect(worstRelativeError(ours[name].data, reference[name].data as Float32Array), where).toBeLessThanOrEqual(1e-5);
        }
      }
    }
  }
}

const x4 = (name = 'x') => ({ name, shape: ['n', 6, 5, 4] as Array<number | string> });

describe('Split forms vs onnxruntime-node', () => {
  it('opset 7: the split attribute, unequal parts on the channels', async () => {
    await expectMatchesOnnxruntime(
      { opset: 7, nodes: [node('Split', ['x'], ['a', 'b', 'c'], { axis: { i: 1 }, split: { ints: [1, 3, 2] } })], inputs: [x4()], outputs: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] },
      [{ x: [1, 6, 5, 4] }, { x: [3, 6, 5, 4] }],
    );
  });

  it('opset 11: no sizes means equal parts, on a negative axis', async () => {
    await expectMatchesOnnxruntime(
      { opset: 11, nodes: [node('Split', ['x'], ['a', 'b'], { axis: { i: -1 } })], inputs: [x4()], outputs: [{ name: 'a' }, { name: 'b' }] },
      [{ x: [1, 6, 5, 4] }, { x: [3, 6, 5, 4] }],
    );
  });

  it('opset 13: sizes as a constant input, on the height axis, feeding further ops', async () => {
    await expectMatchesOnnxruntime(
      {
        opset: 13,
        initializers: [intTensor('sizes', [3], [1, 3, 1])],
        nodes: [node('Split', ['x', 'sizes'], ['a', 'b', 'c'], { axis: { i: 2 } }), node('Relu', ['b'], ['rb']), node('Concat', ['c', 'rb', 'a'], ['y'], { axis: { i: 2 } })],
        inputs: [x4()],
        outputs: [{ name: 'y' }, { name: 'a' }],
      },
      [{ x: [1, 6, 5, 4] }, { x: [3, 6, 5, 4] }],
    );
  });

  it('opset 13: equal parts along the batch axis follow the batch size', async () => {
    await expectMatchesOnnxruntime(
      { opset: 13, nodes: [node('Split', ['x'], ['a', 'b', 'c'], { axis: { i: 0 } })], inputs: [{ name: 'x', shape: [3, 2, 2, 2] }], outputs: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] },
      [{ x: [3, 2, 2, 2] }],
    );
  });

  it('opset 18: num_outputs with a smaller last chunk (10 -> 4, 4, 2)', async () => {
    await expectMatchesOnnxruntime(
      { opset: 18, nodes: [node('Split', ['x'], ['a', 'b', 'c'], { axis: { i: -2 }, num_outputs: { i: 3 } })], inputs: [{ name: 'x', shape: ['n', 2, 10, 3] }], outputs: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] },
      [{ x: [1, 2, 10, 3] }, { x: [3, 2, 10, 3] }],
    );
  });

  it('opset 18: num_outputs that divides evenly, and sizes as an input with an empty part', async () => {
    await expectMatchesOnnxruntime(
      {
        opset: 18,
        initializers: [intTensor('sizes', [3], [0, 2, 4])],
        nodes: [
          node('Split', ['x'], ['a', 'b'], { axis: { i: 1 }, num_outputs: { i: 2 } }),
          node('Split', ['x', 'sizes'], ['e', 'f', 'g'], { axis: { i: 1 } }),
        ],
        inputs: [x4()],
        outputs: [{ name: 'a' }, { name: 'b' }, { name: 'e' }, { name: 'f' }, { name: 'g' }],
      },
      [{ x: [2, 6, 5, 4] }],
    );
  });
});

describe('Reduce forms vs onnxruntime-node', () => {
  const single = (opset: number, opType: string, attrs: Parameters<typeof node>[3], axes?: number[]): ModelSpec => ({
    opset,
    initializers: axes ? [intTensor('axes', [axes.length], axes)] : [],
    nodes: [node(opType, axes ? ['x', 'axes'] : ['x'], ['y'], attrs)],
    inputs: [x4()],
    outputs: [{ name: 'y' }],
  });
  const batches = [{ x: [1, 6, 5, 4] }, { x: [3, 6, 5, 4] }];

  it.each([
    ['ReduceMean over H and W, keepdims 0 (the ShuffleNet head)', single(13, 'ReduceMean', { axes: { ints: [2, 3] }, keepdims: { i: 0 } })],
    ['ReduceMax over H and W as negative axes, keepdims 1', single(11, 'ReduceMax', { axes: { ints: [-1, -2] } })],
    ['ReduceMin over W only', single(13, 'ReduceMin', { axes: { ints: [3] }, keepdims: { i: 0 } })],
    ['ReduceSum over the channels (axes attribute, opset 11)', single(11, 'ReduceSum', { axes: { ints: [1] } })],
    ['ReduceSum over the channels (axes input, opset 13)', single(13, 'ReduceSum', { keepdims: { i: 0 } }, [1])],
    ['ReduceMean over C and H (a middle block)', single(13, 'ReduceMean', { axes: { ints: [1, 2] } })],
    ['ReduceMean with axes as an input (opset 18)', single(18, 'ReduceMean', { keepdims: { i: 1 } }, [-1, 2])],
    ['ReduceMax over scattered axes, batch included (opset 18)', single(18, 'ReduceMax', { keepdims: { i: 0 } }, [0, 2])],
    ['ReduceMin over scattered axes C and W', single(13, 'ReduceMin', { axes: { ints: [1, 3] } })],
    ['ReduceMean over the batch axis', single(13, 'ReduceMean', { axes: { ints: [0] }, keepdims: { i: 0 } })],
    ['ReduceSum over everything (no axes) to a scalar', single(13, 'ReduceSum', { keepdims: { i: 0 } })],
    ['ReduceMean over everything (no axes attribute), keepdims 1', single(11, 'ReduceMean', {})],
    ['ReduceMax with an empty axes input reduces everything', single(18, 'ReduceMax', {}, [])],
    ['ReduceSum with noop_with_empty_axes and no axes is an identity', single(13, 'ReduceSum', { noop_with_empty_axes: { i: 1 } })],
    ['ReduceMean with noop_with_empty_axes and empty axes is an identity', single(18, 'ReduceMean', { noop_with_empty_axes: { i: 1 } }, [])],
    ['ReduceMin with noop_with_empty_axes but axes given reduces them', single(18, 'ReduceMin', { noop_with_empty_axes: { i: 1 } }, [1])],
  ])('%s', async (_, spec) => {
    await expectMatchesOnnxruntime(spec, batches);
  });

  it('a reduction over size-1 axes only copies', async () => {
    await expectMatchesOnnxruntime(
      { ...single(13, 'ReduceMax', { axes: { ints: [1, 3] } }), inputs: [{ name: 'x', shape: ['n', 1, 5, 1] }] },
      [{ x: [2, 1, 5, 1] }],
    );
  });
});

describe('Split and Reduce on constants are folded at load', () => {
  it('a shape chain through Split and a ReduceSum of an initializer leave no steps behind', async () => {
    const spec: ModelSpec = {
      opset: 13,
      initializers: [intTensor('halves', [2], [2, 2]), floatTensor('w', [2, 3], [1, 2, 3, -4, 5, 0.5]), intTensor('first', [1], [0])],
      nodes: [
        node('Shape', ['x'], ['s']),
        node('Split', ['s', 'halves'], ['nc', 'hw']),
        node('Concat', ['hw', 'nc'], ['t'], { axis: { i: 0 } }),
        node('Reshape', ['x', 't'], ['r']),
        node('ReduceSum', ['w', 'first'], ['ws'], { keepdims: { i: 0 } }),
        node('Add', ['r', 'ws'], ['y']),
      ],
      inputs: [{ name: 'x', shape: ['n', 3, 2, 3] }],
      outputs: [{ name: 'y' }],
    };
    await expectMatchesOnnxruntime(spec, [{ x: [1, 3, 2, 3] }, { x: [2, 3, 2, 3] }]);
    const model = loadOnnxSync(encodeModel(spec), { backend: 'js' });
    expect(model.summaryRows([2, 3, 2, 3]).map((r) => r.type)).toEqual(['Reshape', 'Add']);
    // x of [N, C, H, W] = [2, 3, 2, 3] reshaped to [H, W, N, C]; w summed over axis 0 = [-3, 7, 3.5] added on C.
    const out = model.runSync({ x: Tensor.zeros([2, 3, 2, 3]) }).y;
    expect(out.shape).toEqual([2, 3, 2, 3]);
    expect(Array.from(out.data)).toEqual(Array.from({ length: 36 }, (_, i) => [-3, 7, 3.5][i % 3]));
  });
});

describe('ReduceMean / ReduceMax over trailing axes use the backend global pool', () => {
  function countingBackend(): { backend: Backend; calls: Array<[string, number, number]> } {
    const calls: Array<[string, number, number]> = [];
    const base = backendByName('js');
    const backend: Backend = {
      ...base,
      globalPool2dSync(input, kind, planes, plane, output) {
        calls.push([kind, planes, plane]);
        base.globalPool2dSync(input, kind, planes, plane, output);
      },
    };
    return { backend, calls };
  }

  it.each([
    ['ReduceMean', [2, 3], [['avg', 12, 20]]],
    ['ReduceMax', [-1], [['max', 60, 4]]],
    ['ReduceMean', [1, 2, 3], [['avg', 2, 120]]],
    ['ReduceSum', [2, 3], []],
    ['ReduceMean', [1], []],
  ] as const)('%s over %j', (opType, axes, expected) => {
    const { backend, calls } = countingBackend();
    const model = loadOnnxSync(
      encodeModel({ opset: 11, nodes: [node(opType, ['x'], ['y'], { axes: { ints: [...axes] }, keepdims: { i: 0 } })], inputs: [x4()], outputs: [{ name: 'y' }] }),
      { backend },
    );
    const x = new Tensor([2, 6, 5, 4], randomInput([2, 6, 5, 4], 5));
    const y = model.runSync({ x }).y;
    expect(calls).toEqual(expected);
    // Against the definition, whichever path ran.
    const kept = [0, 1, 2, 3].filter((k) => !axes.some((a) => (a + 4) % 4 === k));
    expect(y.shape).toEqual(kept.map((k) => x.shape[k]));
    const groups = new Map<number, number[]>();
    x.data.forEach((v, i) => {
      const index = [Math.floor(i / 120), Math.floor(i / 20) % 6, Math.floor(i / 4) % 5, i % 4];
      const key = kept.reduce((acc, k) => acc * x.shape[k] + index[k], 0);
      groups.set(key, [...(groups.get(key) ?? []), v]);
    });
    for (const [key, values] of groups) {
      const sum = values.reduce((a, b) => a + b, 0);
      const want = opType === 'ReduceMax' ? Math.max(...values) : opType === 'ReduceSum' ? sum : sum / values.length;
      expect(Math.abs(y.data[key] - want)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(want)));
    }
  });
});

describe('bad Split and Reduce nodes', () => {
  function expectLoadError(spec: ModelSpec, message: RegExp): void {
    let caught: unknown;
    try {
      loadOnnxSync(encodeModel(spec), { backend: 'js' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConvnodeError);
    expect(caught).toBeInstanceOf(OnnxError);
    expect((caught as OnnxError).message).toMatch(message);
  }
  const splitModel = (opset: number, n: ReturnType<typeof node>, initializers = [] as ModelSpec['initializers'], inputs = [x4()]): ModelSpec => ({
    opset,
    initializers,
    nodes: [n],
    inputs,
    outputs: n.outputs.map((name) => ({ name })),
  });

  it('split sizes computed from tensor data', () => {
    expectLoadError(
      splitModel(13, node('Split', ['x', 'sizes'], ['a', 'b'], { axis: { i: 1 } }, 'cut'), [], [x4(), { name: 'sizes', shape: [2] }]),
      /Split 'cut': the 'split' input must be known before the run .* computed from tensor data/,
    );
  });

  it('split sizes that do not sum to the axis size', () => {
    expectLoadError(
      splitModel(13, node('Split', ['x', 'sizes'], ['a', 'b'], { axis: { i: 1 } }, 'cut'), [intTensor('sizes', [2], [2, 3])]),
      /Split 'cut': split \[2, 3\] sums to 5 but the axis being split has size 6/,
    );
    expectLoadError(
      splitModel(11, node('Split', ['x'], ['a', 'b'], { axis: { i: 2 }, split: { ints: [4, 4] } }, 'cut')),
      /Split 'cut': split \[4, 4\] sums to 8 but the axis being split has size 5/,
    );
  });

  it('as many sizes as outputs, none negative', () => {
    expectLoadError(
      splitModel(13, node('Split', ['x', 'sizes'], ['a', 'b'], { axis: { i: 1 } }, 'cut'), [intTensor('sizes', [3], [2, 2, 2])]),
      /Split 'cut': split \[2, 2, 2\] has 3 parts but the node has 2 outputs/,
    );
    expectLoadError(
      splitModel(13, node('Split', ['x', 'sizes'], ['a', 'b'], { axis: { i: 1 } }, 'cut'), [intTensor('sizes', [2], [-1, 7])]),
      /Split 'cut': split \[-1, 7\] must hold non-negative integers/,
    );
  });

  it('equal parts that do not divide the axis', () => {
    expectLoadError(splitModel(13, node('Split', ['x'], ['a', 'b'], { axis: { i: 2 } }, 'cut')), /Split 'cut': without split sizes the axis of size 5 must divide evenly into 2 outputs/);
  });

  it('an axis out of range', () => {
    expectLoadError(splitModel(13, node('Split', ['x'], ['a', 'b'], { axis: { i: 4 } }, 'cut')), /Split 'cut': axis 4 is outside \[-4, 3\]/);
  });

  it('num_outputs: only from opset 18, matching the outputs, not with sizes, leaving a last chunk', () => {
    expectLoadError(splitModel(13, node('Split', ['x'], ['a', 'b'], { num_outputs: { i: 2 } }, 'cut')), /Split 'cut': attribute 'num_outputs' exists from opset 18 \(this model is opset 13\)/);
    expectLoadError(splitModel(18, node('Split', ['x'], ['a', 'b'], { num_outputs: { i: 3 } }, 'cut')), /Split 'cut': num_outputs is 3 but the node has 2 outputs/);
    expectLoadError(
      splitModel(18, node('Split', ['x', 'sizes'], ['a', 'b'], { axis: { i: 1 }, num_outputs: { i: 2 } }, 'cut'), [intTensor('sizes', [2], [3, 3])]),
      /Split 'cut': give either the 'split' input or the 'num_outputs' attribute, not both/,
    );
    expectLoadError(
      splitModel(18, node('Split', ['x'], ['a', 'b', 'c', 'd'], { axis: { i: 2 }, num_outputs: { i: 4 } }, 'cut')),
      /Split 'cut': num_outputs 4 cannot split an axis of size 5 \(chunks of 2 leave -1 for the last output\)/,
    );
  });

  it('opset 18 without sizes or num_outputs (the equal-parts default is gone)', () => {
    expectLoadError(splitModel(18, node('Split', ['x'], ['a', 'b'], { axis: { i: 1 } }, 'cut')), /Split 'cut': from opset 18 Split needs the 'split' input or the 'num_outputs' attribute; it has neither/);
  });

  it('a split of a symbolic batch axis that batch 1 cannot fill says so', () => {
    expectLoadError(
      splitModel(13, node('Split', ['x'], ['a', 'b'], { axis: { i: 0 } }, 'cut')),
      /Split 'cut': without split sizes the axis of size 1 must divide evenly into 2 outputs \(axis 0 is the batch: .*symbolic batch as 1\)/,
    );
  });

  it('sizes in the form of another opset', () => {
    expectLoadError(splitModel(13, node('Split', ['x'], ['a', 'b'], { split: { ints: [3, 3] }, axis: { i: 1 } }, 'cut')), /Split 'cut': from opset 13 the part sizes are the second input/);
    expectLoadError(
      splitModel(11, node('Split', ['x', 'sizes'], ['a', 'b'], { axis: { i: 1 } }, 'cut'), [intTensor('sizes', [2], [3, 3])]),
      /Split 'cut': before opset 13 the part sizes are the 'split' attribute/,
    );
  });

  const reduceModel = (opset: number, n: ReturnType<typeof node>, initializers: ModelSpec['initializers'] = [], inputs = [x4()]): ModelSpec => ({
    opset,
    initializers,
    nodes: [n],
    inputs,
    outputs: [{ name: 'y' }],
  });

  it('reduce axes out of range, as an attribute and as an input', () => {
    expectLoadError(reduceModel(13, node('ReduceMean', ['x'], ['y'], { axes: { ints: [2, 4] } }, 'head')), /ReduceMean 'head': axes entry 4 is outside \[-4, 3\]/);
    expectLoadError(reduceModel(18, node('ReduceMax', ['x', 'axes'], ['y'], {}, 'head'), [intTensor('axes', [1], [-5])]), /ReduceMax 'head': axes entry -5 is outside \[-4, 3\]/);
  });

  it('duplicate reduce axes, also when one is negative', () => {
    expectLoadError(reduceModel(13, node('ReduceSum', ['x', 'axes'], ['y'], {}, 'head'), [intTensor('axes', [2], [1, -3])]), /ReduceSum 'head': axes \[1, -3\] name the same axis more than once/);
    expectLoadError(reduceModel(11, node('ReduceMin', ['x'], ['y'], { axes: { ints: [3, 3] } }, 'head')), /ReduceMin 'head': axes \[3, 3\] name the same axis more than once/);
  });

  it('reduce axes computed from tensor data', () => {
    expectLoadError(
      reduceModel(18, node('ReduceMean', ['x', 'axes'], ['y'], {}, 'head'), [], [x4(), { name: 'axes', shape: [1] }]),
      /ReduceMean 'head': the 'axes' input must be known before the run/,
    );
  });

  it('reduce axes in the form of another opset', () => {
    expectLoadError(
      reduceModel(13, node('ReduceMean', ['x', 'axes'], ['y'], {}, 'head'), [intTensor('axes', [1], [1])]),
      /ReduceMean 'head': before opset 18 the axes are the 'axes' attribute, not a second input \(this model is opset 13\)/,
    );
    expectLoadError(
      reduceModel(13, node('ReduceSum', ['x'], ['y'], { axes: { ints: [1] } }, 'head')),
      /ReduceSum 'head': from opset 13 the axes are the second input, not an 'axes' attribute/,
    );
    expectLoadError(
      reduceModel(11, node('ReduceMax', ['x'], ['y'], { noop_with_empty_axes: { i: 1 } }, 'head')),
      /ReduceMax 'head': attribute 'noop_with_empty_axes' exists from opset 18 \(this model is opset 11\)/,
    );
  });
});
