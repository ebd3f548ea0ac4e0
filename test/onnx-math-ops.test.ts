/**
 * The math / logic ops (lib/onnx/ops/math-ops.ts), Einsum, N-D MatMul and Softmax on any axis,
 * against onnxruntime-node on models built in memory, at batch 1 and 3 on both backends; the
 * shape chains (Shape -> ConstantOfShape / Range / Expand) folded at plan time; and each bad
 * attribute or input with its error.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { Backend, BackendName } from '../lib/backends/backend.js';
import { jsBackend } from '../lib/backends/js.js';
import { loadOnnx, OnnxError } from '../lib/onnx/index.js';
import { Tensor } from '../lib/tensor.js';
import { availableBackends } from './helpers/backends.js';
import { randomInput, worstRelativeError } from './helpers/numeric.js';
import { encodeModel, floatTensor, intTensor, node, type NodeSpec, type TensorSpec } from './onnx-model-builder.js';

interface Case {
  readonly name: string;
  readonly opset?: number;
  readonly nodes: NodeSpec[];
  /** Runtime inputs: name -> shape for batch n. */
  readonly inputs: Record<string, (n: number) => number[]>;
  readonly initializers?: TensorSpec[];
  /** Feed |x| + 0.1 (for Sqrt, Log, fractional Pow). */
  readonly positive?: boolean;
}

const CAST_FLOAT = { to: { i: 1 } };
const x4 = (n: number) => [n, 3, 4, 5];

const UNARY = ['Sqrt', 'Reciprocal', 'Neg', 'Abs', 'Log', 'Floor', 'Ceil'].map((op): Case => ({
  name: op, nodes: [node(op, ['x'], ['y'])], inputs: { x: x4 }, positive: ['Sqrt', 'Log', 'Reciprocal'].includes(op),
}));

