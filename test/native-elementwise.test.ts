/**
 * The native element-wise engine against the pure-JS kernels (the oracle, float64 arithmetic):
 * every activation kind, every binary op under the broadcast forms a CNN uses (a
 * squeeze-and-excitation gate, a per-channel bias, a scalar, equal shapes, an outer product),
 * the per-channel and per-image affine step, sync and async, in place, on every ISA this CPU has,
 * at 1 and 2 threads and on tensors large enough to be split over the pool. Then bad input: each
 * refused with a typed error naming the argument, as the JS backend refuses it.
 */
import { describe, expect, it } from 'vitest';
import { ACTIVATION_KINDS, type Activation } from '../lib/activation.js';
import type { Backend, BinaryOp } from '../lib/backends/backend.js';
import { jsBackend } from '../lib/backends/js.js';
import { availableIsas, setIsa, setNumThreads } from '../lib/backends/native.js';
import { useNativeBackend } from './helpers/backends.js';
import { ParameterError, ShapeError } from '../lib/errors.js';
import { randomInput } from './helpers/numeric.js';

let native: Backend;
useNativeBackend((loaded) => {
  native = loaded;
});

/** Each kind with parameters away from their defaults where it has any. */
const ACTIVATIONS: Activation[] = ACTIVATION_KINDS.map((kind): Activation => {
  switch (kind) {
    case 'leakyRelu':
      return { kind, alpha: Math.fround(0.15) };
    case 'elu':
      return { kind, alpha: Math.fround(1.3) };
    case 'hardSigmoid':
      // Parameters as ONNX stores them (float32): the native kernels read them as floats.
      return { kind, alpha: Math.fround(1 / 6), beta: 0.5 };
    case 'clip':
      return { kind, min: -0.75, max: 1.25 };
    default:
      return { kind };
  }
});

/**
 * Relative to each value (the activations of small inputs must be accurate too) with an absolute
 * floor of 1e-30. 4e-6 is ~64 float ulp: the vector forms are within a few ulp of the float64
 * definition (kernels_test measures them), geluTanh's tail within ~30.
 */
function expectNear(actual: Float32Array, expected: Float32Array, label: string, tolerance = 4e-6): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(a) && Number.isNaN(e)) continue;
    if (a === e) continue;
    if (!(Math.abs(a - e) <= tolerance * Math.abs(e) + 1e-30)) expect.fail(`${label}: element ${i} is ${a}, expected ${e}`);
  }
}

