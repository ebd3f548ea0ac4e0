/**
 * ConvTranspose: the upsampling conv of UNet decoders and segmentation heads. Each input pixel
 * scatters its channels through the kernel into a K x K footprint of the output, `stride` apart:
 *   y[n, co, iy S - P_top + ky D, ix S - P_left + kx D] += x[n, ci, iy, ix] w[ci, co, ky, kx]
 *
 * Run as GEMM + col2im: a grouped 1x1 conv on the backend's packed GEMM, with the weights
 * rearranged to (Cout/G K K) x Cin/G per group, reads the NCHW input as it is and writes every
 * pixel's footprint contributions as planes; col2im (native/ops/col2im.cc on the native backend,
 * lib/kernels/col2im.ts elsewhere) adds them into place. Output size: the same planner function as the summary
 * (transposedOutputSize); output_shape, auto_pad, output_padding, dilation and groups as ONNX
 * defines them.
 */
import type { Backend, ConvKernel } from '../../backends/backend.js';
import { col2im, type Col2imPlan } from '../../kernels/col2im.js';
import { copyStrided, planCopy } from './strided-copy.js';
import { describeNode, NodeAttributes } from '../attributes.js';
import { constAsFloat32, floatConst } from '../constant.js';
import { OnnxError } from '../errors.js';
import { expectNCHW, planConv, transposedOutputSize, transposedReceptiveField, type ConvGeometry } from '../../planner/geometry.js';
import { numel, required, runtimeValue } from './shape-utils.js';
import { nodeBasics, type BuildContext, type CompiledOp, type Execution } from './types.js';

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

/**
 * The kernel == stride form as two steps, each a backend call where the backend has them: a 1x1
 * conv from the Cin input planes to Cout x KH x KW footprint planes (filter (co, ky, kx) is column
 * (co, ky, kx) of the weight, its bias the channel's), then the footprint planes to their places
 * in the output (a strided copy: output (co, iy S + ky, ix S + kx) is plane (co, ky, kx) at pixel
 * (iy, ix)). The 1x1 conv reads the NCHW planes as they are: no pixel-row transpose.
 */
