/**
 * ConvTranspose: the upsampling conv of UNet decoders and segmentation heads. Each input pixel
 * scatters its channels through the kernel into a K x K footprint of the output, `stride` apart:
 *   y[n, co, iy S - P_top + ky D, ix S - P_left + kx D] += x[n, ci, iy, ix] w[ci, co, ky, kx]
 *
 * Run as GEMM + col2im on the backend's packed GEMM: per image and group, the input's channel
 * planes are turned into rows (pixels x Cin/G, the Linear layout), one Linear with the weights
 * rearranged to (Cout/G K K) x Cin/G gives every pixel's footprint contributions, and col2im adds
 * them into place. Output size: the same planner function as the summary
 * (transposedOutputSize); output_shape, auto_pad, output_padding, dilation and groups as ONNX
 * defines them.
 */
import type { LinearKernel } from '../../backends/backend.js';
import { describeNode, NodeAttributes } from '../attributes.js';
import { constAsFloat32, floatConst } from '../constant.js';
import { OnnxError } from '../errors.js';
import { expectNCHW, transposedOutputSize } from '../../planner/geometry.js';
import { numel, required, runtimeValue } from './shape-utils.js';
import { nodeBasics, type BuildContext, type CompiledOp } from './types.js';

interface TransposedWindow {
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly dilation: readonly [number, number];
  readonly outputPadding: readonly [number, number];
  readonly autoPad: string;
  readonly pads?: readonly [number, number, number, number];
  readonly outputShape?: readonly [number, number];
}

function pairOf(attrs: NodeAttributes, name: string, fallback: number, min: number, owner: string): [number, number] {
  const values = attrs.ints(name);
  if (values === undefined) return [fallback, fallback];
  if (values.length !== 2 || values.some((v) => !Number.isInteger(v) || v < min || v >= 2 ** 31)) {
    throw new OnnxError(`${owner}: ${name} must be two integers in [${min}, 2^31) for a 2-D ConvTranspose, got [${values.join(', ')}]`);
  }
  return [values[0], values[1]];
}

function windowOf(ctx: BuildContext, kernelFromWeight: [number, number]): TransposedWindow {
  const owner = describeNode(ctx.node);
  const attrs = new NodeAttributes(ctx.node);
  const kernel = attrs.has('kernel_shape') ? pairOf(attrs, 'kernel_shape', 1, 1, owner) : kernelFromWeight;
  if (kernel[0] !== kernelFromWeight[0] || kernel[1] !== kernelFromWeight[1]) {
    throw new OnnxError(`${owner}: kernel_shape [${kernel.join(', ')}] does not match the weight's ${kernelFromWeight.join(' x ')}`);
  }
  const stride = pairOf(attrs, 'strides', 1, 1, owner);
  const outputPadding = pairOf(attrs, 'output_padding', 0, 0, owner);
  if (outputPadding[0] >= stride[0] && outputPadding[0] > 0) throw new OnnxError(`${owner}: output_padding ${outputPadding[0]} must be smaller than the stride ${stride[0]}`);
  if (outputPadding[1] >= stride[1] && outputPadding[1] > 0) throw new OnnxError(`${owner}: output_padding ${outputPadding[1]} must be smaller than the stride ${stride[1]}`);
  const padList = attrs.ints('pads');
  if (padList && (padList.length !== 4 || padList.some((p) => !Number.isInteger(p) || p < 0 || p >= 2 ** 31))) {
    throw new OnnxError(`${owner}: pads must be four non-negative integers [top, left, bottom, right], got [${padList.join(', ')}]`);
  }
  const outputShape = attrs.ints('output_shape');
  if (outputShape && (outputShape.length < 2 || outputShape.slice(-2).some((v) => !Number.isInteger(v) || v < 1))) {
    throw new OnnxError(`${owner}: output_shape must end with two positive integers (H, W), got [${outputShape.join(', ')}]`);
  }
  const autoPad = attrs.string('auto_pad', 'NOTSET');
  if (!['NOTSET', 'VALID', 'SAME_UPPER', 'SAME_LOWER', ''].includes(autoPad)) throw new OnnxError(`${owner}: auto_pad '${autoPad}' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER`);
  return {
    kernel,
    stride,
    dilation: pairOf(attrs, 'dilations', 1, 1, owner),
    outputPadding,
    autoPad,
    pads: padList ? [padList[0], padList[1], padList[2], padList[3]] : undefined,
    outputShape: outputShape ? [outputShape[outputShape.length - 2], outputShape[outputShape.length - 1]] : undefined,
  };
}

