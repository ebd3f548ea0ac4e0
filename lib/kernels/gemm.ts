/**
 * f32 GEMM, C = A x B, with the fused epilogue C = act(C + bias[row] + residual).
 *
 * A is the weight matrix (rows x depth), packed once when a layer is prepared into panels of MR
 * rows stored depth-major, so the micro-kernel reads MR consecutive floats per step. B (depth x
 * columns, any strides: im2col columns, a raw 1x1 input, or a transposed batch for Linear) is
 * packed per call, NC columns at a time, into panels of NR columns. The micro-kernel keeps an
 * MR x NR block of C in local variables (V8 keeps them in registers or on the stack, far cheaper
 * than typed-array traffic) and runs the whole depth before storing. The sums are held as
 * doubles, so they are at least as accurate as a float32 loop.
 *
 * Blocking: one A panel (depth x MR) stays in L1 while it sweeps a packed B chunk
 * (depth x NC) that stays in L2; the epilogue runs on each chunk while it is still hot. Cutting
 * the depth into KC passes as well measured no faster on Zen 3 (its L2 keeps up), so the
 * micro-kernel runs the whole depth and stores once. With fewer than NR columns (Linear at
 * batch 1..3) a 4x1 kernel runs straight on B, wasting nothing on padding.
 */
import type { Activation } from '../activation.js';
import { activate, applyActivation } from '../activation.js';
import { scratch } from './scratch.js';

/** Rows of C per micro-kernel call (the tile is MR x NR, the XNNPACK "4x4" naming). */
export const GEMM_MR = 4;
/** Columns of C per micro-kernel call. */
export const GEMM_NR = 4;
/** Columns of B packed per chunk: depth x NC floats should fit in L2 for usual depths. */
const GEMM_NC = 64;

/** A row-major matrix packed into MR-row panels, depth-major inside a panel, zero-padded to MR rows. */
export interface PackedMatrix {
  readonly rows: number;
  readonly depth: number;
  readonly panels: Float32Array;
}

/** A matrix view into a flat buffer: element (r, c) lives at offset + r * rowStride + c * colStride. */
export interface StridedMatrix {
  readonly data: Float32Array;
  readonly offset: number;
  readonly rowStride: number;
  readonly colStride: number;
}

/** What happens to each C element after the sum: bias per row, then residual (same layout as C), then activation. */
export interface GemmEpilogue {
  readonly bias: Float32Array | null;
  /** Index in `bias` of row 0's value (per-group slices of one bias vector). */
  readonly biasOffset: number;
  readonly residual: Float32Array | null;
  readonly activation: Activation;
}

/** Packs rows x depth of `source` (row-major from `offset`) into MR-row panels; done once per layer. */
export function packRows(source: Float32Array, rows: number, depth: number, offset = 0): PackedMatrix {
  const panelCount = Math.ceil(rows / GEMM_MR);
  const panels = new Float32Array(panelCount * GEMM_MR * depth);
  for (let panel = 0; panel < panelCount; panel++) {
    const base = panel * GEMM_MR * depth;
    for (let r = 0; r < GEMM_MR; r++) {
      const row = panel * GEMM_MR + r;
      if (row >= rows) break; // the rest of the panel stays zero
      const from = offset + row * depth;
      for (let k = 0; k < depth; k++) panels[base + k * GEMM_MR + r] = source[from + k];
    }
  }
  return { rows, depth, panels };
}

/**
 * Packs columns [first, first + count) of B into NR-column panels, depth-major, zero-padding
 * the last panel, so the micro-kernel reads NR consecutive floats per step.
 */
function packColumns(b: StridedMatrix, depth: number, first: number, count: number, into: Float32Array): void {
  const { data, rowStride, colStride } = b;
  const panelCount = Math.ceil(count / GEMM_NR);
  for (let panel = 0; panel < panelCount; panel++) {
    const col = first + panel * GEMM_NR;
    const width = Math.min(GEMM_NR, first + count - col);
    let dst = panel * GEMM_NR * depth;
    let src = b.offset + col * colStride;
    if (width === GEMM_NR && colStride === 1) {
      for (let k = 0; k < depth; k++, dst += GEMM_NR, src += rowStride) {
        into[dst] = data[src];
        into[dst + 1] = data[src + 1];
        into[dst + 2] = data[src + 2];
        into[dst + 3] = data[src + 3];
      }
    } else {
      for (let k = 0; k < depth; k++, dst += GEMM_NR, src += rowStride) {
        for (let c = 0; c < GEMM_NR; c++) into[dst + c] = c < width ? data[src + c * colStride] : 0;
      }
    }
  }
}

/**
 * The f32-gemm-4x4 micro-kernel: a 4 x 4 block of C = (4-row A panel) x (4-column B panel) over
 * the full depth, stored at c[at + r * rowStride + col * colStride].
 */
