/**
 * f32-conv2d-winograd-f2x2-3x3: Winograd's minimal filtering F(2x2, 3x3) for 3x3, stride 1,
 * undilated, ungrouped convolutions. Each 2x2 block of outputs comes from a 4x4 input tile:
 *   Y = A^T [ (G g G^T) (.) (B^T d B) ] A
 * so per tile and channel pair the 36 multiplies of direct convolution become 16. The 16
 * element-wise products, summed over input channels, are 16 GEMMs (Cout x Cin) x (Cin x tiles)
 * on the packed GEMM; the filter transform G g G^T happens once, when the layer is prepared.
 * The transforms only add, subtract and halve, so results stay within float32 rounding of the
 * direct sum.
 */
import type { Activation } from '../activation.js';
import type { ConvGeometry } from '../planner/geometry.js';
import { activate } from '../activation.js';
import { gemm, packRows, type PackedMatrix } from './gemm.js';
import { scratch } from './scratch.js';

/** The 16 transformed positions of a 4x4 tile. */
const POSITIONS = 16;
/** Floats the transformed-input and product buffers may take each; larger images go in bands of tile rows. */
const BAND_FLOATS = 1 << 21;
const NONE: Activation = { kind: 'none' };

/**
 * U = G g G^T for every (oc, ic) filter, stored as 16 matrices U[xi] (outChannels x inChannels),
 * each packed for the GEMM. G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]].
 */
export function transformFilters(weight: Float32Array, inChannels: number, outChannels: number): PackedMatrix[] {
  const u = new Float32Array(POSITIONS * outChannels * inChannels);
  const gg = new Float64Array(12); // G g, 4 x 3
  for (let oc = 0; oc < outChannels; oc++) {
    for (let ic = 0; ic < inChannels; ic++) {
      const at = (oc * inChannels + ic) * 9;
      for (let col = 0; col < 3; col++) {
        const g0 = weight[at + col], g1 = weight[at + 3 + col], g2 = weight[at + 6 + col];
        gg[col] = g0;
        gg[3 + col] = 0.5 * (g0 + g1 + g2);
        gg[6 + col] = 0.5 * (g0 - g1 + g2);
        gg[9 + col] = g2;
      }
      for (let row = 0; row < 4; row++) {
        const r0 = gg[row * 3], r1 = gg[row * 3 + 1], r2 = gg[row * 3 + 2];
        const base = row * 4 * outChannels * inChannels + oc * inChannels + ic;
        const step = outChannels * inChannels; // from U[xi] to U[xi + 1]
        u[base] = r0;
        u[base + step] = 0.5 * (r0 + r1 + r2);
        u[base + 2 * step] = 0.5 * (r0 - r1 + r2);
        u[base + 3 * step] = r2;
      }
    }
  }
  const packed: PackedMatrix[] = [];
  for (let xi = 0; xi < POSITIONS; xi++) packed.push(packRows(u, outChannels, inChannels, xi * outChannels * inChannels));
  return packed;
}

/** The epilogue the output transform applies: bias, then residual, then activation. */
export interface WinogradEpilogue {
  readonly bias: Float32Array | null;
  readonly activation: Activation;
}

/** Runs the convolution of a batch; callers check sizes and that the geometry fits. */
export function winogradConv2d(
  filters: PackedMatrix[], input: Float32Array, g: ConvGeometry, output: Float32Array, residual: Float32Array | null,
  epilogue: WinogradEpilogue,
): void {
  const { inChannels, outChannels, outH, outW } = g;
  const tilesW = Math.ceil(outW / 2);
  const tilesH = Math.ceil(outH / 2);
  const perTileRow = POSITIONS * Math.max(inChannels, outChannels) * tilesW;
  const bandRows = Math.max(1, Math.min(tilesH, Math.floor(BAND_FLOATS / perTileRow)));
  const transformed = scratch('winograd.input', POSITIONS * inChannels * bandRows * tilesW);
  const products = scratch('winograd.products', POSITIONS * outChannels * bandRows * tilesW);
  for (let n = 0; n < g.batch; n++) {
    for (let firstRow = 0; firstRow < tilesH; firstRow += bandRows) {
      const rows = Math.min(bandRows, tilesH - firstRow);
      const tiles = rows * tilesW;
      transformInput(input, n, g, firstRow, rows, tilesW, transformed);
      for (let xi = 0; xi < POSITIONS; xi++) {
        gemm(
          filters[xi],
          { data: transformed, offset: xi * inChannels * tiles, rowStride: tiles, colStride: 1 },
          tiles,
          { data: products, offset: xi * outChannels * tiles, rowStride: tiles, colStride: 1 },
          { bias: null, biasOffset: 0, residual: null, activation: NONE },
        );
      }
      transformOutput(products, n, g, firstRow, rows, tilesW, output, residual, epilogue);
    }
  }
}

/**
 * V = B^T d B for every input channel and tile of the band, d being the 4x4 input tile at
 * (2 * tileRow - pads.top, 2 * tileCol - pads.left), zero outside the image; stored as
 * V[xi][ic][tile]. B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]].
 */