/** Begin / end padding and output size along one axis, per the ONNX ConvTranspose rules. */
function axisGeometry(w: TransposedWindow, axis: 0 | 1, inSize: number, owner: string): { before: number; out: number } {
  const kEff = (w.kernel[axis] - 1) * w.dilation[axis] + 1;
  const full = w.stride[axis] * (inSize - 1) + kEff + w.outputPadding[axis];
  const target = w.outputShape?.[axis] ?? (w.autoPad === 'SAME_UPPER' || w.autoPad === 'SAME_LOWER' ? inSize * w.stride[axis] : undefined);
  let before: number;
  let after: number;
  if (target !== undefined) {
    const total = full - target;
    if (total < 0) throw new OnnxError(`${owner}: output size ${target} along axis ${axis + 2} is larger than the ${full} the window can produce`);
    // SAME_UPPER puts the extra padding at the end, NOTSET with output_shape and SAME_LOWER at the start.
    before = w.autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : total - Math.floor(total / 2);
    after = total - before;
  } else if (w.autoPad === 'VALID' || !w.pads) {
    before = 0;
    after = 0;
  } else {
    before = w.pads[axis];
    after = w.pads[axis + 2];
  }
  const out = transposedOutputSize(inSize, kEff, w.stride[axis], before, after, w.outputPadding[axis]);
  if (out < 1) throw new OnnxError(`${owner}: pads leave no output along axis ${axis + 2} (input ${inSize})`);
  return { before, out };
}

