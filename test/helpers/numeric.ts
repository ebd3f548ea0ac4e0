/**
 * What the kernel tests of both backends share: a seeded random source (so a failing sweep case
 * can be re-run exactly), an element-wise comparison with a relative tolerance, and the
 * activation formulas written out independently of lib/kernels/activation.ts.
 */
import { expect } from 'vitest';
import type { Activation } from '../../lib/backends/backend.js';

/** mulberry32: a tiny seeded PRNG; values in [-1, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

export function randomFloats(length: number, random: () => number): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = random();
  return out;
}

/**
 * Expects |actual - expected| <= tolerance * max(1, |expected|) element-wise (relative 1e-4,
 * absolute near zero, where float32 cancellation makes relative error meaningless). A NaN or
 * infinite element fails: the inputs these tests compare on are finite. Reports the first bad
 * element with its index, which is more useful than thousands of diffs.
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string, tolerance = 1e-4): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const ok = Number.isFinite(a) && Math.abs(a - e) <= tolerance * Math.max(1, Math.abs(e));
    if (!ok) expect.fail(`${label}: element ${i} is ${a}, expected ${e}`);
  }
}

/**
 * Every element written (finite: outputs start as NaN) and within `relative` x the largest
 * |expected| (at least 1): the bound for kernels that sum in another order than the reference,
 * where a small output can be the difference of large products.
 */
export function expectCloseToScale(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string, relative = 2e-5): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  let scale = 1;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  for (let i = 0; i < expected.length; i++) {
    if (!Number.isFinite(actual[i])) expect.fail(`${label}: output ${i} was not written (${actual[i]})`);
    if (Math.abs(actual[i] - expected[i]) > relative * scale) {
      expect.fail(`${label}: element ${i} is ${actual[i]}, expected ${expected[i]} (bound ${relative} x ${scale})`);
    }
  }
}

export function referenceActivation(x: number, a: Activation): number {
  switch (a.kind) {
    case 'none':
      return x;
    case 'relu':
      return Math.max(0, x);
    case 'relu6':
      return Math.min(6, Math.max(0, x));
    case 'leakyRelu':
      return x >= 0 ? x : (a.alpha ?? 0.01) * x;
    case 'hardSwish':
      return (x * Math.min(6, Math.max(0, x + 3))) / 6;
    case 'sigmoid':
      return 1 / (1 + Math.exp(-x));
    case 'clip':
      return Math.min(a.max ?? Infinity, Math.max(a.min ?? -Infinity, x));
    case 'elu':
      return x >= 0 ? x : (a.alpha ?? 1) * Math.expm1(x);
    case 'hardSigmoid':
      return Math.max(0, Math.min(1, (a.alpha ?? 0.2) * x + (a.beta ?? 0.5)));
    case 'silu':
      return x / (1 + Math.exp(-x));
    case 'tanh':
      return Math.tanh(x);
    case 'gelu':
      return (x * (1 + erf(x / Math.SQRT2))) / 2;
    case 'geluTanh':
      return (x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)))) / 2;
    case 'exp':
      return Math.exp(x);
    case 'softplus':
      return Math.log1p(Math.exp(x));
    case 'mish':
      return x * Math.tanh(Math.log1p(Math.exp(x)));
  }
}

/** erf by its Maclaurin series below |x| 4 (float64; cancellation leaves about 1e-9 at 4), ±1 beyond (1 - erf(4) is 1.5e-8). */
function erf(x: number): number {
  if (Number.isNaN(x)) return x;
  if (Math.abs(x) >= 4) return Math.sign(x);
  // erf x = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    const next = term / (2 * n + 1);
    sum += next;
    if (Math.abs(next) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/** Every activation kind, leakyRelu both with its default slope and with an explicit one. */
export const ALL_ACTIVATIONS: Activation[] = [
  { kind: 'none' },
  { kind: 'relu' },
  { kind: 'relu6' },
  { kind: 'leakyRelu' },
  { kind: 'leakyRelu', alpha: 0.2 },
  { kind: 'hardSwish' },
  { kind: 'sigmoid' },
];

/** Deterministic inputs in [-2, 2): a small LCG, so a failure reproduces exactly. */
export function randomInput(shape: readonly number[], seed: number): Float32Array {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  let state = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    data[i] = (state / 2 ** 32) * 4 - 2;
  }
  return data;
}

/** max over elements of |a - b| / max(1, |b|): the ONNX tolerance is 1e-4 of this. */
export function worstRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
  }
  return worst;
}