const CASES: Case[] = [
  ...UNARY,
  { name: 'Pow x^2 (scalar exponent)', nodes: [node('Pow', ['x', 'two'], ['y'])], inputs: { x: x4 }, initializers: [floatTensor('two', [], [2])] },
  { name: 'Pow x^0.5', nodes: [node('Pow', ['x', 'half'], ['y'])], inputs: { x: x4 }, initializers: [floatTensor('half', [], [0.5])], positive: true },
  { name: 'Pow x^[5] broadcast', nodes: [node('Pow', ['x', 'e'], ['y'])], inputs: { x: x4 }, initializers: [floatTensor('e', [5], [1, 2, 3, 0.5, -1])], positive: true },
  { name: 'Pow both runtime', nodes: [node('Pow', ['x', 'z'], ['y'])], inputs: { x: x4, z: () => [4, 1] }, positive: true },
  { name: 'Mod fmod 1 (floats)', nodes: [node('Mod', ['x', 'd'], ['y'], { fmod: { i: 1 } })], inputs: { x: x4 }, initializers: [floatTensor('d', [5], [0.3, -0.7, 1, -1.5, 0.45])] },
  {
    name: 'Mod fmod 0 on integers from the shape (Swin window padding)',
    // (7 - d % 7) % 7 per dim of Shape(x) [N, 3, 9, 4], then a negative divisor; cast to float and added.
    nodes: [
      node('Shape', ['x'], ['s']), node('Mod', ['s', 'seven'], ['r']), node('Sub', ['seven', 'r'], ['p']), node('Mod', ['p', 'seven'], ['q']),
      node('Sub', ['q', 'three'], ['signed']), node('Mod', ['signed', 'minus4'], ['neg']), node('Cast', ['neg'], ['f'], CAST_FLOAT), node('Add', ['x', 'f'], ['y']),
    ],
    inputs: { x: (n) => [n, 3, 9, 4] },
    initializers: [intTensor('seven', [], [7]), intTensor('three', [], [3]), intTensor('minus4', [], [-4])],
  },
  {
    name: 'ScatterND runtime data and updates, constant (n, c) indices',
    nodes: [node('ScatterND', ['x', 'idx', 'z'], ['y'])],
    inputs: { x: x4, z: () => [2, 4, 5] },
    initializers: [intTensor('idx', [2, 2], [0, 1, 0, 0])],
  },
  {
    name: 'ScatterND reduction add (opset 16), a repeated index',
    opset: 16,
    nodes: [node('ScatterND', ['x', 'idx', 'z'], ['y'], { reduction: { s: 'add' } })],
    inputs: { x: x4, z: () => [3, 4, 5] },
    initializers: [intTensor('idx', [3, 2], [0, 1, 0, 1, 0, -1])],
  },
  {
    name: 'ScatterND on ConstantOfShape folded (a Swin attention mask), added',
    nodes: [
      node('ConstantOfShape', ['dims'], ['zeros']), node('ScatterND', ['zeros', 'idx', 'upd'], ['mask']), node('Add', ['x', 'mask'], ['y']),
    ],
    inputs: { x: (n) => [n, 3, 4] },
    initializers: [intTensor('dims', [2], [3, 4]), intTensor('idx', [2, 2], [0, 1, 2, 3]), floatTensor('upd', [2], [-100, 7])],
  },
  {
    name: 'Dropout with training_mode true and ratio 0 (torchvision swin_t), mask output declared',
    nodes: [node('Dropout', ['x', 'ratio', 'training'], ['y', 'mask'])],
    inputs: { x: x4 },
    initializers: [floatTensor('ratio', [], [0]), { name: 'training', dims: [], dataType: 9, rawData: Uint8Array.of(1) }],
  },
  {
    name: 'Pad to a multiple of 4 with pads from the shape (Swin window padding)',
    nodes: [
      node('Shape', ['x'], ['s']), node('Gather', ['s', 'three'], ['w'], { axis: { i: 0 } }), node('Mod', ['w', 'four'], ['r']),
      node('Sub', ['four', 'r'], ['short']), node('Mod', ['short', 'four'], ['p']), node('Unsqueeze', ['p', 'axis0'], ['pu']),
      node('Concat', ['zeros7', 'pu'], ['pads'], { axis: { i: 0 } }), node('Pad', ['x', 'pads'], ['y']),
    ],
    inputs: { x: x4 },
    initializers: [intTensor('three', [], [3]), intTensor('four', [], [4]), intTensor('axis0', [1], [0]), intTensor('zeros7', [7], [0, 0, 0, 0, 0, 0, 0])],
  },
  { name: 'Max of three, broadcast', nodes: [node('Max', ['x', 'c', 'z'], ['y'])], inputs: { x: x4, z: (n) => [n, 1, 4, 1] }, initializers: [floatTensor('c', [5], [0, 0.5, -0.5, 1, -1])] },
  { name: 'Min of one', nodes: [node('Min', ['x'], ['y'])], inputs: { x: x4 } },
  { name: 'Min of two', nodes: [node('Min', ['x', 'z'], ['y'])], inputs: { x: x4, z: (n) => [n, 3, 1, 5] } },
  { name: 'Sum of three', nodes: [node('Sum', ['x', 'z', 'x'], ['y'])], inputs: { x: x4, z: () => [5] } },
  { name: 'Mean of two', nodes: [node('Mean', ['x', 'z'], ['y'])], inputs: { x: x4, z: () => [1, 3, 1, 1] } },
  ...(['Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual'] as const).map((op): Case => ({
    name: `${op} as 0/1`,
    opset: 13,
    // Floor(2x) makes ties (Equal, the OrEqual forms) actually occur.
    nodes: [node('Mul', ['x', 'two'], ['x2']), node('Floor', ['x2'], ['f']), node(op, ['f', 'c'], ['b']), node('Cast', ['b'], ['y'], CAST_FLOAT)],
    inputs: { x: x4 },
    initializers: [floatTensor('two', [], [2]), floatTensor('c', [5], [-2, -1, 0, 1, 2])],
  })),
  {
    name: 'Not, And, Or, Xor on comparisons, then Where',
    nodes: [
      node('Greater', ['x', 'zero'], ['pos']), node('Less', ['x', 'z'], ['below']), node('Not', ['pos'], ['nonpos']),
      node('And', ['pos', 'below'], ['both']), node('Or', ['nonpos', 'both'], ['either']), node('Xor', ['either', 'below'], ['odd']),
      node('Where', ['odd', 'x', 'z'], ['y']),
    ],
    inputs: { x: x4, z: (n) => [n, 1, 4, 1] },
    initializers: [floatTensor('zero', [], [0])],
  },
  {
    name: 'Where(x < z, x, c) broadcast',
    nodes: [node('Less', ['x', 'z'], ['m']), node('Where', ['m', 'x', 'c'], ['y'])],
    inputs: { x: x4, z: (n) => [n, 1, 4, 1] },
    initializers: [floatTensor('c', [3, 1, 1], [7, 8, 9])],
  },
  { name: 'Expand [N,1,4,1] to [N,3,4,5]', nodes: [node('Expand', ['x', 's'], ['y'])], inputs: { x: (n) => [n, 1, 4, 1] }, initializers: [intTensor('s', [3], [3, 1, 5])] },
  {
    name: 'Expand a constant to Shape(x) (a ViT class token)',
    nodes: [node('Shape', ['x'], ['s']), node('Expand', ['c', 's'], ['e']), node('Add', ['x', 'e'], ['y'])],
    inputs: { x: x4 },
    initializers: [floatTensor('c', [1, 5], [1, 2, 3, 4, 5])],
  },
  { name: 'Tile [1, 2, 1, 3]', nodes: [node('Tile', ['x', 'r'], ['y'])], inputs: { x: x4 }, initializers: [intTensor('r', [4], [1, 2, 1, 3])] },
  {
    name: 'ConstantOfShape(Shape(x)) value 1.5, added',
    nodes: [node('Shape', ['x'], ['s']), node('ConstantOfShape', ['s'], ['k'], { value: { t: floatTensor('v', [1], [1.5]) } }), node('Add', ['x', 'k'], ['y'])],
    inputs: { x: x4 },
  },
  {
    name: 'Range(0, W, 1) from the shape, cast and added',
    nodes: [
      node('Shape', ['x'], ['s']), node('Gather', ['s', 'three'], ['w'], { axis: { i: 0 } }),
      node('Range', ['zero', 'w', 'one'], ['r']), node('Cast', ['r'], ['rf'], CAST_FLOAT), node('Add', ['x', 'rf'], ['y']),
    ],
    inputs: { x: x4 },
    initializers: [intTensor('three', [], [3]), intTensor('zero', [], [0]), intTensor('one', [], [1])],
  },
  { name: 'Einsum bij,bjk->bik', opset: 12, nodes: [node('Einsum', ['x', 'z'], ['y'], { equation: { s: 'bij,bjk->bik' } })], inputs: { x: (n) => [n, 4, 5], z: (n) => [n, 5, 3] } },
  { name: 'Einsum bhqd,bhkd->bhqk', opset: 12, nodes: [node('Einsum', ['x', 'z'], ['y'], { equation: { s: 'bhqd,bhkd->bhqk' } })], inputs: { x: (n) => [n, 2, 4, 3], z: (n) => [n, 2, 6, 3] } },
  { name: 'Einsum ...ij,jk->...ik (constant weight)', opset: 12, nodes: [node('Einsum', ['x', 'w'], ['y'], { equation: { s: '...ij,jk->...ik' } })], inputs: { x: x4 }, initializers: [floatTensor('w', [5, 2], randomInput([10], 3))] },
  { name: 'Einsum nchw->nhwc', opset: 12, nodes: [node('Einsum', ['x'], ['y'], { equation: { s: 'nchw->nhwc' } })], inputs: { x: x4 } },
  { name: 'Einsum implicit bij,bjk (sums b)', opset: 12, nodes: [node('Einsum', ['x', 'z'], ['y'], { equation: { s: 'bij,bjk' } })], inputs: { x: (n) => [n, 4, 5], z: (n) => [n, 5, 3] } },
  { name: 'Einsum bji,bjk->bik (the k of A first: copied transposed)', opset: 12, nodes: [node('Einsum', ['x', 'z'], ['y'], { equation: { s: 'bji,bjk->bik' } })], inputs: { x: (n) => [n, 5, 4], z: (n) => [n, 5, 3] } },
  { name: 'Einsum bij,bjk->bki (output n first: operands swap)', opset: 12, nodes: [node('Einsum', ['x', 'z'], ['y'], { equation: { s: 'bij,bjk->bki' } })], inputs: { x: (n) => [n, 4, 5], z: (n) => [n, 5, 3] } },
  { name: 'Einsum bji,bkj->bki (both transposed, swapped)', opset: 12, nodes: [node('Einsum', ['x', 'z'], ['y'], { equation: { s: 'bji,bkj->bki' } })], inputs: { x: (n) => [n, 5, 4], z: (n) => [n, 3, 5] } },
  { name: 'Einsum bij,jk->bik (b joins the rows)', opset: 12, nodes: [node('Einsum', ['x', 'z'], ['y'], { equation: { s: 'bij,jk->bik' } })], inputs: { x: (n) => [n, 4, 5], z: () => [5, 3] } },
  { name: 'Einsum bhij,bhjd->bhid (b broadcast)', opset: 12, nodes: [node('Einsum', ['x', 'z'], ['y'], { equation: { s: 'bhij,bhjd->bhid' } })], inputs: { x: (n) => [n, 2, 4, 3], z: () => [1, 2, 3, 6] } },
  { name: 'Einsum bij,bj->bi (a matrix-vector product)', opset: 12, nodes: [node('Einsum', ['x', 'z'], ['y'], { equation: { s: 'bij,bj->bi' } })], inputs: { x: (n) => [n, 4, 5], z: (n) => [n, 5] } },
  { name: 'Einsum bhwc,cd->bhwd (several row letters)', opset: 12, nodes: [node('Einsum', ['x', 'z'], ['y'], { equation: { s: 'bhwc,cd->bhwd' } })], inputs: { x: (n) => [n, 3, 4, 6], z: () => [6, 7] } },
  { name: 'MatMul [N,2,4,5] x [N,2,5,3]', nodes: [node('MatMul', ['x', 'z'], ['y'])], inputs: { x: (n) => [n, 2, 4, 5], z: (n) => [n, 2, 5, 3] } },
  { name: 'MatMul [N,2,4,5] x [5,3] runtime', nodes: [node('MatMul', ['x', 'z'], ['y'])], inputs: { x: (n) => [n, 2, 4, 5], z: () => [5, 3] } },
  { name: 'MatMul [N,1,4,5] x [2,5,3] broadcast', nodes: [node('MatMul', ['x', 'z'], ['y'])], inputs: { x: (n) => [n, 1, 4, 5], z: () => [2, 5, 3] } },
  { name: 'MatMul [N,3,4,5] x constant [5,6] (a Linear on NHWC)', nodes: [node('MatMul', ['x', 'w'], ['y'])], inputs: { x: x4 }, initializers: [floatTensor('w', [5, 6], randomInput([30], 5))] },
  { name: 'MatMul [N,1,4,5] x constant [2,5,3]', nodes: [node('MatMul', ['x', 'w'], ['y'])], inputs: { x: (n) => [n, 1, 4, 5] }, initializers: [floatTensor('w', [2, 5, 3], randomInput([30], 6))] },
  { name: 'MatMul [N,5] x [5] (vector B)', nodes: [node('MatMul', ['x', 'z'], ['y'])], inputs: { x: (n) => [n, 5], z: () => [5] } },
  ...[1, 2, -1].map((axis): Case => ({ name: `Softmax-13 axis ${axis}`, opset: 13, nodes: [node('Softmax', ['x'], ['y'], { axis: { i: axis } })], inputs: { x: x4 } })),
  ...[1, 2].map((axis): Case => ({ name: `Softmax-11 axis ${axis} (flattened to 2-D)`, opset: 11, nodes: [node('Softmax', ['x'], ['y'], { axis: { i: axis } })], inputs: { x: x4 } })),
];

