/**
 * Bad input to the JS kernels fails with a typed error that names the argument and the rule,
 * never an out-of-bounds read turning into NaN; and the activations, checked one by one.
 */
import { describe, expect, it } from 'vitest';
import { jsBackend } from '../lib/backends/js.js';
import type { Activation, PoolGeometry } from '../lib/backends/backend.js';
import { ParameterError, ShapeError } from '../lib/errors.js';
import { activate, applyActivation } from '../lib/activation.js';
import { planConv, planWindow } from '../lib/planner/geometry.js';
import { ALL_ACTIVATIONS, referenceActivation } from './helpers/numeric.js';

const convWeights = (overrides: Record<string, unknown> = {}) => ({
  inChannels: 4, outChannels: 6, groups: 2, kernelH: 3, kernelW: 3,
  weight: new Float32Array(6 * 2 * 3 * 3), bias: new Float32Array(6) as Float32Array | null,
  activation: { kind: 'relu' } as Activation,
  ...overrides,
});
const geometry = planConv('err', [2, 4, 5, 5], {
  inChannels: 4, outChannels: 6, groups: 2, kernel: [3, 3], stride: [1, 1], dilation: [1, 1], padding: 1,
});
const inLength = 2 * 4 * 5 * 5;
const outLength = 2 * 6 * 5 * 5;

describe('conv2d rejects bad arguments, naming them', () => {
  it('weights and bias of the wrong length, when prepared', () => {
    expect(() => jsBackend.prepareConv2d(convWeights({ weight: new Float32Array(107) }))).toThrow(ShapeError);
    expect(() => jsBackend.prepareConv2d(convWeights({ weight: new Float32Array(107) }))).toThrow(
      /weight has 107 elements but \[outChannels, inChannels \/ groups, kernelH, kernelW\] = \[6, 2, 3, 3\] needs 108/,
    );
    expect(() => jsBackend.prepareConv2d(convWeights({ bias: new Float32Array(5) }))).toThrow(/bias has 5 elements but outChannels = 6 needs 6/);
    expect(() => jsBackend.prepareConv2d(convWeights({ weight: [1, 2, 3] }))).toThrow(/weight must be a Float32Array, got an array of 3/);
  });

  it('channel, kernel and activation options', () => {
    expect(() => jsBackend.prepareConv2d(convWeights({ groups: 3 }))).toThrow(/groups 3 must divide both inChannels 4 and outChannels 6/);
    expect(() => jsBackend.prepareConv2d(convWeights({ kernelW: 0 }))).toThrow(/kernelW must be a positive integer, got 0/);
    expect(() => jsBackend.prepareConv2d(convWeights({ activation: { kind: 'swish' } }))).toThrow(/activation.kind must be one of .*got "swish"/);
    expect(() => jsBackend.prepareConv2d(convWeights({ activation: { kind: 'leakyRelu', alpha: Number.NaN } }))).toThrow(
      /activation.alpha must be a finite number/,
    );
  });

  it('input, output and residual buffers of the wrong length, when run', () => {
    const kernel = jsBackend.prepareConv2d(convWeights());
    const input = new Float32Array(inLength);
    const output = new Float32Array(outLength);
    expect(() => kernel.runSync(new Float32Array(inLength - 1), geometry, output)).toThrow(ShapeError);
    expect(() => kernel.runSync(new Float32Array(inLength - 1), geometry, output)).toThrow(
      /input has 199 elements but N x Cin x H x W = 2x4x5x5 needs 200/,
    );
    expect(() => kernel.runSync(input, geometry, new Float32Array(outLength + 3))).toThrow(
      /output has 303 elements but N x Cout x outH x outW = 2x6x5x5 needs 300/,
    );
    expect(() => kernel.runSync(input, geometry, output, new Float32Array(10))).toThrow(/residual has 10 elements/);
    expect(() => kernel.runSync(Array.from(input) as unknown as Float32Array, geometry, output)).toThrow(ParameterError);
  });

  it('a geometry planned for another layer', () => {
    const kernel = jsBackend.prepareConv2d(convWeights());
    const other = planConv('other', [2, 4, 5, 5], {
      inChannels: 4, outChannels: 6, groups: 1, kernel: [3, 3], stride: [1, 1], dilation: [1, 1], padding: 1,
    });
    expect(() => kernel.runSync(new Float32Array(inLength), other, new Float32Array(outLength))).toThrow(
      /geometry.groups is 1 but the prepared weights have groups 2/,
    );
  });

  it('a hand-built geometry that disagrees with the shared output-size formula', () => {
    const kernel = jsBackend.prepareConv2d(convWeights());
    const input = new Float32Array(inLength);
    expect(() => kernel.runSync(input, { ...geometry, outH: 6 }, new Float32Array(2 * 6 * 6 * 5))).toThrow(
      /geometry.outH is 6 but the window gives 5; build the geometry with planConv/,
    );
    expect(() => kernel.runSync(input, { ...geometry, strideW: 0 }, new Float32Array(outLength))).toThrow(
      /geometry.strideW must be a positive integer, got 0/,
    );
    expect(() => kernel.runSync(input, { ...geometry, pads: { ...geometry.pads, left: -1 } }, new Float32Array(outLength))).toThrow(
      /geometry.pads.left must be a non-negative integer, got -1/,
    );
    expect(() => kernel.runSync(input, null as never, new Float32Array(outLength))).toThrow(/geometry must be an object/);
  });

  it('an output that overlaps the input or the residual', () => {
    const kernel = jsBackend.prepareConv2d(convWeights());
    const shared = new Float32Array(outLength + inLength);
    expect(() => kernel.runSync(shared.subarray(0, inLength), geometry, shared.subarray(100, 100 + outLength))).toThrow(
      /output must not share memory with input/,
    );
    const output = new Float32Array(outLength);
    expect(() => kernel.runSync(new Float32Array(inLength), geometry, output, output)).toThrow(/output must not share memory with residual/);
  });

  it('run() rejects instead of throwing, and leaves the output untouched', async () => {
    const kernel = jsBackend.prepareConv2d(convWeights());
    const output = new Float32Array(outLength).fill(7);
    let pending: Promise<void> | undefined;
    expect(() => {
      pending = kernel.run(new Float32Array(3), geometry, output);
    }).not.toThrow();
    await expect(pending).rejects.toThrow(/input has 3 elements/);
    expect(output.every((v) => v === 7)).toBe(true);
  });
});

