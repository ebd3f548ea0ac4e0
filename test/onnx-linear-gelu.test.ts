/**
 * A GELU after a Linear (Gemm, or MatMul + Add by a constant) runs as an element-wise pass over
 * the Linear's output, not in its GEMM epilogue (lib/onnx/ops/linear.ts, measured there): still
 * one step named after the fused nodes, matching onnxruntime-node on every backend, erf and tanh
 * forms, a row count that leaves a partial GEMM tile (37 = 2 x 16 + 5), sync and async runs.
 */
import { describe, expect, it } from 'vitest';
import { loadOnnx } from '../lib/onnx/index.js';
import { Tensor } from '../lib/tensor.js';
import { availableBackends } from './helpers/backends.js';
import { expectMatchesOnnxruntimeOn } from './helpers/ort-compare.js';
import { randomInput } from './helpers/numeric.js';
import { encodeModel, floatTensor, node, type Attr } from './onnx-model-builder.js';

const IN = 24;
const OUT = 40;
const weight = randomInput([IN * OUT], 11).map((v) => v * 0.4);
const bias = randomInput([OUT], 12);

function gemmGelu(approximate?: string): Uint8Array {
  const gelu: Record<string, Attr> = approximate ? { approximate: { s: approximate } } : {};
  return encodeModel({
    opset: 20,
    nodes: [node('Gemm', ['x', 'w', 'b'], ['h'], { transB: { i: 1 } }), node('Gelu', ['h'], ['y'], gelu)],
    initializers: [floatTensor('w', [OUT, IN], weight), floatTensor('b', [OUT], bias)],
    inputs: [{ name: 'x', shape: ['N', IN] }],
    outputs: [{ name: 'y' }],
  });
}

function matMulAddGelu(): Uint8Array {
  return encodeModel({
    opset: 20,
    nodes: [node('MatMul', ['x', 'w'], ['m']), node('Add', ['m', 'b'], ['h']), node('Gelu', ['h'], ['y'])],
    initializers: [floatTensor('w', [IN, OUT], weight), floatTensor('b', [OUT], bias)],
    inputs: [{ name: 'x', shape: [1, 'T', IN] }],
    outputs: [{ name: 'y' }],
  });
}

describe.each(availableBackends())('Linear + GELU vs onnxruntime-node (%s)', (backend) => {
  it('Gemm + Gelu (erf)', async () => {
    await expectMatchesOnnxruntimeOn(gemmGelu(), backend, [[1, IN], [37, IN]], 1e-5);
  });
  it('Gemm + Gelu (tanh)', async () => {
    await expectMatchesOnnxruntimeOn(gemmGelu('tanh'), backend, [[2, IN], [37, IN]], 1e-5);
  });
  it('MatMul + Add + Gelu over tokens, one step, sync and async alike', async () => {
    const bytes = matMulAddGelu();
    await expectMatchesOnnxruntimeOn(bytes, backend, [[1, 37, IN], [1, 5, IN]], 1e-5);
    const model = await loadOnnx(bytes, { backend });
    expect(model.summaryRows([1, 37, IN]).map((r) => r.type)).toEqual(['MatMul+Add+Gelu']);
    const x = new Tensor([1, 37, IN], randomInput([37 * IN], 5));
    const async = (await model.run({ x })).y.data;
    const sync = model.runSync({ x }).y.data;
    expect(Array.from(sync)).toEqual(Array.from(async));
  });
});
