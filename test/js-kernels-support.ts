/**
 * Helpers for the js-kernels tests: a seeded random source (so a failing sweep case can be
 * re-run exactly) and an element-wise comparison with a relative tolerance.
 */
import { expect } from 'vitest';

/** mulberry32: a tiny seeded PRNG; values in [-1, 1). */
export function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

export function randomArray(length: number, random: () => number): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = random();
  return out;
}

/**
 * Expects |actual - expected| <= tolerance * max(1, |expected|) element-wise (relative 1e-4,
 * absolute near zero, where float32 cancellation makes relative error meaningless).
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string, tolerance = 1e-4): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const ok = Number.isFinite(a) && Math.abs(a - e) <= tolerance * Math.max(1, Math.abs(e));
    if (!ok) {
      // One failing element with its index is more useful than thousands of diffs.
      expect.fail(`${label}: element ${i} is ${a}, expected ${e}`);
    }
  }
}

/** The activation formulas, written out here independently of lib/kernels/activation.ts. */
export type TestActivation = { kind: 'none' | 'relu' | 'relu6' | 'leakyRelu' | 'hardSwish' | 'sigmoid'; alpha?: number };

export function referenceActivation(x: number, a: TestActivation): number {
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
  }
}

export const ALL_ACTIVATIONS: TestActivation[] = [
  { kind: 'none' },
  { kind: 'relu' },
  { kind: 'relu6' },
  { kind: 'leakyRelu' },
  { kind: 'leakyRelu', alpha: 0.2 },
  { kind: 'hardSwish' },
  { kind: 'sigmoid' },
];
