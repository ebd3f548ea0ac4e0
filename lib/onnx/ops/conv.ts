/**
 * Conv, with whatever the load-time fusion pass attached to it: a BatchNormalization folded
 * into the weights, a residual Add run as the kernel's residual input, and an activation run
 * in the kernel's epilogue. Weights are packed by the backend once, here, at load.
 */
import { NO_ACTIVATION, type Activation, type ConvKernel, type ConvWeights } from '../../backends/backend.js';
import { applyActivation } from '../../activation.js';
import { checkConvChannels, nextReceptiveField, planConv, type ConvSpec } from '../../planner/geometry.js';
import { describeNode, NodeAttributes } from '../attributes.js';
import { constAsFloat32 } from '../constant.js';
import type { OnnxNode } from '../decode.js';
import { OnnxError } from '../errors.js';
import { broadcastBinary, broadcastShapes } from './broadcast.js';
import { mergeFields, numel, required, runtimeValue } from './shape-utils.js';
import { batchNormAffine } from './tensor-ops.js';
import type { BuildContext, CompiledOp } from './types.js';
import { windowSpecOf, withExtraPads } from './window.js';
import { cropDeadTaps, cropWeights, type TapCrop } from './conv-dead-taps.js';
import { planTapRegions, windowCopies, TAP_REGIONS_MAX_LIVE_FRACTION, tapFilters, type TapRegion, type TapRegions } from './conv-tap-regions.js';
import type { ConvGeometry } from '../../planner/geometry.js';
import type { Execution } from './types.js';
import { copyStrided, type CopyPlan } from './strided-copy.js';

/** An activation node (or pair, for a split HardSwish) run in a kernel's epilogue. */
export interface FusedActivation {
  /** The last absorbed node: its output is the fused op's output. */
  readonly node: OnnxNode;
  /** How the absorbed nodes read in op type names: 'Relu', 'HardSigmoid+Mul'. */
  readonly label: string;
  readonly activation: Activation;
}

/** What the fusion pass attached to one Conv node. */
export interface ConvFusion {
  /** A zero Pad in front of the conv: the conv reads the Pad's input and adds these [t, l, b, r]. */
  readonly pad?: { readonly node: OnnxNode; readonly pads: readonly [number, number, number, number] };
  readonly batchNorm?: OnnxNode;
  /** Add(conv, other): `other` is the residual; the Add node disappears. */
  readonly residual?: { readonly add: OnnxNode; readonly other: string };
  readonly activation?: FusedActivation;
  /** The value the fused op writes: the last absorbed node's output. */
  readonly output: string;
}

function convWeights(ctx: BuildContext, fusion: ConvFusion): Omit<ConvWeights, 'activation'> & { spec: ConvSpec } {
  const { node } = ctx;
  const owner = describeNode(node);
  const attrs = new NodeAttributes(node);
  const weightName = node.inputs[1];
  const weightConst = weightName ? ctx.constantOf(weightName) : undefined;
  if (!weightConst) throw new OnnxError(`${owner}: the weight input '${weightName ?? ''}' must be an initializer`);
  if (weightConst.dims.length !== 4) {
    throw new OnnxError(`${owner}: only 2-D convolutions are supported; the weight has shape [${weightConst.dims.join(', ')}]`);
  }
  const [outChannels, inPerGroup, kernelH, kernelW] = weightConst.dims;
  const groups = attrs.int('group', 1);
  const kernelShape = attrs.ints('kernel_shape');
  if (kernelShape && (kernelShape[0] !== kernelH || kernelShape[1] !== kernelW)) {
    throw new OnnxError(`${owner}: kernel_shape [${kernelShape.join(', ')}] does not match the weight's ${kernelH}x${kernelW}`);
  }
  checkConvChannels(owner, inPerGroup * groups, outChannels, groups);
  let weight = constAsFloat32(weightConst);
  let bias: Float32Array | null = null;
  const biasName = node.inputs[2];
  if (biasName) {
    const biasConst = ctx.constantOf(biasName);
    if (!biasConst) throw new OnnxError(`${owner}: the bias input '${biasName}' must be an initializer`);
    if (biasConst.data.length !== outChannels) {
      throw new OnnxError(`${owner}: the bias holds ${biasConst.data.length} values but the conv has ${outChannels} output channels`);
    }
    bias = constAsFloat32(biasConst);
  }
  if (fusion.batchNorm) {
    const { scale, shift } = batchNormAffine({ node: fusion.batchNorm, opset: ctx.opset, constantOf: ctx.constantOf });
    if (scale.length !== outChannels) {
      throw new OnnxError(`${describeNode(fusion.batchNorm)}: has ${scale.length} channels but follows ${owner} with ${outChannels}`);
    }
    // w' = w * s, b' = b * s + t, per output channel; in float64 then rounded once.
    const perChannel = inPerGroup * kernelH * kernelW;
    const folded = new Float32Array(weight.length);
    const foldedBias = new Float32Array(outChannels);
    for (let co = 0; co < outChannels; co++) {
      for (let i = 0; i < perChannel; i++) folded[co * perChannel + i] = weight[co * perChannel + i] * scale[co];
      foldedBias[co] = (bias ? bias[co] : 0) * scale[co] + shift[co];
    }
    // The unfolded filters are not read again (freed once the load settles, if no other node reads them).
    ctx.unreadWeights?.(weight, bias);
    weight = folded;
    bias = foldedBias;
  }
  const window = windowSpecOf(node, [kernelH, kernelW]);
  const spec: ConvSpec = { ...window, padding: withExtraPads(window.padding, fusion.pad?.pads), inChannels: inPerGroup * groups, outChannels, groups };
  return { inChannels: inPerGroup * groups, outChannels, groups, kernelH, kernelW, weight, bias, spec };
}

