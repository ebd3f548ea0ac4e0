import { describe, expect, it } from 'vitest';
import { ACTIVATION_KINDS, activate, activationKey, applyActivationTo, checkActivation, erf, toActivation } from '../lib/activation.js';

describe('activation definitions (lib/activation.ts)', () => {
  it('erf matches tabulated values to 1e-12', () => {
    // Abramowitz & Stegun table 7.1 / Python math.erf.
    const table: [number, number][] = [
      [0, 0],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [3, 0.9999779095030014],
      [-1.5, -0.9661051464753108],
    ];
    for (const [x, want] of table) expect(Math.abs(erf(x) - want)).toBeLessThan(1e-12);
    expect(erf(Number.NaN)).toBeNaN();
  });

  it('every kind gives its hand-worked value', () => {
    const cases: [Parameters<typeof activate>[1], number, number][] = [
      [{ kind: 'none' }, -2, -2],
      [{ kind: 'relu' }, -2, 0],
      [{ kind: 'relu6' }, 7, 6],
      [{ kind: 'clip', min: -1, max: 0.5 }, 0.7, 0.5],
      [{ kind: 'clip', min: -1, max: 0.5 }, -3, -1],
      [{ kind: 'leakyRelu' }, -2, -0.02],
      [{ kind: 'leakyRelu', alpha: 0.2 }, -2, -0.4],
      [{ kind: 'elu' }, -1, Math.exp(-1) - 1],
      [{ kind: 'hardSigmoid' }, 1, 0.7],
      [{ kind: 'hardSigmoid', alpha: 1 / 6, beta: 0.5 }, 1.5, 0.75],
      [{ kind: 'hardSwish' }, 1, 1 * 4 / 6],
      [{ kind: 'sigmoid' }, 0, 0.5],
      [{ kind: 'silu' }, 2, 2 / (1 + Math.exp(-2))],
      [{ kind: 'tanh' }, 0.5, Math.tanh(0.5)],
      [{ kind: 'gelu' }, 1, 0.5 * (1 + 0.6826894921370859)],
      [{ kind: 'geluTanh' }, 1, 0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * 1.044715))],
      [{ kind: 'exp' }, 1, Math.E],
      [{ kind: 'softplus' }, 0, Math.LN2],
      [{ kind: 'softplus' }, 50, 50],
      [{ kind: 'mish' }, 1, Math.tanh(Math.log1p(Math.E))],
    ];
    for (const [activation, x, want] of cases) expect(activate(x, activation), activation.kind).toBeCloseTo(want, 12);
    for (const kind of ACTIVATION_KINDS) expect(activate(Number.NaN, { kind }), kind).toBeNaN();
  });

  it('applies into a second buffer and leaves the source alone', () => {
    const src = Float32Array.from([-1, 0, 1]);
    const dst = new Float32Array(3);
    applyActivationTo(src, dst, { kind: 'relu' });
    expect([...dst]).toEqual([0, 0, 1]);
    expect([...src]).toEqual([-1, 0, 1]);
  });

  it('refuses bad kinds and parameters, naming them', () => {
    expect(() => toActivation('swish' as 'relu', 'Conv2d conv1')).toThrow(/Conv2d conv1: activation.kind must be one of .*'silu'.*got "swish"/);
    expect(() => checkActivation({ kind: 'elu', alpha: Infinity }, 'x')).toThrow(/activation.alpha must be a finite number/);
    expect(() => checkActivation({ kind: 'clip', min: 2, max: 1 }, 'x')).toThrow(/clip needs min <= max, got min 2 and max 1/);
    expect(() => checkActivation({ kind: 'clip', min: Number.NaN }, 'x')).toThrow(/activation.min must be a number \(not NaN\)/);
  });

  it('keys tell parameterised kinds apart', () => {
    expect(activationKey({ kind: 'leakyRelu' })).toBe('leakyRelu:0.01');
    expect(activationKey({ kind: 'clip', min: 0, max: 6 })).not.toBe(activationKey({ kind: 'clip', min: 0, max: 4 }));
    expect(activationKey({ kind: 'hardSigmoid' })).toBe('hardSigmoid:0.2:0.5');
  });
});
