/**
 * Batched MatMul (both operands at run time, numpy.matmul broadcasting) on the packed GEMM of
 * both backends, against a naive float64 triple loop written here: attention's shapes (many
 * small windows, a few large heads), broadcast A and B, edge sizes below and around the
 * micro-kernel tiles, a fused activation, sync and async, on every ISA this CPU has and at 1
 * and 2 threads. Then bad shapes and lengths, refused alike by both backends.
 */
import { describe, expect, it } from 'vitest';
import type { Activation, Backend } from '../lib/backends/backend.js';
import { jsBackend } from '../lib/backends/js.js';
import { availableIsas, setIsa, setNumThreads } from '../lib/backends/native.js';
import { useNativeBackend } from './helpers/backends.js';
import { ShapeError } from '../lib/errors.js';
import { expectClose, randomFloats, referenceActivation, seededRandom } from './helpers/numeric.js';

let native: Backend;
useNativeBackend((loaded) => {
  native = loaded;
});

const numel = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

/** The definition: out[..., i, j] = act(sum_p a[..., i, p] b[..., p, j]), batch dims broadcast. */
function naiveMatMul(a: Float32Array, aShape: number[], b: Float32Array, bShape: number[], activation: Activation): Float32Array {
  const [m, k] = aShape.slice(-2);
  const n = bShape[bShape.length - 1];
  const aBatch = aShape.slice(0, -2), bBatch = bShape.slice(0, -2);
  const rank = Math.max(aBatch.length, bBatch.length);
  const pad = (s: number[]) => [...Array<number>(rank - s.length).fill(1), ...s];
  const ad = pad(aBatch), bd = pad(bBatch);
  const outBatch = ad.map((d, i) => Math.max(d, bd[i]));
  const out = new Float32Array(numel(outBatch) * m * n);
  for (let t = 0; t < numel(outBatch); t++) {
    // Row-major multi-index of t, then each operand's own (broadcast) matrix index.
    let rest = t, ai = 0, bi = 0, as = 1, bs = 1;
    for (let axis = rank - 1; axis >= 0; axis--) {
      const c = rest % outBatch[axis];
      rest = Math.floor(rest / outBatch[axis]);
      ai += (ad[axis] === 1 ? 0 : c) * as;
      bi += (bd[axis] === 1 ? 0 : c) * bs;
      as *= ad[axis];
      bs *= bd[axis];
    }
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) sum += a[ai * m * k + i * k + p] * b[bi * k * n + p * n + j];
        out[t * m * n + i * n + j] = referenceActivation(sum, activation);
      }
    }
  }
  return out;
}

const CASES: { name: string; a: number[]; b: number[]; activation?: Activation }[] = [
  { name: 'swin window attention Q K^T', a: [2, 3, 49, 32], b: [2, 3, 32, 49] },
  { name: 'vit head attn V', a: [1, 4, 197, 197], b: [1, 4, 197, 64] },
  { name: 'plain 2-D', a: [37, 70], b: [70, 23] },
  { name: 'one row, one column', a: [1, 5], b: [5, 1] },
  { name: 'edges around the tiles', a: [3, 17, 9], b: [3, 9, 33] },
  { name: 'B broadcast over A batches', a: [4, 2, 6, 8], b: [8, 5] },
  { name: 'A broadcast, rank mismatch', a: [6, 8], b: [3, 1, 8, 7] },
  { name: 'both broadcast along different axes', a: [2, 1, 5, 4], b: [1, 3, 4, 6] },
  { name: 'with a fused relu', a: [2, 19, 13], b: [2, 13, 21], activation: { kind: 'relu' } },
  { name: 'with a fused sigmoid', a: [3, 11, 40], b: [3, 40, 10], activation: { kind: 'sigmoid' } },
];

function inputsOf(c: (typeof CASES)[number], seed: number) {
  const random = seededRandom(seed);
  return { a: randomFloats(numel(c.a), random), b: randomFloats(numel(c.b), random) };
}

function outputLength(aShape: number[], bShape: number[]): number {
  const [m] = aShape.slice(-2);
  const n = bShape[bShape.length - 1];
  const rank = Math.max(aShape.length, bShape.length) - 2;
  let batches = 1;
  for (let i = 0; i < rank; i++) {
    const da = aShape[aShape.length - 3 - i] ?? 1, db = bShape[bShape.length - 3 - i] ?? 1;
    batches *= Math.max(da, db);
  }
  return batches * m * n;
}

