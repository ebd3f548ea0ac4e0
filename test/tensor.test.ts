import { describe, expect, it } from 'vitest';
import { ParameterError, ShapeError, Tensor } from '../lib/index.js';

describe('Tensor', () => {
  it('wraps a Float32Array in NCHW order without copying', () => {
    const data = new Float32Array(24);
    const t = new Tensor([1, 2, 3, 4], data);
    expect(t.data).toBe(data);
    expect(t.size).toBe(24);
    expect(t.rank).toBe(4);
  });

  it('from() infers the shape of a nested array', () => {
    const t = Tensor.from([[[1, 2, 3], [4, 5, 6]]]);
    expect(t.shape).toEqual([1, 2, 3]);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(t.toArray()).toEqual([[[1, 2, 3], [4, 5, 6]]]);
  });

  it('reshape is a view: writes through it show in the original', () => {
    const t = Tensor.zeros([2, 3, 2, 2]);
    const flat = t.reshape([2, -1]);
    expect(flat.shape).toEqual([2, 12]);
    flat.data[5] = 7;
    expect(t.data[5]).toBe(7);
  });

  it('rejects data whose length does not match the shape, naming both', () => {
    expect(() => new Tensor([2, 3], new Float32Array(5))).toThrow(ShapeError);
    expect(() => new Tensor([2, 3], new Float32Array(5))).toThrow(/5 elements but shape \[2, 3\] needs 6/);
  });

  it('rejects non-integer and negative dimensions, naming the axis', () => {
    expect(() => new Tensor([2, 1.5])).toThrow(/shape\[1\] must be a non-negative integer, got 1.5/);
    expect(() => Tensor.zeros([-1, 3])).toThrow(ParameterError);
  });

  it('rejects ragged nested arrays and bad reshapes', () => {
    expect(() => Tensor.from([[1, 2], [3]])).toThrow(/ragged at input\[1\]: expected 2 elements, got 1/);
    expect(() => Tensor.zeros([2, 3]).reshape([4, 2])).toThrow(/holds 8 elements but the tensor has 6/);
    expect(() => Tensor.zeros([2, 3]).reshape([-1, -1])).toThrow(/at most one dimension may be -1/);
    expect(() => Tensor.zeros([2, 3]).reshape([4, -1])).toThrow(/cannot infer -1/);
  });

  it('errors carry a stable code', () => {
    try {
      new Tensor([2], new Float32Array(3));
      expect.unreachable();
    } catch (error) {
      expect((error as ShapeError).code).toBe('ERR_CONVNODE_SHAPE');
    }
  });

  it('refuses a shape too large to allocate with a ShapeError naming it, not a bare RangeError', () => {
    expect(() => new Tensor([1e6, 1e6])).toThrow(ShapeError);
    expect(() => Tensor.zeros([1e6, 1e6])).toThrow(/^Tensor: shape \[1000000, 1000000\] holds 1000000000000 elements \(3725\.3 GiB of float32\), more than can be allocated/);
  });
});
