/**
 * The shared geometry functions are public (lib/index.ts exports planWindow and outputSize).
 * Called directly with a zero or fractional stride, kernel or dilation they used to return
 * NaN / Infinity sizes without a word; the layers' own checks never saw those values.
 */
import { describe, expect, it } from 'vitest';
import { GlobalAvgPool2d, GlobalMaxPool2d, ParameterError, ShapeError, Tensor, outputSize, planWindow } from '../lib/index.js';

const spec = { kernel: [3, 3], stride: [1, 1], dilation: [1, 1], padding: 0 } as const;

describe('planWindow and outputSize check their numbers', () => {
  it('planWindow names the owner and the bad option', () => {
    expect(() => planWindow('pool', 5, 5, { ...spec, stride: [0, 1] })).toThrow(ParameterError);
    expect(() => planWindow('pool', 5, 5, { ...spec, stride: [0, 1] })).toThrow(/^pool: stride must be a positive integer/);
    expect(() => planWindow('pool', 5, 5, { ...spec, kernel: [2.5, 3] })).toThrow(/^pool: kernelSize must be a positive integer/);
    expect(() => planWindow('pool', 5, 5, { ...spec, dilation: [1, -1] })).toThrow(/^pool: dilation must be a positive integer/);
    expect(() => planWindow('pool', 5, 5, { ...spec, padding: -1 })).toThrow(/^pool: padding must hold non-negative integers/);
    expect(() => planWindow('pool', 5.5, 5, spec)).toThrow(/^pool: input is 5\.5x5; height and width must be positive integers/);
  });

  it('planWindow still gives the lecture formula for good input', () => {
    // O = floor((7 + 2 - 3) / 2) + 1 = 4
    const g = planWindow('conv', 7, 7, { ...spec, stride: [2, 2], padding: 1 });
    expect([g.outH, g.outW, g.exact]).toEqual([4, 4, true]);
  });

  it('outputSize names the bad argument', () => {
    expect(() => outputSize(5, 3, 0, 0, 0)).toThrow(/^outputSize: stride must be a positive integer, got 0$/);
    expect(() => outputSize(5, 0, 1, 0, 0)).toThrow(/^outputSize: kEff must be a positive integer, got 0$/);
    expect(() => outputSize(5, 3, 1, -1, 0)).toThrow(/^outputSize: padBefore must be a non-negative integer, got -1$/);
    expect(() => outputSize(Number.NaN, 3, 1, 0, 0)).toThrow(/^outputSize: inSize must be a non-negative integer, got NaN$/);
    expect(outputSize(32, 5, 1, 0, 0)).toBe(28);
    expect(outputSize(5, 2, 2, 0, 0, true)).toBe(3);
  });
});

describe('global pooling of an empty feature map', () => {
  it('is a ShapeError naming the layer (it reached the backend as a bad plane size before)', () => {
    expect(() => new GlobalAvgPool2d().forwardSync(Tensor.zeros([1, 2, 0, 3]))).toThrow(ShapeError);
    expect(() => new GlobalAvgPool2d().outputShape([1, 2, 0, 3])).toThrow(
      'GlobalAvgPool2d: input is 0x3; height and width must be at least 1',
    );
    return expect(new GlobalMaxPool2d({ name: 'gmp' }).forward(Tensor.zeros([1, 2, 4, 0]))).rejects.toThrow(
      "GlobalMaxPool2d 'gmp': input is 4x0; height and width must be at least 1",
    );
  });
});
