/**
 * The load-time fusions (lib/onnx/fusion/, lib/onnx/concat-in-place.ts), each on a small model
 * built in memory: the fused model must run the fused form (its summary row says so) and match
 * onnxruntime-node, and the same model loaded with fuse: false (every node on its own) must
 * match too, where convnode runs that node on its own (Erf, Softplus, Elu, Gelu and Mish only
 * exist inside fused forms until the element-wise engine implements them). Batch 1 and 3, every
 * backend that loads, run and runSync. The concat-in-place memory plan is tested here too.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { BackendName } from '../lib/backends/backend.js';
import { backendByName } from '../lib/backends/index.js';
import { loadOnnx, SUPPORTED_OPS } from '../lib/onnx/index.js';
import { Tensor } from '../lib/tensor.js';
import { randomInput, worstRelativeError } from './helpers/numeric.js';
import { encodeModel, floatTensor, node, type Attr, type ModelSpec, type NodeSpec, type TensorSpec } from './onnx-model-builder.js';

const BACKENDS: BackendName[] = ['js'];
try {
  backendByName('native');
  BACKENDS.push('native');
} catch (error) {
  console.log(`fusion pattern tests: skipping the native backend (${(error as Error).message})`);
}

let seed = 1;
function weights(name: string, dims: number[], scale = 0.5): TensorSpec {
  const data = randomInput(dims, seed++).map((v) => v * scale);
  return floatTensor(name, dims, data);
}

/** A Conv node with its weight and bias initializers. */
function conv(input: string, output: string, cin: number, cout: number, kernel = 3, attrs: Record<string, Attr> = {}) {
  const pad = (kernel - 1) >> 1;
  return {
    node: node('Conv', [input, `${output}_w`, `${output}_b`], [output], { pads: { ints: [pad, pad, pad, pad] }, ...attrs }),
    initializers: [weights(`${output}_w`, [cout, cin, kernel, kernel], 1 / Math.sqrt(cin * kernel * kernel)), weights(`${output}_b`, [cout], 0.2)],
  };
}

function scalar(name: string, value: number): TensorSpec {
  return floatTensor(name, [], [value]);
}

interface Graph {
  nodes: NodeSpec[];
  initializers: TensorSpec[];
}

/** Joins conv() results and plain nodes into one graph. */
function graph(...parts: Array<NodeSpec | { node: NodeSpec; initializers: TensorSpec[] } | TensorSpec>): Graph {
  const g: Graph = { nodes: [], initializers: [] };
  for (const part of parts) {
    if ('node' in part) {
      g.nodes.push(part.node);
      g.initializers.push(...part.initializers);
    } else if ('opType' in part) g.nodes.push(part);
    else g.initializers.push(part);
  }
  return g;
}

function model(g: Graph, channels: number, size: number, opset = 13): ModelSpec {
  return {
    opset,
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: [{ name: 'x', shape: ['n', channels, size, size] }],
    outputs: [{ name: 'y' }],
  };
}

/** What a fused model's summary must show. */
interface Expect {
  /** Row types the fused model must have. */
  readonly rows: readonly string[];
  /** Row types it must not have (what the fusion removed). */
  readonly absent?: readonly string[];
}

/** worstRelativeError, with equal infinities (a max over -inf padding only) counting as equal. */
function worstError(actual: Float32Array, expected: Float32Array): number {
  const finite = (a: Float32Array) => a.map((v, i) => (v === expected[i] ? 0 : v));
  return worstRelativeError(finite(actual), expected.map((v, i) => (v === actual[i] ? 0 : v)));
}