export function buildConvTranspose(ctx: BuildContext): CompiledOp {
  const { node, backend } = ctx;
  const owner = describeNode(node);
  const weightValue = ctx.constantOf(node.inputs[1]);
  if (!weightValue) throw new OnnxError(`${owner}: the weight input '${node.inputs[1]}' must be an initializer or a Constant`);
  if (weightValue.dims.length !== 4) throw new OnnxError(`${owner}: weight of shape [${weightValue.dims.join(', ')}]; a 2-D ConvTranspose needs Cin x Cout/groups x KH x KW`);
  const [inChannels, outPerGroup, kh, kw] = weightValue.dims;
  const groups = new NodeAttributes(node).int('group', 1);
  if (!Number.isInteger(groups) || groups < 1 || inChannels % groups !== 0) {
    throw new OnnxError(`${owner}: group ${groups} must be a positive divisor of the ${inChannels} input channels`);
  }
  const outChannels = outPerGroup * groups;
  const inPerGroup = inChannels / groups;
  const biasName = node.inputs[2];
  const biasValue = biasName ? ctx.constantOf(biasName) : undefined;
  if (biasName && !biasValue) throw new OnnxError(`${owner}: the bias input '${biasName}' must be an initializer or a Constant`);
  const bias = biasValue ? constAsFloat32(biasValue) : null;
  if (bias && bias.length !== outChannels) throw new OnnxError(`${owner}: bias holds ${bias.length} values for ${outChannels} output channels`);
  const window = windowOf(ctx, [kh, kw]);
  const weight = constAsFloat32(weightValue);
  const footprint = outPerGroup * kh * kw;
  // Per group: rows (co, ky, kx), columns ci, so a Linear maps a pixel's Cin/G values to its footprint.
  const kernels: LinearKernel[] = [];
  for (let g = 0; g < groups; g++) {
    const rearranged = new Float32Array(footprint * inPerGroup);
    for (let ci = 0; ci < inPerGroup; ci++) {
      const from = (g * inPerGroup + ci) * footprint;
      for (let r = 0; r < footprint; r++) rearranged[r * inPerGroup + ci] = weight[from + r];
    }
    kernels.push(backend.prepareLinear({ inFeatures: inPerGroup, outFeatures: footprint, weight: rearranged, bias: null, activation: { kind: 'none' } }));
    ctx.unreadWeights?.(rearranged);
  }
  return {
    ...nodeBasics(node, 1, 1, weight.length + (bias?.length ?? 0)),
    plan(inputs) {
      const x = required(inputs, 0, owner, 'X');
      const [batch, , inH, inW] = expectNCHW(owner, x.shape, inChannels);
      const rows = axisGeometry(window, 0, inH, owner);
      const cols = axisGeometry(window, 1, inW, owner);
      const shape = [batch, outChannels, rows.out, cols.out];
      const pixels = inH * inW;
      const outPlane = rows.out * cols.out;
      const [sh, sw] = window.stride;
      const [dh, dw] = window.dilation;
      const run = (src: Float32Array, out: Float32Array) => {
        const pixelRows = new Float32Array(pixels * inPerGroup);
        const contributions = new Float32Array(pixels * footprint);
        for (let n = 0; n < batch; n++) {
          for (let g = 0; g < groups; g++) {
            const inAt = (n * inChannels + g * inPerGroup) * pixels;
            for (let ci = 0; ci < inPerGroup; ci++) for (let p = 0; p < pixels; p++) pixelRows[p * inPerGroup + ci] = src[inAt + ci * pixels + p];
            kernels[g].runSync(pixelRows, pixels, contributions);
            const outAt = (n * outChannels + g * outPerGroup) * outPlane;
            out.fill(0, outAt, outAt + outPerGroup * outPlane);
            col2im(contributions, out, outAt, inH, inW, outPerGroup, kh, kw, sh, sw, dh, dw, rows.before, cols.before, rows.out, cols.out);
            if (bias) {
              for (let co = 0; co < outPerGroup; co++) {
                const b = bias[g * outPerGroup + co];
                const at = outAt + co * outPlane;
                for (let i = at; i < at + outPlane; i++) out[i] += b;
              }
            }
          }
        }
      };
      const multiplyAdds = batch * inChannels * pixels * outPerGroup * kh * kw;
      if (x.constant) {
        const out = new Float32Array(numel(shape));
        run(constAsFloat32(x.constant), out);
        return { outputs: [{ shape, constant: floatConst(shape, out), field: null }], multiplyAdds: 0 };
      }
      return { outputs: [runtimeValue(shape, null)], multiplyAdds, execution: { runSync: (ins, outs) => run(ins[0], outs[0]) } };
    },
  };
}

/** Adds each pixel's footprint (pixels x (co, ky, kx)) into the output planes, skipping what falls in the padding. */
function col2im(
  contributions: Float32Array, out: Float32Array, outAt: number, inH: number, inW: number, outPerGroup: number,
  kh: number, kw: number, sh: number, sw: number, dh: number, dw: number, padTop: number, padLeft: number, outH: number, outW: number,
): void {
  const footprint = outPerGroup * kh * kw;
  for (let iy = 0; iy < inH; iy++) {
    for (let ix = 0; ix < inW; ix++) {
      const from = (iy * inW + ix) * footprint;
      for (let co = 0; co < outPerGroup; co++) {
        const plane = outAt + co * outH * outW;
        for (let ky = 0; ky < kh; ky++) {
          const oy = iy * sh - padTop + ky * dh;
          if (oy < 0 || oy >= outH) continue;
          const row = plane + oy * outW;
          const tap = from + (co * kh + ky) * kw;
          for (let kx = 0; kx < kw; kx++) {
            const ox = ix * sw - padLeft + kx * dw;
            if (ox >= 0 && ox < outW) out[row + ox] += contributions[tap + kx];
          }
        }
      }
    }
  }
}
