/**
 * f32-dwconv: the direct depthwise convolution (groups == inChannels). Each output channel oc
 * filters one input channel, oc / multiplier, where multiplier = outChannels / inChannels (1 for
 * a plain depthwise layer, k for PyTorch's "depth multiplier"). There is no channel reduction,
 * so im2col + GEMM would only add memory traffic; instead each kernel tap sweeps an output row,
 * over the range of positions where the tap lands inside the input, so padding costs nothing.
 */
import type { Activation } from '../backends/backend.js';
import type { ConvGeometry } from '../planner/geometry.js';
import { applyActivation } from './activation.js';
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
  const { batch, inChannels, outChannels, inH, inW, kernelH, kernelW, strideH, strideW, dilationH, dilationW, outH, outW } = g;
  const multiplier = outChannels / inChannels;
  const taps = kernelH * kernelW;
  const plane = inH * inW;
  const outPlane = outH * outW;
  // Per kernel column kw: the output columns where that tap is inside the input.
  const firsts = new Int32Array(kernelW);
  const ends = new Int32Array(kernelW);
  for (let kw = 0; kw < kernelW; kw++) {
    [firsts[kw], ends[kw]] = validOutputRange(kw * dilationW - g.pads.left, strideW, inW, outW);
  }
  for (let n = 0; n < batch; n++) {
    for (let oc = 0; oc < outChannels; oc++) {
      const inAt = (n * inChannels + Math.floor(oc / multiplier)) * plane;
      const outAt = (n * outChannels + oc) * outPlane;
      const weightAt = oc * taps;
      output.fill(w.bias === null ? 0 : w.bias[oc], outAt, outAt + outPlane);
      for (let oy = 0; oy < outH; oy++) {
        const rowAt = outAt + oy * outW;
        for (let kh = 0; kh < kernelH; kh++) {
          const iy = oy * strideH + kh * dilationH - g.pads.top;
          if (iy < 0 || iy >= inH) continue;
          const inRow = inAt + iy * inW;
          for (let kw = 0; kw < kernelW; kw++) {
            const weight = w.weight[weightAt + kh * kernelW + kw];
            const src = inRow + kw * dilationW - g.pads.left;
            const end = ends[kw];
            if (strideW === 1) {
              for (let ox = firsts[kw]; ox < end; ox++) output[rowAt + ox] += weight * input[src + ox];
            } else {
              for (let ox = firsts[kw]; ox < end; ox++) output[rowAt + ox] += weight * input[src + ox * strideW];
            }
          }
        }
      }
      if (residual !== null) for (let i = outAt; i < outAt + outPlane; i++) output[i] += residual[i];
      applyActivation(output, w.activation, outAt, outAt + outPlane);
    }
  }
}