/** Checks the model (see the file comment); returns the fused model's row types. */
async function expectFusedMatches(spec: ModelSpec, shape: readonly number[], expected: Expect): Promise<string[]> {
  const bytes = encodeModel(spec);
  // Graph optimisations off: onnxruntime's own Pad fusion folds a 0 Pad into a MaxPool whatever
  // the input's sign (measured with onnxruntime-node 1.30: max over [-0.47 and 0-padding] gave -0.47).
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, graphOptimizationLevel: 'disabled' });
  const unfusedRuns = spec.nodes.every((n) => SUPPORTED_OPS.includes(n.opType));
  for (const batch of [1, 3]) {
    const fullShape = [batch, ...shape];
    const data = randomInput(fullShape, 100 + batch);
    const reference = (await session.run({ x: new ort.Tensor('float32', data.slice(), fullShape) })).y;
    for (const backend of BACKENDS) {
      const fused = await loadOnnx(bytes, { backend });
      const types = fused.summaryRows(fullShape).map((r) => r.type);
      for (const row of expected.rows) expect(types, `${backend}: fused rows`).toContain(row);
      for (const row of expected.absent ?? []) expect(types, `${backend}: fused rows`).not.toContain(row);
      const feeds = { x: new Tensor(fullShape, data) };
      const outputs = [(await fused.run(feeds)).y, fused.runSync(feeds).y];
      if (unfusedRuns) {
        const plain = await loadOnnx(bytes, { backend, fuse: false });
        if (expected.absent?.length) expect(plain.summaryRows(fullShape).length, `${backend}: unfused has more rows`).toBeGreaterThan(types.length);
        outputs.push((await plain.run(feeds)).y);
      }
      for (const out of outputs) {
        expect(out.shape).toEqual(reference.dims);
        expect(worstError(out.data, reference.data as Float32Array), `${backend} batch ${batch}`).toBeLessThanOrEqual(1e-4);
      }
    }
  }
  const bytesTypes = (await loadOnnx(bytes, { backend: 'js' })).summaryRows([1, ...shape]).map((r) => r.type);
  return bytesTypes;
}

describe('activations fused into the conv epilogue', () => {
  const cases: Array<[string, NodeSpec, string, number?]> = [
    ['HardSigmoid', node('HardSigmoid', ['c'], ['y'], { alpha: { f: 0.3 }, beta: { f: 0.4 } }), 'Conv+HardSigmoid'],
    ['Tanh', node('Tanh', ['c'], ['y']), 'Conv+Tanh'],
    ['Elu', node('Elu', ['c'], ['y'], { alpha: { f: 0.7 } }), 'Conv+Elu'],
    ['Clip (-0.5, 0.8)', node('Clip', ['c', 'lo', 'hi'], ['y']), 'Conv+Clip'],
    ['Softplus', node('Softplus', ['c'], ['y']), 'Conv+Softplus'],
    ['LeakyRelu', node('LeakyRelu', ['c'], ['y'], { alpha: { f: 0.2 } }), 'Conv+LeakyRelu'],
    ['Gelu (opset 20)', node('Gelu', ['c'], ['y']), 'Conv+Gelu', 20],
    ['Gelu tanh (opset 20)', node('Gelu', ['c'], ['y'], { approximate: { s: 'tanh' } }), 'Conv+Gelu', 20],
    ['Mish (opset 18)', node('Mish', ['c'], ['y']), 'Conv+Mish', 18],
  ];
  it.each(cases)('%s', async (_name, activation, row, opset) => {
    const g = graph(conv('x', 'c', 3, 4), activation, scalar('lo', -0.5), scalar('hi', 0.8));
    await expectFusedMatches(model(g, 3, 7, opset), [3, 7, 7], { rows: [row], absent: [activation.opType] });
  });

  it('x * Sigmoid(x) becomes SiLU', async () => {
    const g = graph(conv('x', 'c', 3, 4), node('Sigmoid', ['c'], ['s']), node('Mul', ['s', 'c'], ['y']));
    await expectFusedMatches(model(g, 3, 6), [3, 6, 6], { rows: ['Conv+Sigmoid+Mul'], absent: ['Sigmoid', 'Mul'] });
  });

  it('x * Tanh(Softplus(x)) becomes Mish', async () => {
    const g = graph(conv('x', 'c', 3, 4), node('Softplus', ['c'], ['sp']), node('Tanh', ['sp'], ['t']), node('Mul', ['c', 't'], ['y']));
    await expectFusedMatches(model(g, 3, 6), [3, 6, 6], { rows: ['Conv+Softplus+Tanh+Mul'] });
  });

  it("PyTorch's erf GELU, 0.5 x (1 + erf(x / sqrt 2)), becomes GELU", async () => {
    const g = graph(
      conv('x', 'c', 3, 4),
      node('Div', ['c', 'sqrt2'], ['d']), node('Erf', ['d'], ['e']), node('Add', ['e', 'one'], ['a']),
      node('Mul', ['c', 'a'], ['m']), node('Mul', ['m', 'half'], ['y']),
      scalar('sqrt2', Math.SQRT2), scalar('one', 1), scalar('half', 0.5),
    );
    await expectFusedMatches(model(g, 3, 6), [3, 6, 6], { rows: ['Conv+Div+Erf+Add+Mul+Mul'] });
  });

  it('the same GELU written with x * (1 / sqrt 2), 1 + erf, and a final Div by 2', async () => {
    const g = graph(
      conv('x', 'c', 3, 4),
      node('Mul', ['c', 'rsqrt2'], ['d']), node('Erf', ['d'], ['e']), node('Add', ['one', 'e'], ['a']),
      node('Mul', ['a', 'c'], ['m']), node('Div', ['m', 'two'], ['y']),
      scalar('rsqrt2', Math.SQRT1_2), scalar('one', 1), scalar('two', 2),
    );
    await expectFusedMatches(model(g, 3, 6), [3, 6, 6], { rows: ['Conv+Mul+Erf+Add+Mul+Div'] });
  });

  it('Gemm + Tanh', async () => {
    const spec: ModelSpec = {
      opset: 13,
      nodes: [node('Flatten', ['x'], ['f']), node('Gemm', ['f', 'w', 'b'], ['g'], { transB: { i: 1 } }), node('Tanh', ['g'], ['y'])],
      initializers: [weights('w', [5, 12]), weights('b', [5])],
      inputs: [{ name: 'x', shape: ['n', 3, 2, 2] }],
      outputs: [{ name: 'y' }],
    };
    await expectFusedMatches(spec, [3, 2, 2], { rows: ['Gemm+Tanh'], absent: ['Tanh'] });
  });

  it('an activation whose input is also read elsewhere stays on its own', async () => {
    const g = graph(conv('x', 'c', 3, 4), node('Sigmoid', ['c'], ['s']), node('Mul', ['s', 'c'], ['m']), node('Add', ['m', 'c'], ['y']));
    const types = await expectFusedMatches(model(g, 3, 6), [3, 6, 6], { rows: ['Conv', 'Sigmoid', 'Mul'] });
    expect(types).not.toContain('Conv+Sigmoid+Mul');
  });
});

