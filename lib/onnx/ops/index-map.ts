/**
 * Data-movement ops (Transpose, Slice, Gather) planned as a source index per output element.
 * Each output axis adds its own offset table; the map is built once per input shape and a run
 * is one gather loop, for constants (shape chains) and runtime tensors alike.
 */
import { numel } from './shape-utils.js';

/** Source offsets: for output axis k at index i, the source is base + sum_k tables[k][i]. */
export function buildIndexMap(outShape: readonly number[], tables: ReadonlyArray<ArrayLike<number>>, base = 0): Int32Array {
  const total = numel(outShape);
  const map = new Int32Array(total);
  const rank = outShape.length;
  if (total === 0) return map;
  if (rank === 0) {
    map[0] = base;
    return map;
  }
  const counter = new Array<number>(rank).fill(0);
  let offset = base;
  for (let k = 0; k < rank; k++) offset += tables[k][0];
  for (let o = 0; o < total; o++) {
    map[o] = offset;
    for (let axis = rank - 1; axis >= 0; axis--) {
      const table = tables[axis];
      offset -= table[counter[axis]];
      counter[axis]++;
      if (counter[axis] < outShape[axis]) {
        offset += table[counter[axis]];
        break;
      }
      counter[axis] = 0;
      offset += table[0];
    }
  }
  return map;
}

/** An offset table i -> (start + i * step) * stride. */
export function affineTable(count: number, start: number, step: number, stride: number): Int32Array {
  const table = new Int32Array(Math.max(count, 1));
  for (let i = 0; i < count; i++) table[i] = (start + i * step) * stride;
  return table;
}

export function gatherByMap<T extends Float32Array | number[]>(source: ArrayLike<number>, map: Int32Array, out: T): T {
  for (let i = 0; i < map.length; i++) out[i] = source[map[i]];
  return out;
}

/**
 * The map cut into runs of consecutive source offsets, as [source start, length] pairs (output
 * offsets follow from the lengths), or null when the runs average under `minAverage` elements.
 * A channel shuffle's Transpose moves whole H x W planes, a Slice whole row segments: copying
 * runs beats looking up every element (torchvision ShuffleNetV2 x1.0, batch 1, 1 thread: 7.8-8.8
 * -> 6.4 ms, most of it its 16 channel shuffles).
 */
export function runsOf(map: Int32Array, minAverage = 8): Int32Array | null {
  if (map.length === 0) return null;
  let count = 1;
  for (let i = 1; i < map.length; i++) if (map[i] !== map[i - 1] + 1) count++;
  if (map.length / count < minAverage) return null;
  const runs = new Int32Array(2 * count);
  let r = 0;
  let runStart = 0; // output index where run r starts
  runs[0] = map[0];
  for (let i = 1; i < map.length; i++) {
    if (map[i] === map[i - 1] + 1) continue;
    runs[2 * r + 1] = i - runStart;
    r++;
    runs[2 * r] = map[i];
    runStart = i;
  }
  runs[2 * r + 1] = map.length - runStart;
  return runs;
}

export function gatherByRuns(source: Float32Array, runs: Int32Array, out: Float32Array): Float32Array {
  let o = 0;
  for (let r = 0; r < runs.length; r += 2) {
    const start = runs[r];
    const length = runs[r + 1];
    if (length >= 64) {
      out.set(source.subarray(start, start + length), o);
    } else {
      for (let j = 0; j < length; j++) out[o + j] = source[start + j];
    }
    o += length;
  }
  return out;
}