function modelOf(c: Case): Uint8Array {
  return encodeModel({
    opset: c.opset ?? 13,
    nodes: c.nodes,
    initializers: c.initializers ?? [],
    inputs: Object.keys(c.inputs).map((name) => ({ name, shape: null })),
    outputs: [{ name: 'y' }],
  });
}

async function expectMatches(c: Case, backend: BackendName): Promise<void> {
  const bytes = modelOf(c);
  const session = await ort.InferenceSession.create(bytes);
  const model = await loadOnnx(bytes, { backend });
  for (const n of [1, 3]) {
    const feeds = Object.entries(c.inputs).map(([name, shapeOf], i) => {
      const shape = shapeOf(n);
      const data = randomInput(shape, 11 + 7 * i + n);
      return { name, shape, data: c.positive ? data.map((v) => Math.abs(v) + 0.1) : data };
    });
    const want = (await session.run(Object.fromEntries(feeds.map((f) => [f.name, new ort.Tensor('float32', f.data.slice(), f.shape)])))).y;
    const got = (await model.run(Object.fromEntries(feeds.map((f) => [f.name, new Tensor(f.shape, f.data)])))).y;
    expect(got.shape, `batch ${n}`).toEqual(want.dims);
    expect(worstRelativeError(got.data, want.data as Float32Array), `batch ${n}`).toBeLessThanOrEqual(1e-5);
  }
}

