/**
 * f32-dwconv: the direct depthwise convolution (groups == inChannels). Each output channel oc
 * filters one input channel, oc / multiplier, where multiplier = outChannels / inChannels (1 for
 * a plain depthwise layer, k for PyTorch's "depth multiplier"). There is no channel reduction,
 * so im2col + GEMM would only add memory traffic.
 *
 * Two plane kernels: a 3x3 one (MobileNet's shape, any stride and dilation) that keeps the nine
 * weights in locals and sums each interior output in a register, and a generic one where each
 * kernel tap sweeps an output row over the positions where it lands inside the input. Both
 * clip at the borders instead of reading padding, so padding costs nothing.
 */
import type { Activation } from '../activation.js';
import type { ConvGeometry } from '../planner/geometry.js';
import { applyActivation } from '../activation.js';
import { validOutputRange } from './im2col.js';

export interface DepthwiseWeights {
  /** [outChannels, 1, kernelH, kernelW] */
  readonly weight: Float32Array;
  readonly bias: Float32Array | null;
  readonly activation: Activation;
}

/** Runs the depthwise convolution of a whole batch; callers check buffer sizes. */
export function depthwiseConv2d(
  input: Float32Array, g: ConvGeometry, w: DepthwiseWeights, output: Float32Array, residual: Float32Array | null,
): void {
  const { batch, inChannels, outChannels, kernelH, kernelW } = g;
  const multiplier = outChannels / inChannels;
  const plane = g.inH * g.inW;
  const outPlane = g.outH * g.outW;
  const columnRanges = tapColumnRanges(g);
  const plane3x3 = kernelH === 3 && kernelW === 3;
  for (let n = 0; n < batch; n++) {
    for (let oc = 0; oc < outChannels; oc++) {
      const inAt = (n * inChannels + Math.floor(oc / multiplier)) * plane;
      const outAt = (n * outChannels + oc) * outPlane;
      const weightAt = oc * kernelH * kernelW;
      const bias = w.bias === null ? 0 : w.bias[oc];
      if (plane3x3) depthwisePlane3x3(input, inAt, g, w.weight, weightAt, bias, columnRanges, output, outAt);
      else depthwisePlane(input, inAt, g, w.weight, weightAt, bias, columnRanges, output, outAt);
      if (residual !== null) for (let i = outAt; i < outAt + outPlane; i++) output[i] += residual[i];
      applyActivation(output, w.activation, outAt, outAt + outPlane);
    }
  }
}

/** For each kernel column kw: the output columns [first, end) where that tap is inside the input. */
function tapColumnRanges(g: ConvGeometry): Int32Array {
  const ranges = new Int32Array(2 * g.kernelW);
  for (let kw = 0; kw < g.kernelW; kw++) {
    const [first, end] = validOutputRange(kw * g.dilationW - g.pads.left, g.strideW, g.inW, g.outW);
    ranges[2 * kw] = first;
    ranges[2 * kw + 1] = end;
  }
  return ranges;
}

/** Any kernel size: each tap adds its weighted input row into the output row. */
function depthwisePlane(
  input: Float32Array, inAt: number, g: ConvGeometry, weight: Float32Array, weightAt: number, bias: number,
  columnRanges: Int32Array, output: Float32Array, outAt: number,
): void {
  const { inH, inW, kernelH, kernelW, strideH, strideW, dilationH, dilationW, outH, outW } = g;
  output.fill(bias, outAt, outAt + outH * outW);
  for (let oy = 0; oy < outH; oy++) {
    const rowAt = outAt + oy * outW;
    for (let kh = 0; kh < kernelH; kh++) {
      const iy = oy * strideH + kh * dilationH - g.pads.top;
      if (iy < 0 || iy >= inH) continue;
      const inRow = inAt + iy * inW;
      for (let kw = 0; kw < kernelW; kw++) {
        const tap = weight[weightAt + kh * kernelW + kw];
        const src = inRow + kw * dilationW - g.pads.left;
        const end = columnRanges[2 * kw + 1];
        for (let ox = columnRanges[2 * kw]; ox < end; ox++) output[rowAt + ox] += tap * input[src + ox * strideW];
      }
    }
  }
}