function gemm4x4(
  a: Float32Array, aAt: number, b: Float32Array, bAt: number, depth: number,
  c: Float32Array, at: number, rowStride: number, colStride: number,
): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (let k = 0; k < depth; k++, aAt += 4, bAt += 4) {
    const a0 = a[aAt], a1 = a[aAt + 1], a2 = a[aAt + 2], a3 = a[aAt + 3];
    const b0 = b[bAt], b1 = b[bAt + 1], b2 = b[bAt + 2], b3 = b[bAt + 3];
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
  }
  const s1 = colStride, s2 = 2 * colStride, s3 = 3 * colStride;
  c[at] = c00; c[at + s1] = c01; c[at + s2] = c02; c[at + s3] = c03;
  at += rowStride;
  c[at] = c10; c[at + s1] = c11; c[at + s2] = c12; c[at + s3] = c13;
  at += rowStride;
  c[at] = c20; c[at + s1] = c21; c[at + s2] = c22; c[at + s3] = c23;
  at += rowStride;
  c[at] = c30; c[at + s1] = c31; c[at + s2] = c32; c[at + s3] = c33;
}

/**
 * The f32-gemm-4x1 kernel: 4 rows of C for one column of B read in place (stride bStride), for
 * products with too few columns to fill a 4x4 tile. Stores the first `height` rows.
 */
function gemm4x1(
  a: Float32Array, aAt: number, b: Float32Array, bAt: number, bStride: number, depth: number,
  c: Float32Array, at: number, rowStride: number, height: number,
): void {
  let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
  for (let k = 0; k < depth; k++, aAt += 4, bAt += bStride) {
    const x = b[bAt];
    c0 += a[aAt] * x; c1 += a[aAt + 1] * x; c2 += a[aAt + 2] * x; c3 += a[aAt + 3] * x;
  }
  c[at] = c0;
  if (height > 1) c[at + rowStride] = c1;
  if (height > 2) c[at + 2 * rowStride] = c2;
  if (height > 3) c[at + 3 * rowStride] = c3;
}

/**
 * C (a.rows x columns) = A x B (a.depth x columns), then the epilogue. B and C must not overlap.
 * Callers check buffer sizes; this function trusts its arguments.
 */
export function gemm(a: PackedMatrix, b: StridedMatrix, columns: number, c: StridedMatrix, epilogue: GemmEpilogue): void {
  const { rows, depth, panels } = a;
  const { data: out, rowStride, colStride } = c;
  if (columns < GEMM_NR) {
    for (let col = 0; col < columns; col++) {
      for (let row = 0; row < rows; row += GEMM_MR) {
        gemm4x1(panels, row * depth, b.data, b.offset + col * b.colStride, b.rowStride, depth,
          out, c.offset + row * rowStride + col * colStride, rowStride, Math.min(GEMM_MR, rows - row));
      }
    }
    applyEpilogue(c, rows, 0, columns, epilogue);
    return;
  }
  const packed = scratch('gemm.columns', depth * GEMM_NC);
  const tile = scratch('gemm.tile', GEMM_MR * GEMM_NR);
  for (let first = 0; first < columns; first += GEMM_NC) {
    const count = Math.min(GEMM_NC, columns - first);
    packColumns(b, depth, first, count, packed);
    for (let row = 0; row < rows; row += GEMM_MR) {
      const aAt = row * depth; // panel (row / MR) starts at (row / MR) * MR * depth
      const height = Math.min(GEMM_MR, rows - row);
      for (let col = 0; col < count; col += GEMM_NR) {
        const bAt = col * depth;
        const width = Math.min(GEMM_NR, count - col);
        const at = c.offset + row * rowStride + (first + col) * colStride;
        if (height === GEMM_MR && width === GEMM_NR) {
          gemm4x4(panels, aAt, packed, bAt, depth, out, at, rowStride, colStride);
        } else {
          // An edge tile: compute the full padded tile aside, keep the part inside C.
          gemm4x4(panels, aAt, packed, bAt, depth, tile, 0, GEMM_NR, 1);
          for (let r = 0; r < height; r++) {
            for (let j = 0; j < width; j++) out[at + r * rowStride + j * colStride] = tile[r * GEMM_NR + j];
          }
        }
      }
    }
    applyEpilogue(c, rows, first, count, epilogue);
  }
}

/** bias, residual and activation over columns [first, first + count) of every row of C. */
function applyEpilogue(c: StridedMatrix, rows: number, first: number, count: number, epilogue: GemmEpilogue): void {
  const { bias, biasOffset, residual, activation } = epilogue;
  const { data: out, rowStride, colStride } = c;
  for (let r = 0; r < rows; r++) {
    const start = c.offset + r * rowStride + first * colStride;
    const end = start + count * colStride;
    const shift = bias === null ? 0 : bias[biasOffset + r];
    if (shift !== 0) for (let i = start; i < end; i += colStride) out[i] += shift;
    if (residual !== null) for (let i = start; i < end; i += colStride) out[i] += residual[i];
    if (activation.kind === 'none') continue;
    if (colStride === 1) applyActivation(out, activation, start, end);
    else for (let i = start; i < end; i += colStride) out[i] = activate(out[i], activation);
  }
}
