/**
 * The data-movement ops' gather: a map of source offsets, or the same map cut into runs of
 * consecutive offsets (lib/onnx/ops/index-map.ts). The run form must copy exactly what the map
 * names, for short runs (element loop) and long ones (block copy), and is refused when runs are
 * too short to pay.
 */
import { describe, expect, it } from 'vitest';
import { affineTable, buildIndexMap, gatherByMap, gatherByRuns, runsOf } from '../lib/onnx/ops/index-map.js';
import { stridesOf } from '../lib/onnx/ops/shape-utils.js';

/** The index map of a Transpose of `shape` by `perm`, as buildTranspose makes it. */
function transposeMap(shape: number[], perm: number[]): Int32Array {
  const strides = stridesOf(shape);
  const out = perm.map((p) => shape[p]);
  return buildIndexMap(out, perm.map((p, k) => affineTable(out[k], 0, 1, strides[p])));
}

describe('gather by runs', () => {
  it('cuts a map into [source, length] runs', () => {
    expect(Array.from(runsOf(Int32Array.of(4, 5, 6, 7, 0, 1, 2, 3, 9, 10, 11, 12, 13, 14, 15, 16), 2) ?? [])).toEqual([4, 4, 0, 4, 9, 8]);
    expect(Array.from(runsOf(Int32Array.of(7), 1) ?? [])).toEqual([7, 1]);
    // Runs averaging under the threshold: the element map stays.
    expect(runsOf(Int32Array.of(0, 2, 4, 6, 1, 3, 5, 7))).toBeNull();
    expect(runsOf(new Int32Array(0))).toBeNull();
  });

  it('copies what the map names: a channel shuffle, a plane swap, a row reversal', () => {
    const cases: [number[], number[]][] = [
      [[2, 2, 3, 5, 7], [0, 2, 1, 3, 4]], // channel shuffle of 6 channels in 2 groups, 5x7 planes (runs of 35)
      [[1, 4, 3, 12, 12], [0, 2, 1, 3, 4]], // 12x12 planes: runs of 144 take the block copy
      [[3, 4, 5], [1, 0, 2]], // runs of 5
      [[3, 4, 5], [2, 1, 0]], // no runs at all
    ];
    for (const [shape, perm] of cases) {
      const map = transposeMap(shape, perm);
      const source = Float32Array.from({ length: map.length }, (_, i) => i * 0.5 - 3);
      const expected = gatherByMap(source, map, new Float32Array(map.length));
      const runs = runsOf(map, 1);
      expect(runs).not.toBeNull();
      expect(Array.from(gatherByRuns(source, runs as Int32Array, new Float32Array(map.length)))).toEqual(Array.from(expected));
      // And the element map really is a permutation of the source (the oracle is not trivial).
      expect([...map].sort((a, b) => a - b)).toEqual(Array.from({ length: map.length }, (_, i) => i));
    }
  });
});
