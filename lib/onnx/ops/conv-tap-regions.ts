/**
 * Atrous convs whose outer taps read the input for only a band of the output. Output pixel
 * (y, x) of a stride-1 conv reads, through tap (ty, tx), input pixel
 *   (y + ty * dilation - padTop, x + tx * dilation - padLeft),
 * so the tap sees real input only where that lands inside the map: a rectangle of the output,
 * rows [padTop - ty d, H + padTop - ty d) and likewise columns, clipped to the output. DeepLabV3's
 * ASPP branch of rate 12 on a 14 x 14 map (224 x 224 input, output stride 16) has its outer
 * taps live on 2 rows or columns of 14: 82% of its multiply-adds are on padding, and no tap is
 * dead everywhere, so conv-dead-taps.ts cannot cut any.
 *
 * The conv is then the sum over taps of a 1x1 conv each (the tap's [Cout, Cin] slice of the
 * filters) over the input window the tap reads for its rectangle:
 *   - the tap that reads the input unshifted (the centre of a 'same' conv: ty d = padTop,
 *     tx d = padLeft) covers the whole output: it writes the output, with the bias;
 *   - every other live tap's 1x1 conv runs on a copy of its input window, with the output's
 *     rectangle as its residual, and the sum is copied back into the rectangle;
 *   - the fused activation runs last, over the whole output.
 * The weights are split, not copied: the taps' 1x1 filters together hold what the full filter did.
 */
import type { ConvGeometry } from '../../planner/geometry.js';
import { planCopy, type CopyPlan } from './strided-copy.js';

/** One tap's output rectangle [y0, y1) x [x0, x1), and the input shift (dy, dx) it reads at. */
export interface TapRegion {
  readonly ty: number;
  readonly tx: number;
  readonly y0: number;
  readonly y1: number;
  readonly x0: number;
  readonly x1: number;
  readonly dy: number;
  readonly dx: number;
}

export interface TapRegions {
  /** The unshifted tap, covering the whole output. */
  readonly whole: TapRegion;
  /** The other taps with a non-empty rectangle. */
  readonly partial: readonly TapRegion[];
  /** Multiply-adds on real input over the conv's full count (every tap at every pixel). */
  readonly liveFraction: number;
}

/** Below this live fraction the per-tap form is worth its copies (ASPP rate 12 at 14 x 14: 0.18). */
export const TAP_REGIONS_MAX_LIVE_FRACTION = 0.5;

/**
 * The per-tap rectangles of a stride-1, ungrouped conv, or null when the form does not apply (no
 * unshifted tap that covers the output, a stride, groups).
 */
export function planTapRegions(g: ConvGeometry): TapRegions | null {
  // The unshifted tap's 1x1 conv maps the input map onto the output map: same size.
  if (g.strideH !== 1 || g.strideW !== 1 || g.groups !== 1 || g.outH !== g.inH || g.outW !== g.inW) return null;
  const span = (t: number, dilation: number, padBefore: number, inSize: number, outSize: number) => {
    const shift = t * dilation - padBefore;
    return { shift, from: Math.max(0, -shift), to: Math.min(outSize, inSize - shift) };
  };
  let whole: TapRegion | null = null;
  const partial: TapRegion[] = [];
  let live = 0;
  for (let ty = 0; ty < g.kernelH; ty++) {
    const rows = span(ty, g.dilationH, g.pads.top, g.inH, g.outH);
    for (let tx = 0; tx < g.kernelW; tx++) {
      const cols = span(tx, g.dilationW, g.pads.left, g.inW, g.outW);
      if (rows.to <= rows.from || cols.to <= cols.from) continue;
      const region = { ty, tx, y0: rows.from, y1: rows.to, x0: cols.from, x1: cols.to, dy: rows.shift, dx: cols.shift };
      live += (region.y1 - region.y0) * (region.x1 - region.x0);
      const covers = region.y0 === 0 && region.x0 === 0 && region.y1 === g.outH && region.x1 === g.outW;
      if (!whole && rows.shift === 0 && cols.shift === 0 && covers) whole = region;
      else partial.push(region);
    }
  }
  if (!whole) return null;
  return { whole, partial, liveFraction: live / (g.outH * g.outW * g.kernelH * g.kernelW) };
}

/** Tap (ty, tx)'s 1x1 filters [Cout, Cin] from filters [Cout, Cin, KH, KW]. */
export function tapFilters(weight: Float32Array, outChannels: number, inChannels: number, kernelH: number, kernelW: number, ty: number, tx: number): Float32Array {
  const out = new Float32Array(outChannels * inChannels);
  const taps = kernelH * kernelW;
  const at = ty * kernelW + tx;
  for (let f = 0; f < outChannels * inChannels; f++) out[f] = weight[f * taps + at];
  return out;
}

/**
 * The copies of the h x w window at (y0, x0) of every plane of an NCHW tensor (planes of H x W):
 * `take` into a dense window (planes of h x w), `putBack` from it. Strided-copy plans, so the
 * native backend runs them as queued calls (no JS loop, no wait between a tap's steps).
 */
export function windowCopies(planes: number, H: number, W: number, y0: number, x0: number, h: number, w: number): { take: CopyPlan; putBack: CopyPlan } {
  const at = y0 * W + x0;
  return {
    take: planCopy([{ extent: planes, stride: H * W }, { extent: h, stride: W }, { extent: w, stride: 1 }], at, 0),
    putBack: planCopy([
      { extent: planes, stride: h * w, dstStride: H * W }, { extent: h, stride: w, dstStride: W }, { extent: w, stride: 1, dstStride: 1 },
    ], 0, at),
  };
}