describe('standalone BatchNormalization + activation as one channelAffine pass', () => {
  function bn(input: string, output: string, channels: number) {
    return {
      node: node('BatchNormalization', [input, `${output}_g`, `${output}_b`, `${output}_m`, `${output}_v`], [output], { epsilon: { f: 1e-3 } }),
      initializers: [
        weights(`${output}_g`, [channels]), weights(`${output}_b`, [channels]), weights(`${output}_m`, [channels]),
        floatTensor(`${output}_v`, [channels], randomInput([channels], seed++).map((v) => v * v + 0.5)),
      ],
    };
  }

  it("DenseNet's pre-activation: BN + Relu in front of a conv", async () => {
    const g = graph(bn('x', 'b', 4), node('Relu', ['b'], ['r']), conv('r', 'y', 4, 3));
    await expectFusedMatches(model(g, 4, 6), [4, 6, 6], { rows: ['BatchNormalization+Relu', 'Conv'], absent: ['Relu'] });
  });

  it('BN + SiLU', async () => {
    const g = graph(bn('x', 'b', 4), node('Sigmoid', ['b'], ['s']), node('Mul', ['b', 's'], ['y']));
    await expectFusedMatches(model(g, 4, 5), [4, 5, 5], { rows: ['BatchNormalization+Sigmoid+Mul'] });
  });
});