describe.each(availableBackends())('math, logic, Einsum, N-D MatMul and Softmax vs onnxruntime-node (%s)', (backend) => {
  it.each(CASES)('$name', (c) => expectMatches(c, backend));
});

describe('Einsum as a batched matmul', () => {
  // A backend that counts matMul calls, on the pure-JS kernels.
  const counting = () => {
    const calls = { matMul: 0 };
    const spy: Backend = {
      ...jsBackend,
      matMulSync: (...args) => { calls.matMul++; jsBackend.matMulSync(...args); },
      matMul: (...args) => { calls.matMul++; return jsBackend.matMul(...args); },
    };
    return { spy, calls };
  };
  const forms: Array<[string, number[], number[], boolean]> = [
    ['bij,bjk->bik', [2, 4, 5], [2, 5, 3], true],
    ['bhqd,bhkd->bhqk', [2, 2, 4, 3], [2, 2, 6, 3], true],
    ['bij,bjk->bki', [2, 4, 5], [2, 5, 3], true],
    ['ij,j->i', [4, 5], [5], true],
    ['bij,bjk', [2, 4, 5], [2, 5, 3], false],  // implicit output sums b: not a matmul
    ['ii,ij->ij', [4, 4], [4, 3], false],  // a diagonal
    ['ij,kj->ikj', [4, 5], [3, 5], false],  // j kept, not summed: an outer product per j
  ];
  it.each(forms)('%s runs on matMul: %s', async (equation, xShape, zShape, viaMatMul) => {
    const bytes = encodeModel({
      opset: 12,
      nodes: [node('Einsum', ['x', 'z'], ['y'], { equation: { s: equation } })],
      inputs: [{ name: 'x', shape: xShape }, { name: 'z', shape: zShape }],
      outputs: [{ name: 'y' }],
    });
    const { spy, calls } = counting();
    const model = await loadOnnx(bytes, { backend: spy });
    const x = randomInput(xShape, 1);
    const z = randomInput(zShape, 2);
    const got = (await model.run({ x: new Tensor(xShape, x), z: new Tensor(zShape, z) })).y;
    expect(calls.matMul > 0).toBe(viaMatMul);
    const session = await ort.InferenceSession.create(bytes);
    const want = (await session.run({ x: new ort.Tensor('float32', x, xShape), z: new ort.Tensor('float32', z, zShape) })).y;
    expect(worstRelativeError(got.data, want.data as Float32Array)).toBeLessThanOrEqual(1e-5);
  });
});

