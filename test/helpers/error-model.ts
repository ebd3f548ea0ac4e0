/**
 * The float error model every conv algorithm is held to (native/README.md, "Accuracy"):
 *   |y - y64| <= c * (Cin/groups * KH * KW) * eps32 * sum |w * x|
 * per output, y64 being the float64 sum of the same float32 inputs. It scales with what float32
 * rounding actually depends on (the number of terms and their magnitudes), where a flat 1e-4
 * tolerance is too loose for small sums and too tight for long ones.
 */
import type { ConvGeometry } from '../../lib/planner/geometry.js';

export const EPS32 = 2 ** -23;

/** The c each algorithm is documented to stay within. */
export const ERROR_MODEL_C = 1;

/**
 * The largest c the output needs: max over outputs of |y - y64| / ((Cin/groups KH KW) eps32
 * sum|w x|). Outputs are compared before any activation, without bias or residual (callers
 * run the conv with none of them).
 */
export function measuredC(output: Float32Array, input: Float32Array, g: ConvGeometry, weight: Float32Array): number {
  const cinG = g.inChannels / g.groups;
  const coutG = g.outChannels / g.groups;
  const terms = cinG * g.kernelH * g.kernelW;
  let worst = 0;
  let at = 0;
  for (let n = 0; n < g.batch; n++) {
    for (let o = 0; o < g.outChannels; o++) {
      const group = Math.floor(o / coutG);
      for (let oy = 0; oy < g.outH; oy++) {
        for (let ox = 0; ox < g.outW; ox++, at++) {
          let sum = 0;
          let magnitude = 0;
          for (let ci = 0; ci < cinG; ci++) {
            const plane = ((n * g.inChannels + group * cinG + ci) * g.inH) * g.inW;
            for (let ky = 0; ky < g.kernelH; ky++) {
              const iy = oy * g.strideH + ky * g.dilationH - g.pads.top;
              if (iy < 0 || iy >= g.inH) continue;
              for (let kx = 0; kx < g.kernelW; kx++) {
                const ix = ox * g.strideW + kx * g.dilationW - g.pads.left;
                if (ix < 0 || ix >= g.inW) continue;
                const product = input[plane + iy * g.inW + ix] * weight[((o * cinG + ci) * g.kernelH + ky) * g.kernelW + kx];
                sum += product;
                magnitude += Math.abs(product);
              }
            }
          }
          if (magnitude === 0) {
            if (output[at] !== 0) return Infinity;
            continue;
          }
          worst = Math.max(worst, Math.abs(output[at] - sum) / (terms * EPS32 * magnitude));
        }
      }
    }
  }
  return worst;
}