describe('squeeze-and-excitation as one channel-scale step', () => {
  function seBlock(inner: NodeSpec[], gate: NodeSpec[], channels = 8, hidden = 3) {
    return graph(
      conv('x', 'f', 3, channels), node('Relu', ['f'], ['r']),
      node('GlobalAveragePool', ['r'], ['p']),
      conv('p', 'q', channels, hidden, 1), ...inner,
      conv('h', 'e', hidden, channels, 1), ...gate,
      node('Mul', ['r', 'g'], ['m']),
      conv('m', 'y', channels, 2, 1),
    );
  }

  it('ReLU inside, HardSigmoid gate (MobileNetV3)', async () => {
    const g = seBlock([node('Relu', ['q'], ['h'])], [node('HardSigmoid', ['e'], ['g'], { alpha: { f: 1 / 6 } })]);
    await expectFusedMatches(model(g, 3, 6), [3, 6, 6], {
      rows: ['GlobalAveragePool+Conv+Relu+Conv+HardSigmoid+Mul'], absent: ['GlobalAveragePool', 'Mul', 'HardSigmoid'],
    });
  });

  it('SiLU inside, Sigmoid gate (EfficientNet)', async () => {
    const g = seBlock([node('Sigmoid', ['q'], ['qs']), node('Mul', ['q', 'qs'], ['h'])], [node('Sigmoid', ['e'], ['g'])]);
    await expectFusedMatches(model(g, 3, 5), [3, 5, 5], { rows: ['GlobalAveragePool+Conv+Sigmoid+Mul+Conv+Sigmoid+Mul'], absent: ['Mul'] });
  });

  it('a ReduceMean over H and W as the squeeze (timm), axes as an attribute and as an input (opset 18)', async () => {
    for (const opset of [13, 18]) {
      const reduce = opset < 18
        ? node('ReduceMean', ['r'], ['p'], { axes: { ints: [2, 3] }, keepdims: { i: 1 } })
        : node('ReduceMean', ['r', 'axes'], ['p'], { keepdims: { i: 1 } });
      const g = graph(
        conv('x', 'f', 3, 6), node('Relu', ['f'], ['r']), reduce,
        conv('p', 'q', 6, 2, 1), node('Relu', ['q'], ['h']), conv('h', 'e', 2, 6, 1), node('Sigmoid', ['e'], ['g']), node('Mul', ['g', 'r'], ['y']),
        { name: 'axes', dims: [2], dataType: 7, int64Data: [-1, -2] } as TensorSpec,
      );
      await expectFusedMatches(model(g, 3, 5, opset), [3, 5, 5], { rows: ['ReduceMean+Conv+Relu+Conv+Sigmoid+Mul'], absent: ['ReduceMean', 'Mul'] });
    }
  });

  it('a gate that scales a different tensor than it squeezed is not an SE block', async () => {
    const g = graph(
      conv('x', 'f', 3, 4), conv('x', 'o', 3, 4), node('GlobalAveragePool', ['f'], ['p']),
      conv('p', 'q', 4, 2, 1), conv('q', 'e', 2, 4, 1), node('Sigmoid', ['e'], ['g']), node('Mul', ['o', 'g'], ['y']),
    );
    await expectFusedMatches(model(g, 3, 5), [3, 5, 5], { rows: ['GlobalAveragePool', 'Mul'] });
  });
});

describe('a Pad in front of a pool becomes the pool padding where that is exact', () => {
  const padNode = (value: number) => [
    node('Pad', ['r', 'pads', 'v'], ['pd'], { mode: { s: 'constant' } }),
    floatTensor('v', [], [value]),
    { name: 'pads', dims: [8], dataType: 7, int64Data: [0, 0, 1, 2, 0, 0, 2, 1] } as TensorSpec,
  ];

  it('0 Pad before AveragePool (count_include_pad 0, no own pads): fused, counting the pads', async () => {
    const g = graph(conv('x', 'r', 3, 4), ...padNode(0), node('AveragePool', ['pd'], ['y'], { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] } }));
    await expectFusedMatches(model(g, 3, 7), [3, 7, 7], { rows: ['Pad+AveragePool'], absent: ['Pad'] });
  });

  it('0 Pad before AveragePool with own pads and count_include_pad 0: not fused (the divisors differ)', async () => {
    const g = graph(conv('x', 'r', 3, 4), ...padNode(0), node('AveragePool', ['pd'], ['y'], { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 0, 0, 1] } }));
    await expectFusedMatches(model(g, 3, 7), [3, 7, 7], { rows: ['Pad', 'AveragePool'] });
  });

  it('-inf Pad before MaxPool (ceil_mode): fused', async () => {
    const g = graph(conv('x', 'r', 3, 4), ...padNode(-Infinity), node('MaxPool', ['pd'], ['y'], { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, ceil_mode: { i: 1 } }));
    await expectFusedMatches(model(g, 3, 8), [3, 8, 8], { rows: ['Pad+MaxPool'], absent: ['Pad'] });
  });

  it('0 Pad before MaxPool after a Relu: fused; without the Relu: not fused (negative inputs would lose to the pad)', async () => {
    const pool = node('MaxPool', ['pd'], ['y'], { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] } });
    const afterRelu = graph(conv('x', 'c', 3, 4), node('Relu', ['c'], ['r']), ...padNode(0), pool);
    await expectFusedMatches(model(afterRelu, 3, 7), [3, 7, 7], { rows: ['Pad+MaxPool'], absent: ['Pad'] });
    const signed = graph(conv('x', 'r', 3, 4), ...padNode(0), pool);
    await expectFusedMatches(model(signed, 3, 7), [3, 7, 7], { rows: ['Pad', 'MaxPool'] });
  });

  it('pads that would leave a window over padding only are not fused', async () => {
    const wide = [node('Pad', ['r', 'wide', 'v'], ['pd']), floatTensor('v', [], [-Infinity]), { name: 'wide', dims: [8], dataType: 7, int64Data: [0, 0, 2, 0, 0, 0, 0, 0] } as TensorSpec];
    const g = graph(conv('x', 'r', 3, 4), ...wide, node('MaxPool', ['pd'], ['y'], { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } }));
    await expectFusedMatches(model(g, 3, 6), [3, 6, 6], { rows: ['Pad', 'MaxPool'] });
  });
});

