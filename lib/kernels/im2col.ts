/**
 * f32-im2col: lays out every receptive field of a convolution as a column, so the convolution
 * becomes one matrix product. For `channels` input planes the result is a
 * (channels * kernelH * kernelW) x (outH * outW) row-major matrix: row (c, kh, kw) holds, for
 * each output position, the input pixel that tap (kh, kw) of channel c sees there, or 0 where it
 * falls in the padding. Any per-side pads, stride and dilation.
 */
import type { WindowGeometry } from '../planner/geometry.js';

/**
 * Output positions ox whose tap at input offset `tapOffset` (= kw * dilation - padBefore) lands
 * inside [0, inSize): returns [first, end). Shared by im2col and the depthwise kernel.
 */
export function validOutputRange(tapOffset: number, stride: number, inSize: number, outSize: number): [number, number] {
  // ox * stride + tapOffset >= 0  and  ox * stride + tapOffset <= inSize - 1
  const first = tapOffset >= 0 ? 0 : Math.ceil(-tapOffset / stride);
  const last = Math.floor((inSize - 1 - tapOffset) / stride);
  const end = Math.min(outSize, last + 1);
  return first >= end ? [0, 0] : [first, end];
}

/**
 * Writes the im2col matrix of `channels` planes of `input` starting at `inputOffset` into
 * `columns`, for the band of output rows [firstRow, endRow) (all of them by default): a
 * (channels * kernelH * kernelW) x ((endRow - firstRow) * outW) row-major matrix. Convolving a
 * large image band by band bounds the size of this buffer.
 */
export function im2col(
  input: Float32Array, inputOffset: number, channels: number, g: WindowGeometry, columns: Float32Array,
  firstRow = 0, endRow = g.outH,
): void {
  const { inH, inW, kernelH, kernelW, strideH, strideW, dilationH, dilationW, outW } = g;
  const plane = inH * inW;
  const outPlane = (endRow - firstRow) * outW;
  let row = 0;
  for (let c = 0; c < channels; c++) {
    const channelAt = inputOffset + c * plane;
    for (let kh = 0; kh < kernelH; kh++) {
      const rowOffset = kh * dilationH - g.pads.top;
      for (let kw = 0; kw < kernelW; kw++, row++) {
        const colOffset = kw * dilationW - g.pads.left;
        const [first, end] = validOutputRange(colOffset, strideW, inW, outW);
        let dst = row * outPlane;
        for (let oy = firstRow; oy < endRow; oy++, dst += outW) {
          const iy = oy * strideH + rowOffset;
          if (iy < 0 || iy >= inH || first >= end) {
            columns.fill(0, dst, dst + outW);
            continue;
          }
          if (first > 0) columns.fill(0, dst, dst + first);
          const src = channelAt + iy * inW + colOffset;
          if (strideW === 1) {
            columns.set(input.subarray(src + first, src + end), dst + first);
          } else {
            for (let ox = first; ox < end; ox++) columns[dst + ox] = input[src + ox * strideW];
          }
          if (end < outW) columns.fill(0, dst + end, dst + outW);
        }
      }
    }
  }
}