/** Bit-for-bit equality (NaN equal to NaN); vitest's toEqual walks typed arrays far too slowly. */
function expectSame(actual: Float32Array, expected: Float32Array, label: string): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (Object.is(actual[i], expected[i]) || (actual[i] === expected[i] && actual[i] !== 0)) continue;
    if (Number.isNaN(actual[i]) && Number.isNaN(expected[i])) continue;
    expect.fail(`${label}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
  }
}

/** Inputs in [-6, 6) with NaN, 0, -0 and +-30 scattered in. */
function inputs(length: number, seed: number): Float32Array {
  const data = randomInput([length], seed).map((x) => x * 3);
  const specials = [NaN, 0, -0, 30, -30];
  for (let i = 5; i < length; i += 41) data[i] = specials[(i / 41) % specials.length | 0];
  return data;
}

const isas = () => availableIsas();

describe('native unary', () => {
  it.each([1, 2])('matches the JS kernels for every kind and ISA (%i threads)', async (threads) => {
    setNumThreads(threads);
    for (const isa of isas()) {
      setIsa(isa);
      for (const length of [1, 15, 64, 1001, 200_003]) {
        const input = inputs(length, length);
        for (const activation of ACTIVATIONS) {
          const label = `${isa} ${activation.kind} n${length} ${threads}t`;
          const want = new Float32Array(length);
          jsBackend.unarySync(input, want, activation);
          const got = new Float32Array(length);
          native.unarySync(input, got, activation);
          expectNear(got, want, label);
          const asyncOut = new Float32Array(length);
          await native.unary(input, asyncOut, activation);
          expectSame(asyncOut, got, `${label} async`);
          const inPlace = input.slice();
          native.unarySync(inPlace, inPlace, activation);
          expectSame(inPlace, got, `${label} in place`);
        }
      }
    }
  });
});

describe('native binary', () => {
  const shapes: [number[], number[]][] = [
    [[2, 8, 7, 7], [2, 8, 1, 1]], // squeeze-and-excitation gate
    [[2, 8, 1, 1], [2, 8, 7, 7]],
    [[1, 16, 5, 5], [16, 1, 1]], // per-channel bias
    [[3, 5, 4], []], // scalar
    [[], [3, 5, 4]],
    [[2, 3, 9], [2, 3, 9]],
    [[6, 1], [1, 11]], // outer product
    [[4, 1, 3], [1, 5, 1]],
    [[1, 32, 64, 64], [1, 32, 64, 64]], // large enough to thread
    [[2, 64, 28, 28], [2, 64, 1, 1]],
  ];
  const ops: BinaryOp[] = ['add', 'sub', 'mul', 'div'];
  const broadcast = (a: number[], b: number[]) => {
    const rank = Math.max(a.length, b.length);
    return Array.from({ length: rank }, (_, i) => {
      const da = a[a.length - rank + i] ?? 1;
      const db = b[b.length - rank + i] ?? 1;
      return da === 1 ? db : da;
    });
  };
  const size = (s: number[]) => s.reduce((x, y) => x * y, 1);

  it.each([1, 2])('matches the JS kernels for every op and broadcast form (%i threads)', async (threads) => {
    setNumThreads(threads);
    for (const isa of isas()) {
      setIsa(isa);
      for (const [aShape, bShape] of shapes) {
        const outShape = broadcast(aShape, bShape);
        // b's values are kept away from 0 so a division never makes an infinity (whose limit
        // under an activation depends on the formula: see native/README.md).
        const a = inputs(size(aShape), 3);
        const b = randomInput(bShape, 4).map((x) => (x >= 0 ? x + 0.25 : x - 0.25));
        for (const op of ops) {
          for (const activation of [undefined, { kind: 'relu' } as Activation, { kind: 'sigmoid' } as Activation]) {
            const label = `${isa} ${op} [${aShape}] x [${bShape}] ${activation?.kind ?? 'plain'} ${threads}t`;
            const want = new Float32Array(size(outShape));
            jsBackend.binarySync(op, a, aShape, b, bShape, want, outShape, activation);
            const got = new Float32Array(want.length);
            native.binarySync(op, a, aShape, b, bShape, got, outShape, activation);
            // Without an activation both round one float op once: bit for bit.
            if (activation === undefined) expectSame(got, want, label);
            else expectNear(got, want, label);
            const asyncOut = new Float32Array(want.length);
            await native.binary(op, a, aShape, b, bShape, asyncOut, outShape, activation);
            expectSame(asyncOut, got, `${label} async`);
          }
        }
      }
    }
  });

  it('writes in place into an operand of the output shape', () => {
    const a = inputs(2 * 8 * 49, 9);
    const gate = randomInput([2, 8, 1, 1], 10);
    const want = new Float32Array(a.length);
    jsBackend.binarySync('mul', a, [2, 8, 7, 7], gate, [2, 8, 1, 1], want, [2, 8, 7, 7]);
    native.binarySync('mul', a, [2, 8, 7, 7], gate, [2, 8, 1, 1], a, [2, 8, 7, 7]);
    expectSame(a, want, 'in place');
  });
});

describe('native channelAffine', () => {
  it.each([1, 2])('matches the JS kernel per channel and per image, with and without scale / shift (%i threads)', async (threads) => {
    setNumThreads(threads);
    for (const isa of isas()) {
      setIsa(isa);
      for (const [batch, channels, plane] of [[1, 3, 1], [2, 5, 9], [3, 16, 49], [2, 64, 56 * 56]]) {
        const input = inputs(batch * channels * plane, plane);
        for (const perImage of [false, true]) {
          const count = perImage ? batch * channels : channels;
          const scale = randomInput([count], 5);
          const shift = randomInput([count], 6);
          for (const [s, t] of [[scale, shift], [scale, null], [null, shift]] as const) {
            for (const activation of [{ kind: 'none' }, { kind: 'relu' }, { kind: 'silu' }] as Activation[]) {
              const affine = { batch, channels, plane, scale: s, shift: t, activation };
              const label = `${isa} ${batch}x${channels}x${plane}${perImage ? ' per image' : ''} ${s ? 'scale' : ''}${t ? 'shift' : ''} ${activation.kind}`;
              const want = new Float32Array(input.length);
              jsBackend.channelAffineSync(input, affine, want);
              const got = new Float32Array(input.length);
              native.channelAffineSync(input, affine, got);
              expectNear(got, want, label);
              const asyncOut = new Float32Array(input.length);
              await native.channelAffine(input, affine, asyncOut);
              expectSame(asyncOut, got, `${label} async`);
              const inPlace = input.slice();
              await native.channelAffine(inPlace, affine, inPlace);
              expectSame(inPlace, got, `${label} in place`);
            }
          }
        }
      }
    }
  });
});

describe('native element-wise errors', () => {
  const x = new Float32Array(12);
  it('refuses bad unary calls naming the argument', () => {
    expect(() => native.unarySync(x, new Float32Array(11), { kind: 'relu' })).toThrow(/output holds 11 values, needs 12/);
    expect(() => native.unarySync(x, x, { kind: 'swish' as never })).toThrow(ParameterError);
    expect(() => native.unarySync([1, 2] as never, x, { kind: 'relu' })).toThrow(/input must be a Float32Array/);
    // Partly overlapping arrays: the kernel would read what it already overwrote.
    expect(() => native.unarySync(x.subarray(0, 8), x.subarray(2, 10), { kind: 'relu' })).toThrow(/must not share memory/);
  });
  it('refuses bad binary calls naming the argument', async () => {
    expect(() => native.binarySync('pow' as never, x, [12], x, [12], x, [12])).toThrow(/op must be one of add, sub, mul, div/);
    expect(() => native.binarySync('add', x, [3, 4], x, [3, 5], new Float32Array(15), [3, 5])).toThrow(ShapeError);
    expect(() => native.binarySync('add', x, [3, 4], x, [4], new Float32Array(12), [3, 5])).toThrow(/outShape \[3, 5\] must be the broadcast/);
    expect(() => native.binarySync('add', x, [3, 5], x, [5], new Float32Array(15), [3, 5])).toThrow(/a holds 12 values, needs 15/);
    const out = new Float32Array(24);
    expect(() => native.binarySync('add', out.subarray(0, 12), [12], x, [12], out.subarray(6, 18), [12])).toThrow(/must not share memory/);
    await expect(native.binary('add', x, [3, 4], x, [4], new Float32Array(12), [3, 5])).rejects.toThrow(ShapeError);
    // Both backends refuse the same call with the same kind of error.
    expect(() => jsBackend.binarySync('add', x, [3, 4], x, [4], new Float32Array(12), [3, 5])).toThrow(ShapeError);
  });
  it('refuses bad channelAffine calls naming the argument', async () => {
    const affine = { batch: 2, channels: 3, plane: 2, scale: new Float32Array(4), shift: null, activation: { kind: 'none' } as Activation };
    expect(() => native.channelAffineSync(x, affine, new Float32Array(12))).toThrow(/scale must hold 3 \(per channel\) or 6 \(per image and channel\) values, got 4/);
    await expect(native.channelAffine(x, affine, new Float32Array(12))).rejects.toThrow(ShapeError);
    expect(() => jsBackend.channelAffineSync(x, affine, new Float32Array(12))).toThrow(ShapeError);
    expect(() => native.channelAffineSync(x, { ...affine, scale: null, plane: 3 }, new Float32Array(18))).toThrow(/input holds 12 values/);
    expect(() => native.channelAffineSync(x, { ...affine, scale: null, batch: -1 }, x)).toThrow(/batch must be a non-negative integer/);
  });
});