describe('pooling and linear reject bad arguments, naming them', () => {
  const window = planWindow('pool', 6, 6, { kernel: [2, 2], stride: [2, 2], dilation: [1, 1], padding: 0 });
  const pool: PoolGeometry = { ...window, batch: 1, channels: 2, kind: 'max', countIncludePad: false };

  it('pool2d', async () => {
    expect(() => jsBackend.pool2dSync(new Float32Array(71), pool, new Float32Array(18))).toThrow(/input has 71 elements but N x C x H x W = 1x2x6x6 needs 72/);
    expect(() => jsBackend.pool2dSync(new Float32Array(72), pool, new Float32Array(17))).toThrow(/output has 17 elements but N x C x outH x outW = 1x2x3x3 needs 18/);
    expect(() => jsBackend.pool2dSync(new Float32Array(72), { ...pool, kind: 'sum' as 'max' }, new Float32Array(18))).toThrow(/kind must be 'max' or 'avg', got "sum"/);
    await expect(jsBackend.pool2d(new Float32Array(1), pool, new Float32Array(18))).rejects.toThrow(ShapeError);
    // 6 wide, kernel 2, stride 2: 3 outputs whether or not ceilMode is on, so 4 is wrong.
    expect(() => jsBackend.pool2dSync(new Float32Array(72), { ...pool, outW: 4 }, new Float32Array(24))).toThrow(/geometry.outW is 4 but the window gives 3/);
  });

  it('globalPool2d', () => {
    expect(() => jsBackend.globalPool2dSync(new Float32Array(10), 'avg', 2, 4, new Float32Array(2))).toThrow(/input has 10 elements but planes x plane = 2x4 needs 8/);
    expect(() => jsBackend.globalPool2dSync(new Float32Array(8), 'avg', 2, 4, new Float32Array(3))).toThrow(/output has 3 elements but planes = 2 needs 2/);
    expect(() => jsBackend.globalPool2dSync(new Float32Array(0), 'max', 2, 0, new Float32Array(2))).toThrow(/plane must be a positive integer, got 0/);
    expect(() => jsBackend.globalPool2dSync(new Float32Array(8), 'max', 2.5, 4, new Float32Array(2))).toThrow(/planes must be a non-negative integer, got 2.5/);
  });

  it('linear', () => {
    const weights = { inFeatures: 3, outFeatures: 2, weight: new Float32Array(6), bias: new Float32Array(2) as Float32Array | null, activation: { kind: 'none' } as Activation };
    expect(() => jsBackend.prepareLinear({ ...weights, weight: new Float32Array(5) })).toThrow(/weight has 5 elements but \[outFeatures, inFeatures\] = \[2, 3\] needs 6/);
    expect(() => jsBackend.prepareLinear({ ...weights, bias: new Float32Array(3) })).toThrow(/bias has 3 elements but outFeatures = 2 needs 2/);
    expect(() => jsBackend.prepareLinear({ ...weights, inFeatures: 0 })).toThrow(/inFeatures must be a positive integer, got 0/);
    const kernel = jsBackend.prepareLinear(weights);
    expect(() => kernel.runSync(new Float32Array(5), 2, new Float32Array(4))).toThrow(/input has 5 elements but batch x inFeatures = 2x3 needs 6/);
    expect(() => kernel.runSync(new Float32Array(6), 2, new Float32Array(5))).toThrow(/output has 5 elements but batch x outFeatures = 2x2 needs 4/);
    expect(() => kernel.runSync(new Float32Array(6), -1, new Float32Array(4))).toThrow(/batch must be a non-negative integer, got -1/);
  });
});

