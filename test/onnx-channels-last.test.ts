/**
 * ConvNeXt's channels-last blocks run on NCHW (lib/onnx/fusion-channels-last.ts): in-memory
 * graphs of the forms torchvision exports (LayerNorm2d: Transpose, LayerNormalization,
 * Transpose; the CNBlock: Transpose, LayerNorm, MatMul + bias, GELU written with Erf, MatMul +
 * bias, Transpose, layer-scale Mul, residual Add) match onnxruntime-node and the unfused model
 * at batch 1 and 3 on both backends, and the summary shows the transposes gone; forms that must
 * not be rewritten (an inner value read elsewhere or fetched by the caller, a constant that
 * varies along another axis, no way back to NCHW) keep their transposes and still match.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { loadOnnx } from '../lib/onnx/index.js';
import { Tensor } from '../lib/tensor.js';
import { availableBackends } from './helpers/backends.js';
import { randomInput, worstRelativeError } from './helpers/numeric.js';
import { encodeModel, floatTensor, node, type NodeSpec, type TensorSpec } from './onnx-model-builder.js';

const C = 6;
const HIDDEN = 12;

const values = (count: number, seed: number, scale = 1, offset = 0) => randomInput([count], seed).map((v) => offset + scale * v);

/** The weights every form draws from. */
function initializers(): TensorSpec[] {
  return [
    floatTensor('ln_scale', [C], values(C, 1, 0.3, 1)),
    floatTensor('ln_bias', [C], values(C, 2, 0.5)),
    floatTensor('w1', [C, HIDDEN], values(C * HIDDEN, 3, 0.5)),
    floatTensor('b1', [HIDDEN], values(HIDDEN, 4, 0.2)),
    floatTensor('w2', [HIDDEN, C], values(HIDDEN * C, 5, 0.5)),
    floatTensor('b2', [C], values(C, 6, 0.2)),
    floatTensor('layer_scale', [C, 1, 1], values(C, 7, 0.4, 0.5)),
    floatTensor('sqrt2', [], [Math.SQRT2]),
    floatTensor('one', [], [1]),
    floatTensor('half', [], [0.5]),
    floatTensor('row_vector', [1, 4, 1, 1], values(4, 8)),
  ];
}

const toNhwc = (x: string, y: string) => node('Transpose', [x], [y], { perm: { ints: [0, 2, 3, 1] } });
const toNchw = (x: string, y: string) => node('Transpose', [x], [y], { perm: { ints: [0, 3, 1, 2] } });
const layerNorm = (x: string, y: string) => node('LayerNormalization', [x, 'ln_scale', 'ln_bias'], [y], { axis: { i: -1 }, epsilon: { f: 1e-6 } });

/** torchvision's CNBlock after its depthwise conv (here the input itself). */
function blockNodes(exposeHidden = false): NodeSpec[] {
  return [
    toNhwc('x', 't'),
    layerNorm('t', 'n'),
    node('MatMul', ['n', 'w1'], ['m1']),
    node('Add', ['m1', 'b1'], ['h']),
    node('Div', ['h', 'sqrt2'], ['hs']),
    node('Erf', ['hs'], ['he']),
    node('Add', ['he', 'one'], ['hp']),
    node('Mul', ['h', 'hp'], ['hm']),
    node('Mul', ['hm', 'half'], ['g']),
    node('MatMul', ['g', 'w2'], ['m2']),
    node('Add', ['m2', 'b2'], exposeHidden ? ['o'] : ['o']),
    toNchw('o', 'back'),
    node('Mul', ['back', 'layer_scale'], ['scaled']),
    node('Add', ['scaled', 'x'], ['y']),
  ];
}

interface Form {
  readonly name: string;
  readonly nodes: NodeSpec[];
  readonly extraOutputs?: string[];
  readonly transposesLeft: number;
  readonly keep?: string[];
}

const FORMS: Form[] = [
  { name: 'LayerNorm2d (Transpose, LayerNormalization, Transpose)', nodes: [toNhwc('x', 't'), layerNorm('t', 'n'), toNchw('n', 'y')], transposesLeft: 0 },
  { name: 'a ConvNeXt block (LayerNorm, MatMul + bias, Erf GELU, MatMul + bias, layer scale, residual)', nodes: blockNodes(), transposesLeft: 0 },
  {
    name: 'the GELU value also a graph output: left channels-last',
    nodes: blockNodes(), extraOutputs: ['g'], transposesLeft: 2,
  },
  { name: 'the GELU value kept by the caller: left channels-last', nodes: blockNodes(), keep: ['g'], transposesLeft: 2 },
  {
    name: 'a constant varying along H (not the channel axis): left channels-last',
    nodes: [toNhwc('x', 't'), node('Mul', ['t', 'row_vector'], ['m']), toNchw('m', 'y')], transposesLeft: 2,
  },
  {
    name: 'no Transpose back to NCHW: left channels-last',
    nodes: [toNhwc('x', 't'), layerNorm('t', 'y')], transposesLeft: 1,
  },
];

describe.each(availableBackends())('channels-last blocks on NCHW (%s)', (backend) => {
  it.each(FORMS)('$name', async (form) => {
    const bytes = encodeModel({
      opset: 17, nodes: form.nodes, initializers: initializers(),
      inputs: [{ name: 'x', shape: null }], outputs: [{ name: 'y' }, ...(form.extraOutputs ?? []).map((name) => ({ name }))],
    });
    const session = await ort.InferenceSession.create(bytes);
    const fused = await loadOnnx(bytes, { backend, ...(form.keep ? { keep: form.keep } : {}) });
    const unfused = await loadOnnx(bytes, { backend, fuse: false });
    for (const n of [1, 3]) {
      const shape = [n, C, 4, 5];
      const data = randomInput(shape, 11 + n).map((v) => 1 + 3 * v);
      const types = fused.summaryRows(shape).map((r) => r.type);
      expect(types.filter((t) => t === 'Transpose').length, types.join(', ')).toBe(form.transposesLeft);
      const want = (await session.run({ x: new ort.Tensor('float32', data.slice(), shape) })).y;
      const got = (await fused.run({ x: new Tensor(shape, data) })).y;
      const plain = (await unfused.run({ x: new Tensor(shape, data) })).y;
      expect(got.shape).toEqual(want.dims);
      expect(worstRelativeError(got.data, want.data as Float32Array), `vs onnxruntime, batch ${n}`).toBeLessThanOrEqual(1e-4);
      expect(worstRelativeError(got.data, plain.data), `vs unfused, batch ${n}`).toBeLessThanOrEqual(1e-4);
      if (form.keep) {
        const kept = (await fused.run({ x: new Tensor(shape, data) }, { outputs: form.keep }))[form.keep[0]];
        expect(kept.shape).toEqual([n, 4, 5, HIDDEN]);
      }
    }
  });

  it('a model cannot name the internal channel LayerNorm op', async () => {
    const bytes = encodeModel({
      opset: 17, nodes: [node('convnode.ChannelLayerNorm', ['x', 'ln_scale'], ['y'])], initializers: initializers(),
      inputs: [{ name: 'x', shape: null }], outputs: [{ name: 'y' }],
    });
    await expect(loadOnnx(bytes, { backend })).rejects.toThrow(/unsupported operator convnode\.ChannelLayerNorm/);
  });
});