function transformInput(
  input: Float32Array, n: number, g: ConvGeometry, firstRow: number, rows: number, tilesW: number, v: Float32Array,
): void {
  const { inChannels, inH, inW } = g;
  const tiles = rows * tilesW;
  const step = inChannels * tiles; // from V[xi] to V[xi + 1]
  const d = new Float64Array(16);
  for (let ic = 0; ic < inChannels; ic++) {
    const planeAt = (n * inChannels + ic) * inH * inW;
    for (let tr = 0; tr < rows; tr++) {
      const y0 = 2 * (firstRow + tr) - g.pads.top;
      for (let tc = 0; tc < tilesW; tc++) {
        const x0 = 2 * tc - g.pads.left;
        const inside = y0 >= 0 && y0 + 4 <= inH && x0 >= 0 && x0 + 4 <= inW;
        for (let i = 0; i < 4; i++) {
          const y = y0 + i;
          const rowAt = planeAt + y * inW;
          const rowInside = y >= 0 && y < inH;
          for (let j = 0; j < 4; j++) {
            const x = x0 + j;
            d[i * 4 + j] = inside || (rowInside && x >= 0 && x < inW) ? input[rowAt + x] : 0;
          }
        }
        // Down the columns: t = B^T d.
        for (let j = 0; j < 4; j++) {
          const d0 = d[j], d1 = d[4 + j], d2 = d[8 + j], d3 = d[12 + j];
          d[j] = d0 - d2;
          d[4 + j] = d1 + d2;
          d[8 + j] = d2 - d1;
          d[12 + j] = d1 - d3;
        }
        // Along the rows: V = t B.
        const at = ic * tiles + tr * tilesW + tc;
        for (let i = 0; i < 4; i++) {
          const t0 = d[i * 4], t1 = d[i * 4 + 1], t2 = d[i * 4 + 2], t3 = d[i * 4 + 3];
          const base = at + i * 4 * step;
          v[base] = t0 - t2;
          v[base + step] = t1 + t2;
          v[base + 2 * step] = t2 - t1;
          v[base + 3 * step] = t1 - t3;
        }
      }
    }
  }
}

/** Residual, then activation, for one output value. */
function finish(value: number, residual: Float32Array | null, at: number, activation: Activation, plain: boolean): number {
  if (residual !== null) value += residual[at];
  return plain ? value : activate(value, activation);
}

/**
 * Y = A^T m A per output channel and tile, A^T = [[1, 1, 1, 0], [0, 1, -1, -1]], then the
 * epilogue; the outputs of edge tiles that fall past outH / outW are dropped.
 */
function transformOutput(
  m: Float32Array, n: number, g: ConvGeometry, firstRow: number, rows: number, tilesW: number,
  output: Float32Array, residual: Float32Array | null, epilogue: WinogradEpilogue,
): void {
  const { outChannels, outH, outW } = g;
  const tiles = rows * tilesW;
  const s = outChannels * tiles; // from M[xi] to M[xi + 1]
  const { bias, activation } = epilogue;
  const plain = activation.kind === 'none';
  for (let oc = 0; oc < outChannels; oc++) {
    const shift = bias === null ? 0 : bias[oc];
    const planeAt = (n * outChannels + oc) * outH * outW;
    for (let tr = 0; tr < rows; tr++) {
      const y = 2 * (firstRow + tr);
      const below = y + 1 < outH;
      for (let tc = 0; tc < tilesW; tc++) {
        const at = oc * tiles + tr * tilesW + tc;
        // r = A^T m, two rows of four.
        const r00 = m[at] + m[at + 4 * s] + m[at + 8 * s];
        const r01 = m[at + s] + m[at + 5 * s] + m[at + 9 * s];
        const r02 = m[at + 2 * s] + m[at + 6 * s] + m[at + 10 * s];
        const r03 = m[at + 3 * s] + m[at + 7 * s] + m[at + 11 * s];
        const r10 = m[at + 4 * s] - m[at + 8 * s] - m[at + 12 * s];
        const r11 = m[at + 5 * s] - m[at + 9 * s] - m[at + 13 * s];
        const r12 = m[at + 6 * s] - m[at + 10 * s] - m[at + 14 * s];
        const r13 = m[at + 7 * s] - m[at + 11 * s] - m[at + 15 * s];
        const x = 2 * tc;
        const right = x + 1 < outW;
        const o = planeAt + y * outW + x;
        output[o] = finish(r00 + r01 + r02 + shift, residual, o, activation, plain);
        if (right) output[o + 1] = finish(r01 - r02 - r03 + shift, residual, o + 1, activation, plain);
        if (below) output[o + outW] = finish(r10 + r11 + r12 + shift, residual, o + outW, activation, plain);
        if (below && right) output[o + outW + 1] = finish(r11 - r12 - r13 + shift, residual, o + outW + 1, activation, plain);
      }
    }
  }
}
