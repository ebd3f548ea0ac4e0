/**
 * Data-movement ops (Transpose, Slice, Gather, Pad, scattered reductions) as strided copies
 * planned in O(rank) memory: each output axis says how far a step along it moves in the source
 * (and in the destination), so a run is an odometer over the outer axes and a plain loop (or a
 * block copy) along the innermost one. Nothing is allocated per element, so planning a large
 * shape costs microseconds and a hostile shape cannot make the planner build a huge table.
 * Only Gather's indices and Pad's edge / reflect modes keep a per-index table on their axis,
 * as long as that axis (never the product of all axes).
 */

/** One axis of a copy: `extent` steps; step i moves the source by stride * i, or to table[i]. */
export interface CopyAxis {
  readonly extent: number;
  /** Source elements per step along this axis (may be negative: a Slice with a negative step). */
  readonly stride: number;
  /** Source offset of each index instead of i * stride (Gather indices, Pad edge / reflect). */
  readonly table?: Int32Array;
  /** Destination elements per step; absent means the destination is dense in axis order. */
  readonly dstStride?: number;
}

export interface CopyPlan {
  /** Source offset of the first element. */
  readonly base: number;
  /** Destination offset of the first element. */
  readonly dstBase: number;
  /** Axes after dropping extent-1 axes and merging neighbours that walk memory as one axis. */
  readonly axes: readonly Required<Pick<CopyAxis, 'extent' | 'stride' | 'dstStride'>>[];
  readonly tables: ReadonlyArray<Int32Array | undefined>;
  /** Elements copied. */
  readonly total: number;
}

/**
 * Plans a copy. Axes of extent 1 fold into the bases; two neighbouring plain axes merge when
 * the outer one's strides are the inner one's times its extent on both sides (a Transpose that
 * keeps the last axes in place becomes one long innermost run).
 */
export function planCopy(axes: readonly CopyAxis[], base = 0, dstBase = 0): CopyPlan {
  let total = 1;
  for (const a of axes) total *= a.extent;
  // Dense destination strides where the caller gave none.
  const dstStrides = new Array<number>(axes.length);
  let dense = 1;
  for (let k = axes.length - 1; k >= 0; k--) {
    dstStrides[k] = axes[k].dstStride ?? dense;
    dense *= axes[k].extent;
  }
  const kept: { extent: number; stride: number; dstStride: number; table?: Int32Array }[] = [];
  let srcAt = base;
  for (let k = 0; k < axes.length; k++) {
    const a = axes[k];
    if (a.extent === 1) {
      srcAt += a.table ? a.table[0] : 0;
      continue;
    }
    kept.push({ extent: a.extent, stride: a.stride, dstStride: dstStrides[k], table: a.table });
  }
  const merged: typeof kept = [];
  for (const a of kept) {
    const outer = merged[merged.length - 1];
    if (
      outer && !outer.table && !a.table &&
      outer.stride === a.stride * a.extent && outer.dstStride === a.dstStride * a.extent
    ) {
      merged[merged.length - 1] = { extent: outer.extent * a.extent, stride: a.stride, dstStride: a.dstStride };
    } else {
      merged.push(a);
    }
  }
  return {
    base: srcAt,
    dstBase,
    axes: merged.map(({ extent, stride, dstStride }) => ({ extent, stride, dstStride })),
    tables: merged.map((a) => a.table),
    total: total === 0 ? 0 : total,
  };
}

/** Runs a planned copy: out[dst(i)] = source[src(i)] for every index i of the plan. */
export function copyStrided<T extends Float32Array | number[]>(source: ArrayLike<number>, plan: CopyPlan, out: T): T {
  const { axes, tables } = plan;
  if (plan.total === 0) return out;
  const rank = axes.length;
  if (rank === 0) {
    out[plan.dstBase] = source[plan.base];
    return out;
  }
  const inner = axes[rank - 1];
  const innerTable = tables[rank - 1];
  const blockCopy = !innerTable && inner.stride === 1 && inner.dstStride === 1 && inner.extent >= 64 &&
    source instanceof Float32Array && out instanceof Float32Array;
  const counter = new Array<number>(rank).fill(0);
  // Offsets of the current outer index (tables apply their entry for counter[k]).
  let src = plan.base;
  let dst = plan.dstBase;
  for (let k = 0; k < rank - 1; k++) src += tables[k] ? tables[k]![0] : 0;
  const outerCount = plan.total / inner.extent;
  for (let o = 0; o < outerCount; o++) {
    if (blockCopy) {
      (out as Float32Array).set((source as Float32Array).subarray(src, src + inner.extent), dst);
    } else if (innerTable) {
      for (let i = 0; i < inner.extent; i++) out[dst + i * inner.dstStride] = source[src + innerTable[i]];
    } else {
      for (let i = 0; i < inner.extent; i++) out[dst + i * inner.dstStride] = source[src + i * inner.stride];
    }
    // Advance the odometer over the outer axes.
    for (let k = rank - 2; k >= 0; k--) {
      const axis = axes[k];
      const table = tables[k];
      const before = counter[k];
      counter[k]++;
      if (counter[k] < axis.extent) {
        src += table ? table[counter[k]] - table[before] : axis.stride;
        dst += axis.dstStride;
        break;
      }
      counter[k] = 0;
      src -= table ? table[before] - table[0] : axis.stride * before;
      dst -= axis.dstStride * before;
    }
  }
  return out;
}