describe('Concat in place: producers write their slices of the concatenated buffer', () => {
  /** Concat steps a batch-`batch` run executes. */
  async function concatSteps(bytes: Uint8Array, shape: number[], fuse: boolean): Promise<number> {
    const m = await loadOnnx(bytes, { backend: 'js', fuse });
    const { steps } = await m.profile({ x: new Tensor(shape, randomInput(shape, 3)) });
    return steps.filter((s) => s.type === 'Concat').length;
  }

  const cat = (inputs: string[], output: string) => node('Concat', inputs, [output], { axis: { i: 1 } });

  it("DenseNet's growing concats become views of the block's last buffer: no copies at batch 1", async () => {
    const g = graph(
      conv('x', 'x0', 3, 4), conv('x0', 'x1', 4, 2), cat(['x0', 'x1'], 'c1'),
      node('Relu', ['c1'], ['r1']), conv('r1', 'x2', 6, 2), cat(['x0', 'x1', 'x2'], 'c2'),
      conv('c2', 'x3', 8, 2), cat(['x0', 'x1', 'x2', 'x3'], 'c3'), conv('c3', 'y', 10, 3, 1),
    );
    const spec = model(g, 3, 6);
    await expectFusedMatches(spec, [3, 6, 6], { rows: ['Concat'] });
    const bytes = encodeModel(spec);
    expect(await concatSteps(bytes, [1, 3, 6, 6], true)).toBe(0);
    expect(await concatSteps(bytes, [1, 3, 6, 6], false)).toBe(3);
    expect(await concatSteps(bytes, [2, 3, 6, 6], true)).toBe(3); // strided slices at batch 2: copied
    // The concatenated buffer replaces its parts: the arena does not grow.
    const [fused, plain] = [await loadOnnx(bytes, { backend: 'js' }), await loadOnnx(bytes, { backend: 'js', fuse: false })];
    expect(fused.peakActivationBytes([1, 3, 6, 6])).toBeLessThanOrEqual(plain.peakActivationBytes([1, 3, 6, 6]));
  });

  it('copies only what cannot be placed: a graph input, a value listed twice, nested concats', async () => {
    const g = graph(
      conv('x', 'a', 3, 2), conv('x', 'b', 3, 3), cat(['x', 'a', 'a', 'b'], 'c1'),
      conv('c1', 'd', 10, 2), cat(['c1', 'd'], 'c2'), node('Add', ['a', 'b_sum'], ['a2']),
      conv('c2', 'e', 12, 2), cat(['e', 'a2'], 'y'),
      floatTensor('b_sum', [1], [0.25]),
    );
    const spec = model(g, 3, 5);
    await expectFusedMatches(spec, [3, 5, 5], { rows: ['Concat'] });
    const bytes = encodeModel(spec);
    // c1 keeps a step (x and the second a are copied); c2 places c1 and d; y is a graph output: copied.
    expect(await concatSteps(bytes, [1, 3, 5, 5], true)).toBe(2);
  });
});
