/**
 * col2im for ConvTranspose, the pure-JS kernel (the fallback, and the oracle for
 * native/ops/col2im.cc). The GEMM (a 1x1 conv from the Cin input planes to C x KH x KW footprint
 * planes) gives what each input pixel sends through each tap; input pixel (iy, ix) reaches output
 * (iy SH - padTop + ky DH, ix SW - padLeft + kx DW) through tap (ky, kx). Here each output row
 * gathers the tap rows that land on it (kernel over stride: several per row), so every output
 * value is written once and no clearing pass is needed.
 */

/** The shapes of one col2im: cols is N x C x KH x KW x inH x inW, the output N x C x outH x outW. */
export interface Col2imPlan {
  readonly batch: number;
  readonly channels: number;
  readonly kernelH: number;
  readonly kernelW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly dilationH: number;
  readonly dilationW: number;
  /** Taps landing before output row / column 0 (the ConvTranspose's begin padding) are dropped. */
  readonly padTop: number;
  readonly padLeft: number;
  readonly inH: number;
  readonly inW: number;
  readonly outH: number;
  readonly outW: number;
}

/** output[n, c] = bias[c] (0 without) + every tap row landing on it, for each plane and row. */
export function col2im(cols: Float32Array, bias: Float32Array | null, output: Float32Array, p: Col2imPlan): void {
  const tapPlane = p.inH * p.inW;
  const planeTaps = p.kernelH * p.kernelW * tapPlane;
  for (let plane = 0; plane < p.batch * p.channels; plane++) {
    const b = bias ? bias[plane % p.channels] : 0;
    const from = plane * planeTaps;
    for (let oy = 0; oy < p.outH; oy++) {
      const row = (plane * p.outH + oy) * p.outW;
      output.fill(b, row, row + p.outW);
      for (let ky = 0; ky < p.kernelH; ky++) {
        const t = oy + p.padTop - ky * p.dilationH;
        if (t < 0 || t % p.strideH !== 0 || t / p.strideH >= p.inH) continue;
        const iy = t / p.strideH;
        for (let kx = 0; kx < p.kernelW; kx++) {
          const src = from + (ky * p.kernelW + kx) * tapPlane + iy * p.inW;
          const offset = kx * p.dilationW - p.padLeft;
          for (let ix = 0; ix < p.inW; ix++) {
            const ox = ix * p.strideW + offset;
            if (ox >= 0 && ox < p.outW) output[row + ox] += cols[src + ix];
          }
        }
      }
    }
  }
}
