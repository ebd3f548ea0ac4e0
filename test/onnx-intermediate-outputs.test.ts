/**
 * run(feeds, { outputs }) fetches any value the loaded model computes, by name, without editing
 * the model; loadOnnx's `keep` stops fusion from absorbing a value a caller wants; and a folded
 * constant that is also a graph output (an Identity of a shared initializer, as the visualiser's
 * edited models declare) loads and is returned, as onnxruntime returns it (issue 12).
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ParameterError } from '../lib/errors.js';
import { loadOnnx } from '../lib/onnx/index.js';
import { Tensor } from '../lib/tensor.js';
import { availableBackends } from './helpers/backends.js';
import { randomInput, worstRelativeError } from './helpers/numeric.js';
import { encodeModel, floatTensor, node } from './onnx-model-builder.js';

const SHAPE = (n: number) => [n, 2, 5, 5];

/**
 * x -> Conv (bias through an Identity of the initializer, as torch emits for shared weights)
 * -> 'conv' -> Relu -> 'act' -> Mul by a Constant node's value -> 'y'.
 */
function modelBytes(extraOutputs: string[]): Uint8Array {
  return encodeModel({
    opset: 13,
    nodes: [
      node('Identity', ['bias'], ['bias_shared']),
      node('Conv', ['x', 'w', 'bias_shared'], ['conv'], { pads: { ints: [1, 1, 1, 1] } }),
      node('Relu', ['conv'], ['act']),
      node('Constant', [], ['gain'], { value: { t: floatTensor('gain', [], [1.5]) } }),
      node('Mul', ['act', 'gain'], ['y']),
    ],
    initializers: [floatTensor('w', [3, 2, 3, 3], randomInput([54], 2)), floatTensor('bias', [3], [0.5, -0.25, 1])],
    inputs: [{ name: 'x', shape: ['N', 2, 5, 5] }],
    outputs: [{ name: 'y' }, ...extraOutputs.map((name) => ({ name }))],
  });
}

async function onnxruntimeValues(names: string[], data: Float32Array, shape: number[]): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(modelBytes(names.filter((n) => n !== 'y')));
  const result = await session.run({ x: new ort.Tensor('float32', data.slice(), shape) });
  return Object.fromEntries(names.map((n) => [n, result[n].data as Float32Array]));
}

describe.each(availableBackends())('intermediate values by name (%s)', (backend) => {
  it('an Identity of a shared initializer declared a graph output loads, and is returned', async () => {
    const model = await loadOnnx(modelBytes(['bias_shared']), { backend });
    for (const n of [1, 3]) {
      const data = randomInput(SHAPE(n), n);
      const got = await model.run({ x: new Tensor(SHAPE(n), data) });
      const want = await onnxruntimeValues(['y', 'bias_shared'], data, SHAPE(n));
      expect(Array.from(got.bias_shared.data)).toEqual([0.5, -0.25, 1]);
      expect(got.bias_shared.shape).toEqual([3]);
      expect(worstRelativeError(got.y.data, want.y)).toBeLessThanOrEqual(1e-5);
    }
  });

  it('outputs: [...] fetches a kept value before a fused activation, one after it, a Constant and the input', async () => {
    const model = await loadOnnx(modelBytes([]), { backend, keep: ['conv'] });
    for (const n of [1, 3]) {
      const data = randomInput(SHAPE(n), 10 + n);
      const got = await model.run({ x: new Tensor(SHAPE(n), data) }, { outputs: ['conv', 'act', 'gain', 'x'] });
      const want = await onnxruntimeValues(['conv', 'act'], data, SHAPE(n));
      expect(Object.keys(got)).toEqual(['conv', 'act', 'gain', 'x']);
      expect(got.conv.shape).toEqual([n, 3, 5, 5]);
      expect(worstRelativeError(got.conv.data, want.conv)).toBeLessThanOrEqual(1e-5);
      expect(worstRelativeError(got.act.data, want.act)).toBeLessThanOrEqual(1e-5);
      expect(Array.from(got.gain.data)).toEqual([1.5]);
      expect(Array.from(got.x.data)).toEqual(Array.from(data));
      // The graph outputs are still what a plain run returns, from the same cached model.
      const plain = model.runSync({ x: new Tensor(SHAPE(n), data) });
      expect(Object.keys(plain)).toEqual(['y']);
      expect(worstRelativeError(plain.y.data, Float32Array.from(want.act, (v) => v * 1.5))).toBeLessThanOrEqual(1e-5);
    }
  });

  it('a value fusion absorbed is refused with the way to keep it; fuse: false keeps every value', async () => {
    const fused = await loadOnnx(modelBytes([]), { backend });
    const x = new Tensor(SHAPE(1), randomInput(SHAPE(1), 3));
    await expect(fused.run({ x }, { outputs: ['conv'] })).rejects.toThrow(/'conv', which this loaded model does not compute .*keep/);
    const unfused = await loadOnnx(modelBytes([]), { backend, fuse: false });
    const want = await onnxruntimeValues(['conv'], x.data, SHAPE(1));
    expect(worstRelativeError((await unfused.run({ x }, { outputs: ['conv'] })).conv.data, want.conv)).toBeLessThanOrEqual(1e-5);
  });
});

describe('bad outputs / keep options', () => {
  it.each([
    [{ outputs: 'conv' }, /options.outputs must be a non-empty array of value names/],
    [{ outputs: [] }, /options.outputs must be a non-empty array/],
    [{ outputs: ['nope'] }, /'nope', which this loaded model does not compute/],
  ])('run(%j)', async (options, message) => {
    const model = await loadOnnx(modelBytes([]), { backend: 'js' });
    const x = new Tensor(SHAPE(1), new Float32Array(50));
    expect(() => model.runSync({ x }, options as never)).toThrow(ParameterError);
    expect(() => model.runSync({ x }, options as never)).toThrow(message);
  });

  it('keep must be an array of names', async () => {
    await expect(loadOnnx(modelBytes([]), { backend: 'js', keep: 'conv' as never })).rejects.toThrow(/options.keep must be an array of value names/);
  });
});