/**
 * 3x3 taps: interior outputs (all nine taps inside the input) are summed in a register with no
 * branches. Border rows and columns take per-tap bounds checks: a tap in the padding is skipped,
 * never multiplied by zero, because 0 * NaN (or Inf) would spread a non-finite input outside
 * its receptive field.
 */
function depthwisePlane3x3(
  input: Float32Array, inAt: number, g: ConvGeometry, weight: Float32Array, weightAt: number, bias: number,
  columnRanges: Int32Array, output: Float32Array, outAt: number,
): void {
  const { inH, inW, strideH, strideW, dilationH, dilationW, outH, outW } = g;
  const left = g.pads.left;
  // Interior: every column tap valid, i.e. inside all three [first, end) ranges.
  const interiorFirst = Math.max(columnRanges[0], columnRanges[2], columnRanges[4]);
  const interiorEnd = Math.max(interiorFirst, Math.min(columnRanges[1], columnRanges[3], columnRanges[5]));
  for (let oy = 0; oy < outH; oy++) {
    const rowAt = outAt + oy * outW;
    const y0 = oy * strideH - g.pads.top;
    const rowOk0 = y0 >= 0 && y0 < inH;
    const rowOk1 = y0 + dilationH >= 0 && y0 + dilationH < inH;
    const rowOk2 = y0 + 2 * dilationH >= 0 && y0 + 2 * dilationH < inH;
    const r0 = inAt + (rowOk0 ? y0 : 0) * inW - left;
    const r1 = inAt + (rowOk1 ? y0 + dilationH : 0) * inW - left;
    const r2 = inAt + (rowOk2 ? y0 + 2 * dilationH : 0) * inW - left;
    const w00 = weight[weightAt], w01 = weight[weightAt + 1], w02 = weight[weightAt + 2];
    const w10 = weight[weightAt + 3], w11 = weight[weightAt + 4], w12 = weight[weightAt + 5];
    const w20 = weight[weightAt + 6], w21 = weight[weightAt + 7], w22 = weight[weightAt + 8];
    const d1 = dilationW, d2 = 2 * dilationW;
    // A row with a kernel row in the padding has no interior: every output takes the checked loop.
    const rowFirst = rowOk0 && rowOk1 && rowOk2 ? interiorFirst : 0;
    const rowEnd = rowOk0 && rowOk1 && rowOk2 ? interiorEnd : 0;
    for (let ox = rowFirst; ox < rowEnd; ox++) {
      const x = ox * strideW;
      output[rowAt + ox] = bias +
        w00 * input[r0 + x] + w01 * input[r0 + x + d1] + w02 * input[r0 + x + d2] +
        w10 * input[r1 + x] + w11 * input[r1 + x + d1] + w12 * input[r1 + x + d2] +
        w20 * input[r2 + x] + w21 * input[r2 + x + d1] + w22 * input[r2 + x + d2];
    }
    for (let ox = 0; ox < outW; ox++) {
      if (ox === rowFirst && rowEnd > rowFirst) ox = rowEnd;
      if (ox >= outW) break;
      const x = ox * strideW - left;
      let sum = bias;
      for (let kw = 0; kw < 3; kw++) {
        const ix = x + kw * dilationW;
        if (ix < 0 || ix >= inW) continue;
        const at = ix + left;
        if (rowOk0) sum += weight[weightAt + kw] * input[r0 + at];
        if (rowOk1) sum += weight[weightAt + 3 + kw] * input[r1 + at];
        if (rowOk2) sum += weight[weightAt + 6 + kw] * input[r2 + at];
      }
      output[rowAt + ox] = sum;
    }
  }
}