describe('constant folding keeps shape arithmetic integer', () => {
  it('Where(Equal(shape, -1), ones, shape) on a Shape chain folds to the integer shape a Reshape reads', async () => {
    // The pattern torch exports for x.expand(-1, ...) / view(-1, ...): replace -1 entries.
    const bytes = encodeModel({
      opset: 13,
      nodes: [
        node('Shape', ['x'], ['s']),
        node('Equal', ['target', 'minus1'], ['isMinus']),
        node('Where', ['isMinus', 's', 'target'], ['resolved']),
        node('Reshape', ['x', 'resolved'], ['y']),
      ],
      initializers: [intTensor('target', [4], [-1, 5, 4, 3]), intTensor('minus1', [], [-1])],
      inputs: [{ name: 'x', shape: ['N', 5, 4, 3] }],
      outputs: [{ name: 'y' }],
    });
    const model = await loadOnnx(bytes, { backend: 'js' });
    const x = new Tensor([2, 5, 4, 3], randomInput([120], 1));
    const y = (await model.run({ x })).y;
    expect(y.shape).toEqual([2, 5, 4, 3]);
    expect(Array.from(y.data)).toEqual(Array.from(x.data));
  });

  it('Range of integers stays integer, of floats stays float (hand-worked)', async () => {
    const bytes = encodeModel({
      opset: 13,
      nodes: [node('Range', ['a', 'b', 'd'], ['r']), node('Add', ['x', 'r'], ['y'])],
      initializers: [floatTensor('a', [], [1]), floatTensor('b', [], [2.1]), floatTensor('d', [], [0.25])],
      inputs: [{ name: 'x', shape: [5] }],
      outputs: [{ name: 'y' }],
    });
    const model = await loadOnnx(bytes, { backend: 'js' });
    const y = (await model.run({ x: new Tensor([5], new Float32Array(5)) })).y;
    expect(Array.from(y.data)).toEqual([1, 1.25, 1.5, 1.75, 2]);
  });
});

