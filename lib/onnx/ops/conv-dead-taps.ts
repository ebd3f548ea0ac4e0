/**
 * Kernel taps that never see the input. Output y of a conv reads input row
 *   i = y * stride - padTop + t * dilation        for tap t = 0 .. K-1,
 * so tap t contributes for some output only if 0 <= i < H for some y in [0, outH). An atrous
 * conv whose dilation is as large as its input (DeepLabV3's ASPP: rates 12, 24 and 36 on a
 * 14 x 14 map at 224 x 224) reads nothing but padding with every tap except the centre, and
 * multiplying zeros costs as much as real work. Cutting the dead outer taps gives the same
 * output with a smaller kernel: cutting c taps before shifts the window by c * dilation, which
 * the padding before absorbs (padTop' = padTop - c * dilation), and likewise after. A side is
 * cut only where that padding stays >= 0; the output size is checked unchanged.
 */
import { outputSize, type ConvGeometry } from '../../planner/geometry.js';

/** Taps cut on each side of the kernel, and the geometry of the cut conv. */
export interface TapCrop {
  readonly top: number;
  readonly bottom: number;
  readonly left: number;
  readonly right: number;
  readonly geometry: ConvGeometry;
}

/** [cut before, cut after] along one axis. */
function deadTaps(k: number, dilation: number, stride: number, padBefore: number, padAfter: number, inSize: number, outSize: number): [number, number] {
  const live = (t: number) => {
    // The smallest and largest input index this tap reads.
    const first = -padBefore + t * dilation;
    const last = (outSize - 1) * stride - padBefore + t * dilation;
    // Some y*stride + first lands in [0, inSize): the first index >= 0 on the tap's grid.
    if (last < 0 || first >= inSize) return false;
    const firstInside = first >= 0 ? first : first + Math.ceil(-first / stride) * stride;
    return firstInside < inSize && firstInside <= last;
  };
  let before = 0;
  while (before < k - 1 && !live(before) && padBefore - (before + 1) * dilation >= 0) before++;
  let after = 0;
  while (after < k - 1 - before && !live(k - 1 - after) && padAfter - (after + 1) * dilation >= 0) after++;
  return [before, after];
}

/** The crop of a conv's dead taps at this input size, or null when every tap is live. */
export function cropDeadTaps(g: ConvGeometry): TapCrop | null {
  const [top, bottom] = deadTaps(g.kernelH, g.dilationH, g.strideH, g.pads.top, g.pads.bottom, g.inH, g.outH);
  const [left, right] = deadTaps(g.kernelW, g.dilationW, g.strideW, g.pads.left, g.pads.right, g.inW, g.outW);
  if (top + bottom + left + right === 0) return null;
  const kernelH = g.kernelH - top - bottom;
  const kernelW = g.kernelW - left - right;
  const pads = {
    top: g.pads.top - top * g.dilationH, bottom: g.pads.bottom - bottom * g.dilationH,
    left: g.pads.left - left * g.dilationW, right: g.pads.right - right * g.dilationW,
  };
  const outH = outputSize(g.inH, (kernelH - 1) * g.dilationH + 1, g.strideH, pads.top, pads.bottom);
  const outW = outputSize(g.inW, (kernelW - 1) * g.dilationW + 1, g.strideW, pads.left, pads.right);
  if (outH !== g.outH || outW !== g.outW) return null;
  const exact = (g.inH + pads.top + pads.bottom - (kernelH - 1) * g.dilationH - 1) % g.strideH === 0 &&
    (g.inW + pads.left + pads.right - (kernelW - 1) * g.dilationW - 1) % g.strideW === 0;
  return { top, bottom, left, right, geometry: { ...g, kernelH, kernelW, pads, exact } };
}

/** The weights [out, inPerGroup, kh, kw] restricted to the live taps. */
export function cropWeights(weight: Float32Array, kernelH: number, kernelW: number, crop: TapCrop): Float32Array {
  const { kernelH: kh, kernelW: kw } = crop.geometry;
  const filters = weight.length / (kernelH * kernelW);
  const out = new Float32Array(filters * kh * kw);
  for (let f = 0; f < filters; f++) {
    for (let y = 0; y < kh; y++) {
      for (let x = 0; x < kw; x++) {
        out[(f * kh + y) * kw + x] = weight[(f * kernelH + y + crop.top) * kernelW + x + crop.left];
      }
    }
  }
  return out;
}