describe('activations', () => {
  const samples = [-7, -3.5, -3, -1, -0.25, 0, 0.25, 1, 2.9, 3, 5.5, 6, 8];

  it.each(ALL_ACTIVATIONS)('activate and applyActivation agree with the formulas: %o', (activation) => {
    const data = Float32Array.from(samples);
    applyActivation(data, activation);
    samples.forEach((x, i) => {
      const expected = referenceActivation(x, activation);
      expect(activate(x, activation)).toBeCloseTo(expected, 6);
      expect(data[i]).toBeCloseTo(expected, 5);
    });
  });

  it('hand-worked values', () => {
    expect(activate(-2, { kind: 'leakyRelu' })).toBeCloseTo(-0.02, 10);
    expect(activate(7, { kind: 'relu6' })).toBe(6);
    expect(activate(1, { kind: 'hardSwish' })).toBeCloseTo(4 / 6, 10); // 1 * relu6(4) / 6
    expect(activate(0, { kind: 'sigmoid' })).toBe(0.5);
  });

  it('applyActivation touches only [start, end)', () => {
    const data = Float32Array.from([-1, -2, -3, -4]);
    applyActivation(data, { kind: 'relu' }, 1, 3);
    expect(Array.from(data)).toEqual([-1, 0, 0, -4]);
    expect(() => applyActivation(data, { kind: 'relu' }, 2, 9)).toThrow(/range \[start, end\) must lie inside the data \(0..4\), got \[2, 9\)/);
  });

  it('NaN propagates through relu instead of becoming 0', () => {
    const data = Float32Array.from([Number.NaN, -1]);
    applyActivation(data, { kind: 'relu' });
    expect(Number.isNaN(data[0])).toBe(true);
    expect(Number.isNaN(activate(Number.NaN, { kind: 'relu' }))).toBe(true);
  });
});