describe('batched MatMul, pure-JS backend', () => {
  for (const [index, c] of CASES.entries()) {
    it(c.name, async () => {
      const { a, b } = inputsOf(c, 100 + index);
      const activation = c.activation ?? { kind: 'none' };
      const expected = naiveMatMul(a, c.a, b, c.b, activation);
      const out = new Float32Array(outputLength(c.a, c.b)).fill(Number.NaN);
      jsBackend.matMulSync(a, c.a, b, c.b, out, activation);
      expectClose(out, expected, `js ${c.name}`);
      const outAsync = new Float32Array(out.length).fill(Number.NaN);
      await jsBackend.matMul(a, c.a, b, c.b, outAsync, activation);
      expectClose(outAsync, expected, `js async ${c.name}`);
    });
  }
});

describe('batched MatMul, native backend', () => {
  for (const isa of availableIsas()) {
    for (const threads of [1, 2]) {
      it(`${isa}, ${threads} thread(s): every case matches the definition, sync and async`, async () => {
        setIsa(isa);
        setNumThreads(threads);
        for (const [index, c] of CASES.entries()) {
          const { a, b } = inputsOf(c, 100 + index);
          const activation = c.activation ?? { kind: 'none' };
          const expected = naiveMatMul(a, c.a, b, c.b, activation);
          const out = new Float32Array(outputLength(c.a, c.b)).fill(Number.NaN);
          native.matMulSync(a, c.a, b, c.b, out, activation);
          expectClose(out, expected, `${isa} ${threads}t ${c.name}`);
          const outAsync = new Float32Array(out.length).fill(Number.NaN);
          await native.matMul(a, c.a, b, c.b, outAsync, activation);
          expectClose(outAsync, expected, `${isa} ${threads}t async ${c.name}`);
        }
      });
    }
  }
});

describe('batched MatMul refuses bad input alike on both backends', () => {
  const a = new Float32Array(2 * 3 * 4), b = new Float32Array(2 * 4 * 5), out = new Float32Array(2 * 3 * 5);
  const bad: { name: string; call: (backend: Backend) => void; message: RegExp }[] = [
    { name: 'inner dimensions differ', call: (be) => be.matMulSync(a, [2, 3, 4], b, [2, 5, 4], out), message: /inner dimensions differ/ },
    { name: 'rank below 2', call: (be) => be.matMulSync(a, [24], b, [2, 4, 5], out), message: /aShape must list 2 or more/ },
    { name: 'batches that do not broadcast', call: (be) => be.matMulSync(new Float32Array(36), [3, 3, 4], b, [2, 4, 5], new Float32Array(45)), message: /do not broadcast/ },
    { name: 'a too short', call: (be) => be.matMulSync(a.subarray(1), [2, 3, 4], b, [2, 4, 5], out), message: /a has 23 elements/ },
    { name: 'output too short', call: (be) => be.matMulSync(a, [2, 3, 4], b, [2, 4, 5], out.subarray(1)), message: /output has 29 elements/ },
    { name: 'a zero dimension', call: (be) => be.matMulSync(a, [0, 3, 4], b, [2, 4, 5], out), message: /positive integer/ },
  ];
  for (const { name, call, message } of bad) {
    it(name, () => {
      expect(() => call(jsBackend)).toThrow(ShapeError);
      expect(() => call(jsBackend)).toThrow(message);
      expect(() => call(native)).toThrow(ShapeError);
      expect(() => call(native)).toThrow(message);
    });
  }
  it('the native async form rejects (never throws) and the addon refuses an output that overlaps B', async () => {
    await expect(native.matMul(a, [2, 3, 4], b, [2, 5, 4], out)).rejects.toThrow(/inner dimensions differ/);
    const shared = new Float32Array(16);
    expect(() => native.matMulSync(new Float32Array(4), [2, 2], shared.subarray(0, 4), [2, 2], shared.subarray(2, 6)))
      .toThrow(/overlap|disjoint|share/i);
  });
});