describe('math ops refuse bad attributes and inputs, by name', () => {
  const refused: Array<[string, NodeSpec[], TensorSpec[], number[], RegExp, number?]> = [
    ['Tile repeats of the wrong length', [node('Tile', ['x', 'r'], ['y'])], [intTensor('r', [2], [1, 2])], [1, 3, 4, 5], /repeats holds 2 values but the input has rank 4/],
    ['Tile negative repeats', [node('Tile', ['x', 'r'], ['y'])], [intTensor('r', [4], [1, -1, 1, 1])], [1, 3, 4, 5], /repeats \[1, -1, 1, 1\] must be non-negative/],
    ['Expand to an incompatible shape', [node('Expand', ['x', 's'], ['y'])], [intTensor('s', [4], [1, 2, 4, 5])], [1, 3, 4, 5], /cannot be broadcast together/],
    ['ConstantOfShape value of two elements', [node('Shape', ['x'], ['s']), node('ConstantOfShape', ['s'], ['y'], { value: { t: floatTensor('v', [2], [1, 2]) } })], [], [1, 3, 4, 5], /'value' must hold exactly one element, got 2/],
    ['Range delta 0', [node('Range', ['a', 'b', 'd'], ['r']), node('Add', ['x', 'r'], ['y'])], [floatTensor('a', [], [0]), floatTensor('b', [], [3]), floatTensor('d', [], [0])], [3], /delta must not be 0/],
    ['Range from tensor data', [node('ReduceMax', ['x'], ['m'], { keepdims: { i: 0 } }), node('Range', ['a', 'm', 'd'], ['y'])], [floatTensor('a', [], [0]), floatTensor('d', [], [1])], [3], /limit must be known before the run/],
    ['Einsum without equation', [node('Einsum', ['x', 'x'], ['y'])], [], [2, 2], /attribute 'equation' is required/, 12],
    ['Einsum with three operands', [node('Einsum', ['x', 'x', 'x'], ['y'], { equation: { s: 'ij,jk,kl->il' } })], [], [2, 2], /3 operands; convnode runs Einsum with one or two/, 12],
    ['Einsum term count mismatch', [node('Einsum', ['x', 'x'], ['y'], { equation: { s: 'ij->ji' } })], [], [2, 2], /one letter term per input \(2\)/, 12],
    ['Einsum rank mismatch', [node('Einsum', ['x'], ['y'], { equation: { s: 'ijk->kji' } })], [], [2, 2], /term 'ijk' does not match input 0 of rank 2/, 12],
    ['Einsum unknown output letter', [node('Einsum', ['x'], ['y'], { equation: { s: 'ij->iz' } })], [], [2, 2], /output letter 'z' appears in no input/, 12],
    ['Pow with one input', [node('Pow', ['x'], ['y'])], [], [3], /Pow 'pow_y': takes 2 inputs, got 1/],
    ['ScatterND reduction add before opset 16', [node('ScatterND', ['x', 'i', 'x'], ['y'], { reduction: { s: 'add' } })], [intTensor('i', [1, 1], [0])], [1, 3], /reduction 'add' is not one of none at opset 13/],
    ['ScatterND index out of range', [node('ScatterND', ['x', 'i', 'u'], ['y'])], [intTensor('i', [1, 1], [5]), floatTensor('u', [1, 3], [1, 2, 3])], [2, 3], /index 5 on axis 0 is outside \[-2, 1\]/],
    ['ScatterND updates of the wrong shape', [node('ScatterND', ['x', 'i', 'u'], ['y'])], [intTensor('i', [1, 1], [0]), floatTensor('u', [1, 2], [1, 2])], [2, 3], /updates have shape \[1, 2\], indices and data need \[1, 3\]/],
    ['Dropout in training mode with a ratio', [node('Dropout', ['x', 'r', 't'], ['y'])], [floatTensor('r', [], [0.5]), { name: 't', dims: [], dataType: 9, rawData: Uint8Array.of(1) }], [3], /training_mode must be a constant false \(or the ratio a constant 0\)/],
    ['Mod fmod 2', [node('Mod', ['x', 'x'], ['y'], { fmod: { i: 2 } })], [], [3], /attribute 'fmod' must be 0 or 1, got 2/],
    ['Where with two inputs', [node('Where', ['x', 'x'], ['y'])], [], [3], /takes 3 inputs, got 2/],
  ];
  it.each(refused)('%s', async (_, nodes, initializers, shape, message, opset) => {
    const bytes = encodeModel({ opset: opset ?? 13, nodes, initializers, inputs: [{ name: 'x', shape: null }], outputs: [{ name: 'y' }] });
    const error = await loadOnnx(bytes, { backend: 'js' })
      .then((m) => m.run({ x: new Tensor(shape, new Float32Array(shape.reduce((a, b) => a * b, 1))) }))
      .then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(message);
  });

  it('Einsum letters of different sizes: a ShapeError naming the letter', async () => {
    const bytes = encodeModel({ opset: 12, nodes: [node('Einsum', ['x', 'z'], ['y'], { equation: { s: 'ij,jk->ik' } })], inputs: [{ name: 'x', shape: null }, { name: 'z', shape: null }], outputs: [{ name: 'y' }] });
    const model = await loadOnnx(bytes, { backend: 'js' });
    expect(() => model.runSync({ x: new Tensor([2, 3], new Float32Array(6)), z: new Tensor([4, 2], new Float32Array(8)) })).toThrow(/letter 'j' is 3 in one place and 4 in another/);
  });

  it('an OnnxError for unsupported bits is typed', async () => {
    const bytes = encodeModel({ opset: 12, nodes: [node('Einsum', ['x'], ['y'], { equation: { s: 'i...j...->ij' } })], inputs: [{ name: 'x', shape: null }], outputs: [{ name: 'y' }] });
    await expect(loadOnnx(bytes, { backend: 'js' })).rejects.toBeInstanceOf(OnnxError);
  });
});