/** Bytes of a conv's compact packed form (its filters as a GEMM's A, plus the bias). */
function compactBytesOf(w: { weight: Float32Array; bias: Float32Array | null; outChannels: number }): number {
  return 4 * (w.weight.length + (w.bias ? w.outChannels : 0));
}

/** The same from a Conv node's initializers, before it is built (loadOnnx's weight budget). */
export function compactConvBytes(node: OnnxNode, constantOf: (name: string) => { dims: readonly number[] } | undefined): number {
  const weight = node.inputs[1] ? constantOf(node.inputs[1]) : undefined;
  if (!weight) return 0;
  const floats = weight.dims.reduce((a, b) => a * b, 1);
  return 4 * (floats + (node.inputs[2] ? weight.dims[0] : 0));
}

export function fusedTypeName(node: OnnxNode, fusion: ConvFusion): string {
  const parts = fusion.pad ? [fusion.pad.node.opType, node.opType] : [node.opType];
  if (fusion.batchNorm) parts.push(fusion.batchNorm.opType);
  if (fusion.residual) parts.push(fusion.residual.add.opType);
  if (fusion.activation) parts.push(fusion.activation.label);
  return parts.join('+');
}

export function buildConv(ctx: BuildContext, fusion: ConvFusion): CompiledOp {
  const { node, backend } = ctx;
  const owner = describeNode(node);
  const { spec, ...prepared } = convWeights(ctx, fusion);
  // The filters live on packed in the kernel: once it is prepared, this op keeps no copy (the
  // loader drops the initializers too), unless a fused residual may still need a plain kernel.
  let weights: typeof prepared | undefined = prepared;
  const activation = fusion.activation?.activation ?? NO_ACTIVATION;
  const budget = ctx.weightBudget;
  const compact = compactBytesOf(prepared);
  // Planned at the first plan(), which knows the input size the rule may use (loadOnnx plans
  // at load when the input shapes are declared); later shapes reuse the same kernel.
  let kernel: ConvKernel | undefined;
  const kernelFor = (inputSize: readonly [number, number]): ConvKernel => {
    if (kernel) return kernel;
    kernel = backend.prepareConv2d({
      ...weights!,
      stride: spec.stride,
      dilation: spec.dilation,
      padding: spec.padding,
      inputSize,
      activation,
      maxPackedBytes: budget ? compact + Math.max(0, budget.extraBytes) : undefined,
    });
    if (budget && kernel.plan) budget.extraBytes -= Math.max(0, kernel.plan.packedBytes - compact);
    if (!fusion.residual && !atrous) {
      ctx.unreadWeights?.(weights!.weight, weights!.bias);
      weights = undefined;
    }
    return kernel;
  };
  // Atrous convs keep their weights: an input size at which some taps read only padding runs a
  // kernel cut to the live taps (conv-dead-taps.ts), one per distinct cut.
  const atrous = spec.dilation[0] > 1 || spec.dilation[1] > 1;
  const keptWeights = atrous ? prepared : undefined;
  if (fusion.residual || atrous) ctx.keepsWeights?.(prepared.weight, prepared.bias);
  const croppedKernels = new Map<string, ConvKernel>();
  const croppedKernel = (crop: TapCrop): ConvKernel => {
    const key = `${crop.top},${crop.bottom},${crop.left},${crop.right}`;
    let cropped = croppedKernels.get(key);
    if (!cropped) {
      const g = crop.geometry;
      cropped = backend.prepareConv2d({
        ...keptWeights!, weight: cropWeights(keptWeights!.weight, keptWeights!.kernelH, keptWeights!.kernelW, crop),
        kernelH: g.kernelH, kernelW: g.kernelW, stride: spec.stride, dilation: spec.dilation,
        padding: [g.pads.top, g.pads.left, g.pads.bottom, g.pads.right], inputSize: [g.inH, g.inW], activation,
      });
      croppedKernels.set(key, cropped);
    }
    return cropped;
  };
  // Atrous convs whose outer taps see the input on a band of the output only: one 1x1 conv per
  // live tap over its band (conv-tap-regions.ts), each tap's kernel prepared once.
  const tapKernels = new Map<string, ConvKernel>();
  const tapKernel = (t: TapRegion, withBias: boolean): ConvKernel => {
    const key = `${t.ty},${t.tx}`;
    let k = tapKernels.get(key);
    if (!k) {
      const w = keptWeights!;
      k = backend.prepareConv2d({
        inChannels: w.inChannels, outChannels: w.outChannels, groups: 1, kernelH: 1, kernelW: 1,
        weight: tapFilters(w.weight, w.outChannels, w.inChannels, w.kernelH, w.kernelW, t.ty, t.tx),
        bias: withBias ? w.bias : null, activation: NO_ACTIVATION, padding: 0, inputSize: [t.y1 - t.y0, t.x1 - t.x0],
      });
      tapKernels.set(key, k);
    }
    return k;
  };
  const tapRegionsExecution = (full: ConvGeometry, regions: TapRegions): Execution => {
    const pointwise = (h: number, w: number) => planConv(owner, [full.batch, full.inChannels, h, w], {
      kernel: [1, 1], stride: [1, 1], dilation: [1, 1], padding: 0, inChannels: full.inChannels, outChannels: full.outChannels, groups: 1,
    });
    const whole = { kernel: tapKernel(regions.whole, true), geometry: pointwise(full.inH, full.inW) };
    const parts = regions.partial.map((t) => ({ t, kernel: tapKernel(t, false), geometry: pointwise(t.y1 - t.y0, t.x1 - t.x0) }));
    const inPlanes = full.batch * full.inChannels;
    const outPlanes = full.batch * full.outChannels;
    // Per tap: its input window taken, the output band so far taken (the conv's residual), their
    // sum put back into the band.
    const taps = parts.map((part) => {
      const { t } = part;
      const h = t.y1 - t.y0;
      const w = t.x1 - t.x0;
      return {
        ...part, h, w,
        input: windowCopies(inPlanes, full.inH, full.inW, t.y0 + t.dy, t.x0 + t.dx, h, w).take,
        band: windowCopies(outPlanes, full.outH, full.outW, t.y0, t.x0, h, w),
      };
    });
    const buffers = () => taps.map(({ h, w }) => ({
      input: new Float32Array(inPlanes * h * w), band: new Float32Array(outPlanes * h * w), sum: new Float32Array(outPlanes * h * w),
    }));
    const { stridedCopy, stridedCopySync } = backend;
    const copySync = (from: Float32Array, plan: CopyPlan, to: Float32Array) => {
      if (stridedCopySync) stridedCopySync.call(backend, from, plan, to);
      else copyStrided(from, plan, to);
    };
    const runSync = (ins: readonly Float32Array[], outs: readonly Float32Array[]) => {
      const [x] = ins;
      const [out] = outs;
      whole.kernel.runSync(x, whole.geometry, out, null);
      const bufs = buffers();
      taps.forEach((tap, i) => {
        const { input, band, sum } = bufs[i];
        copySync(x, tap.input, input);
        copySync(out, tap.band.take, band);
        tap.kernel.runSync(input, tap.geometry, sum, band);
        copySync(sum, tap.band.putBack, out);
      });
      if (activation.kind !== 'none') backend.unarySync(out, out, activation);
    };
    return {
      runSync,
      async run(ins, outs) {
        if (!stridedCopy) return runSync(ins, outs);
        // Every step queued at once: the backend orders them by the memory they share (a tap's
        // band is taken after the previous tap put its sum back into the same output).
        const [x] = ins;
        const [out] = outs;
        const bufs = buffers();
        const queued: Promise<void>[] = [whole.kernel.run(x, whole.geometry, out, null)];
        taps.forEach((tap, i) => {
          const { input, band, sum } = bufs[i];
          queued.push(stridedCopy.call(backend, x, tap.input, input), stridedCopy.call(backend, out, tap.band.take, band));
          queued.push(tap.kernel.run(input, tap.geometry, sum, band), stridedCopy.call(backend, sum, tap.band.putBack, out));
        });
        if (activation.kind !== 'none') queued.push(backend.unary(out, out, activation));
        await Promise.all(queued);
      },
      queuesOneCall: stridedCopy !== undefined,
    };
  };
  // Only needed when a residual turns out to broadcast (not the same shape as the conv output).
  let plainKernel: ConvKernel | undefined;
  const params = prepared.weight.length + (prepared.bias ? prepared.bias.length : 0);
  return {
    name: node.name,
    type: fusedTypeName(node, fusion),
    inputs: [fusion.pad ? fusion.pad.node.inputs[0] : node.inputs[0], ...(fusion.residual ? [fusion.residual.other] : [])],
    outputs: [fusion.output],
    params,
    plan(inputs) {
      const x = required(inputs, 0, owner, 'X');
      const full = planConv(owner, x.shape, spec);
      const regions = atrous && !fusion.residual ? planTapRegions(full) : null;
      if (regions && regions.liveFraction <= TAP_REGIONS_MAX_LIVE_FRACTION) {
        return {
          outputs: [runtimeValue([full.batch, full.outChannels, full.outH, full.outW], nextReceptiveField(x.field, spec.kernel, spec.dilation, spec.stride))],
          // Counted as the lecture counts a conv (every tap), however it runs.
          multiplyAdds: full.batch * full.outChannels * full.outH * full.outW * full.inChannels * full.kernelH * full.kernelW,
          execution: tapRegionsExecution(full, regions),
        };
      }
      const crop = atrous && !fusion.residual ? cropDeadTaps(full) : null;
      const geometry = crop ? crop.geometry : full;
      const kernel = crop ? croppedKernel(crop) : kernelFor([geometry.inH, geometry.inW]);
      const shape = [geometry.batch, geometry.outChannels, geometry.outH, geometry.outW];
      // Counted as the lecture counts a conv (every tap), cut or not.
      const multiplyAdds = full.batch * full.outChannels * full.outH * full.outW *
        (full.inChannels / full.groups) * full.kernelH * full.kernelW;
      const field = nextReceptiveField(x.field, spec.kernel, spec.dilation, spec.stride);
      const residual = fusion.residual ? required(inputs, 1, owner, 'residual') : null;
      if (!residual || residual.shape.join() === shape.join()) {
        return {
          outputs: [runtimeValue(shape, residual ? mergeFields([field, residual.field]) : field)],
          multiplyAdds,
          execution: {
            runSync: (ins, outs) => kernel.runSync(ins[0], geometry, outs[0], residual ? ins[1] : null),
            run: (ins, outs) => kernel.run(ins[0], geometry, outs[0], residual ? ins[1] : null),
            queuesOneCall: true,
          },
        };
      }
      // The residual broadcasts: conv without epilogue, then the Add and activation in TS. When
      // the sum is larger than the conv output (a 1x1 conv result spread over a map), the conv
      // writes a per-run scratch buffer instead of the output.
      const sumShape = broadcastShapes(shape, residual.shape, describeNode(fusion.residual!.add));
      const inPlace = sumShape.join() === shape.join();
      const convSize = numel(shape);
      plainKernel ??= backend.prepareConv2d({
        ...weights!, stride: spec.stride, dilation: spec.dilation, padding: spec.padding, activation: NO_ACTIVATION,
        inputSize: [geometry.inH, geometry.inW], algorithm: kernel.plan?.algorithm,
      });
      const conv = plainKernel;
      const target = (out: Float32Array) => (inPlace ? out : new Float32Array(convSize));
      const finish = (ins: readonly Float32Array[], convOut: Float32Array, out: Float32Array) => {
        broadcastBinary(convOut, shape, ins[1], residual.shape, out, sumShape, (a, b) => a + b);
        applyActivation(out, activation);
      };
      return {
        outputs: [runtimeValue(sumShape, inPlace ? field : null)],
        multiplyAdds,
        execution: {
          runSync(ins, outs) {
            const convOut = target(outs[0]);
            conv.runSync(ins[0], geometry, convOut, null);
            finish(ins, convOut, outs[0]);
          },
          async run(ins, outs) {
            const convOut = target(outs[0]);
            await conv.run(ins[0], geometry, convOut, null);
            finish(ins, convOut, outs[0]);
          },
        },
      };
    },
  };
}