function tiledExecution(
  backend: Backend, conv: ConvKernel, geometry: ConvGeometry, outChannels: number, kh: number, kw: number,
): Execution {
  const { batch, inH, inW } = geometry;
  const pixels = inH * inW;
  const footprint = outChannels * kh * kw;
  const outW = inW * kw;
  const outPlane = inH * kh * outW;
  // Source: [n, co, ky, kx, iy, ix]; each row of a plane goes to every kw-th pixel of one output row.
  const place = planCopy([
    { extent: batch, stride: footprint * pixels, dstStride: outChannels * outPlane },
    { extent: outChannels, stride: kh * kw * pixels, dstStride: outPlane },
    { extent: kh, stride: kw * pixels, dstStride: outW },
    { extent: kw, stride: pixels, dstStride: 1 },
    { extent: inH, stride: inW, dstStride: kh * outW },
    { extent: inW, stride: 1, dstStride: kw },
  ]);
  const { stridedCopySync, stridedCopy } = backend;
  const footprints = () => new Float32Array(batch * footprint * pixels);
  return {
    runSync(ins, outs) {
      const planes = footprints();
      conv.runSync(ins[0], geometry, planes, null);
      if (stridedCopySync) stridedCopySync.call(backend, planes, place, outs[0]);
      else copyStrided(planes, place, outs[0]);
    },
    async run(ins, outs) {
      const planes = footprints();
      await conv.run(ins[0], geometry, planes, null);
      if (stridedCopy) await stridedCopy.call(backend, planes, place, outs[0]);
      else copyStrided(planes, place, outs[0]);
    },
  };
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
  // kernel == stride, no padding, no dilation (UNet's 2x2 stride-2 up-conv): every output pixel
  // hears exactly one input pixel through one tap, so col2im is a permutation (tiledExecution)
  // and the bias can ride in the GEMM's epilogue (repeated over each channel's taps).
  const tiles = groups === 1 && window.dilation[0] === 1 && window.dilation[1] === 1 &&
    window.stride[0] === kh && window.stride[1] === kw && window.outputPadding[0] === 0 && window.outputPadding[1] === 0 &&
    !window.outputShape && (window.autoPad === 'NOTSET' || window.autoPad === 'VALID' || window.autoPad === '') &&
    (!window.pads || window.pads.every((p) => p === 0));
  // Per group: the filters rearranged to rows (co, ky, kx), columns ci; the groups' rows one
  // after the other are a grouped 1x1 conv's filters (G x footprint outputs, Cin / G inputs each),
  // whose output planes are every input pixel's footprint: [n, (g, co), ky, kx, iy, ix]. The tiled
  // form (one group) gives each footprint channel its output channel's bias; the general form adds
  // the bias in col2im.
  const rearranged = new Float32Array(groups * footprint * inPerGroup);
  for (let g = 0; g < groups; g++) {
    for (let ci = 0; ci < inPerGroup; ci++) {
      const from = (g * inPerGroup + ci) * footprint;
      const to = g * footprint * inPerGroup;
      for (let r = 0; r < footprint; r++) rearranged[to + r * inPerGroup + ci] = weight[from + r];
    }
  }
  const footprintConv = backend.prepareConv2d({
    inChannels, outChannels: groups * footprint, groups, kernelH: 1, kernelW: 1, activation: { kind: 'none' }, padding: 0,
    weight: rearranged,
    bias: tiles && bias ? Float32Array.from({ length: footprint }, (_, r) => bias[Math.floor(r / (kh * kw))]) : null,
  });
  ctx.unreadWeights?.(rearranged);
  const pointwise = (n: number, h: number, w: number) => planConv(owner, [n, inChannels, h, w], {
    kernel: [1, 1], stride: [1, 1], dilation: [1, 1], padding: 0, inChannels, outChannels: groups * footprint, groups,
  });
  return {
    ...nodeBasics(node, 1, 1, weight.length + (bias?.length ?? 0)),
    plan(inputs) {
      const x = required(inputs, 0, owner, 'X');
      const [batch, , inH, inW] = expectNCHW(owner, x.shape, inChannels);
      const rows = axisGeometry(window, 0, inH, owner);
      const cols = axisGeometry(window, 1, inW, owner);
      const shape = [batch, outChannels, rows.out, cols.out];
      const multiplyAdds = batch * inChannels * inH * inW * outPerGroup * kh * kw;
      const field = transposedReceptiveField(x.field, [kh, kw], window.dilation, window.stride);
      const geometry = pointwise(batch, inH, inW);
      const execution = tiles
        ? tiledExecution(backend, footprintConv, geometry, outChannels, kh, kw)
        : col2imExecution(backend, footprintConv, geometry, bias, {
          batch, channels: outChannels, kernelH: kh, kernelW: kw, strideH: window.stride[0], strideW: window.stride[1],
          dilationH: window.dilation[0], dilationW: window.dilation[1], padTop: rows.before, padLeft: cols.before,
          inH, inW, outH: rows.out, outW: cols.out,
        });
      if (x.constant) {
        const out = new Float32Array(numel(shape));
        execution.runSync([constAsFloat32(x.constant)], [out]);
        return { outputs: [{ shape, constant: floatConst(shape, out), field: null }], multiplyAdds: 0 };
      }
      return { outputs: [runtimeValue(shape, field)], multiplyAdds, execution };
    },
  };
}

/**
 * The general form (kernel over stride, padding, dilation, groups): the footprint conv, then
 * col2im adds each output pixel's taps (the backend's where it has one, else the pure-JS kernel).
 */
function col2imExecution(
  backend: Backend, conv: ConvKernel, geometry: ConvGeometry, bias: Float32Array | null, plan: Col2imPlan,
): Execution {
  const footprints = () => new Float32Array(plan.batch * plan.channels * plan.kernelH * plan.kernelW * plan.inH * plan.inW);
  const { col2imSync, col2im: col2imAsync } = backend;
  return {
    runSync(ins, outs) {
      const planes = footprints();
      conv.runSync(ins[0], geometry, planes, null);
      if (col2imSync) col2imSync.call(backend, planes, bias, outs[0], plan);
      else col2im(planes, bias, outs[0], plan);
    },
    async run(ins, outs) {
      const planes = footprints();
      await conv.run(ins[0], geometry, planes, null);
      if (col2imAsync) await col2imAsync.call(backend, planes, bias, outs[0], plan);
      else col2im(planes, bias, outs[0], plan);
    },
  };
}
