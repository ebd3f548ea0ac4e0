/**
 * A source offset per element, for the scattered reductions (lib/onnx/ops/reduce.ts), whose
 * kept and reduced offset lists are each no longer than the tensor they walk. Data-movement ops
 * use the O(rank) strided copy instead (strided-copy.ts).
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
