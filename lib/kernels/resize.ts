/**
 * Resize of NCHW planes from per-axis tables (the pure-JS kernel, and the shape of the native
 * backend's call). The ONNX op (lib/onnx/ops/resize.ts) plans the tables once per input shape for
 * its coordinate_transformation_mode and nearest_mode; the kernel only gathers and blends:
 *   nearest:  out[y][x] = in[rows.lo[y]][cols.lo[x]]
 *   bilinear: upper = in[rows.lo[y]][lo] + (in[rows.lo[y]][hi] - in[rows.lo[y]][lo]) * cols.weight[x]
 *             lower = the same on row rows.hi[y]
 *             out   = upper + (lower - upper) * rows.weight[y]
 */

/** One axis: output index -> input index `lo` (bilinear: and `hi`, with the weight of hi). */
export interface ResizeAxisTable {
  /** The input axis length (every index is in 0 .. in - 1). */
  readonly in: number;
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  readonly weight: Float32Array;
}

export interface ResizePlan {
  /** N x C: the planes resized one by one. */
  readonly planes: number;
  readonly bilinear: boolean;
  readonly rows: ResizeAxisTable;
  readonly cols: ResizeAxisTable;
}

export function resizePlanes(src: ArrayLike<number>, out: Float32Array, plan: ResizePlan): void {
  const { rows, cols } = plan;
  const inH = rows.in;
  const inW = cols.in;
  const outH = rows.lo.length;
  const outW = cols.lo.length;
  for (let p = 0; p < plan.planes; p++) {
    const inAt = p * inH * inW;
    let o = p * outH * outW;
    for (let y = 0; y < outH; y++) {
      const top = inAt + rows.lo[y] * inW;
      if (!plan.bilinear) {
        for (let x = 0; x < outW; x++) out[o++] = src[top + cols.lo[x]];
        continue;
      }
      const bottom = inAt + rows.hi[y] * inW;
      const wy = rows.weight[y];
      for (let x = 0; x < outW; x++) {
        const x0 = cols.lo[x];
        const x1 = cols.hi[x];
        const wx = cols.weight[x];
        const upper = src[top + x0] + (src[top + x1] - src[top + x0]) * wx;
        const lower = src[bottom + x0] + (src[bottom + x1] - src[bottom + x0]) * wx;
        out[o++] = upper + (lower - upper) * wy;
      }
    }
  }
}
