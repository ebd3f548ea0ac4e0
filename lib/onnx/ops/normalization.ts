/**
 * Normalisations over groups of values, each group normalised by its own mean and variance and
 * then scaled and shifted:
 *   LayerNormalization (opset 17)      groups: every index of the axes before `axis`; it
 *                                      normalises over axes [axis, rank) (ConvNeXt, Swin, ViT).
 *   InstanceNormalization (opset 6)    groups: each (image, channel) plane; scale and B per channel.
 *   GroupNormalization (opset 18, 21)  groups: each image's channels cut into num_groups runs;
 *                                      scale and bias per group (18) or per channel (21).
 * y = (x - mean) / sqrt(var + epsilon) * scale + bias, with the mean and variance accumulated in
 * float64 (onnxruntime accumulates in float32; float64 is the closer reference).
 */
import { describeNode, NodeAttributes } from '../attributes.js';
import { layerNorm } from '../../kernels/layernorm.js';
import { constAsFloat32, floatConst } from '../constant.js';
import { OnnxError } from '../errors.js';
import { normalizeAxis, numel, required, runtimeValue } from './shape-utils.js';
import { nodeBasics, type BuildContext, type CompiledOp, type PlanValue } from './types.js';

/**
 * How one input shape splits into normalisation groups: `groups` groups of `length` contiguous
 * values; the affine parameter of value i in group g is at (affineOf(g, i)).
 */
interface GroupLayout {
  readonly groups: number;
  readonly length: number;
  /** Index into scale / bias for value i (0 <= i < length) of group g. */
  affineIndex(g: number, i: number): number;
}

function normalizeGroups(
  src: ArrayLike<number>, out: Float32Array, layout: GroupLayout, epsilon: number, scale: Float32Array | null, bias: Float32Array | null,
): void {
  const { groups, length } = layout;
  for (let g = 0; g < groups; g++) {
    const at = g * length;
    let sum = 0;
    for (let i = 0; i < length; i++) sum += src[at + i];
    const mean = sum / length;
    let squares = 0;
    for (let i = 0; i < length; i++) {
      const d = src[at + i] - mean;
      squares += d * d;
    }
    const inverse = 1 / Math.sqrt(squares / length + epsilon);
    for (let i = 0; i < length; i++) {
      const k = layout.affineIndex(g, i);
      const s = scale ? scale[k] : 1;
      const b = bias ? bias[k] : 0;
      out[at + i] = (src[at + i] - mean) * inverse * s + b;
    }
  }
}

/** A per-node constant parameter (scale or bias) of the expected length, or an error naming it. */
function parameterOf(ctx: BuildContext, index: number, what: string, optional: boolean): Float32Array | null {
  const owner = describeNode(ctx.node);
  const name = ctx.node.inputs[index];
  if (name === undefined || name === '') {
    if (optional) return null;
    throw new OnnxError(`${owner}: input ${index} (${what}) is required`);
  }
  const value = ctx.constantOf(name);
  if (!value) throw new OnnxError(`${owner}: ${what} '${name}' must be an initializer or a Constant`);
  return constAsFloat32(value);
}

function checkLength(values: Float32Array | null, want: number, owner: string, what: string): void {
  if (values && values.length !== want) throw new OnnxError(`${owner}: ${what} holds ${values.length} values, the normalised axes need ${want}`);
}

/**
 * The shared op shell: one input, one output, a layout per input shape. With `viaBackend`, a
 * layout whose affine index is the position in the group (LayerNorm's) runs on the backend's
 * layerNorm kernel as [groups, length, inner]: inner 1 for trailing axes, H*W for the channel
 * LayerNorm of an NCHW map.
 */
function normalizationOp(
  ctx: BuildContext, epsilon: number, scale: Float32Array | null, bias: Float32Array | null,
  layoutFor: (x: PlanValue) => GroupLayout, viaBackend?: (x: PlanValue) => { outer: number; length: number; inner: number },
): CompiledOp {
  const owner = describeNode(ctx.node);
  if (ctx.node.outputs.slice(1).some((o) => o !== '')) {
    throw new OnnxError(`${owner}: only output Y is supported (the mean and inverse-deviation outputs are training-time values)`);
  }
  if (!(epsilon >= 0)) throw new OnnxError(`${owner}: epsilon must be a non-negative number, got ${epsilon}`);
  return {
    ...nodeBasics(ctx.node, 1, 1, (scale?.length ?? 0) + (bias?.length ?? 0)),
    plan(inputs) {
      const x = required(inputs, 0, owner, 'X');
      const groups = viaBackend && scale ? { ...viaBackend(x), scale, bias, epsilon } : null;
      const layout = groups ? null : layoutFor(x);
      const normalize = (src: Float32Array, out: Float32Array) =>
        groups ? layerNorm(src, out, groups) : normalizeGroups(src, out, layout!, epsilon, scale, bias);
      if (x.constant) {
        const out = new Float32Array(numel(x.shape));
        normalize(constAsFloat32(x.constant), out);
        return { outputs: [{ shape: x.shape, constant: floatConst(x.shape, out), field: null }], multiplyAdds: 0 };
      }
      const { backend } = ctx;
      return {
        outputs: [runtimeValue(x.shape, x.field)],
        multiplyAdds: numel(x.shape) * 2,
        execution: groups
          ? {
            runSync: (ins, outs) => backend.layerNormSync(ins[0], outs[0], groups),
            run: (ins, outs) => backend.layerNorm(ins[0], outs[0], groups),
            queuesOneCall: true,
          }
          : { runSync: (ins, outs) => normalize(ins[0], outs[0]) },
      };
    },
  };
}

export function buildLayerNormalization(ctx: BuildContext): CompiledOp {
  const owner = describeNode(ctx.node);
  const attrs = new NodeAttributes(ctx.node);
  const axisAttr = attrs.int('axis', -1);
  const scale = parameterOf(ctx, 1, 'Scale', false);
  const bias = parameterOf(ctx, 2, 'B', true);
  const layout = (x: PlanValue) => {
    const axis = normalizeAxis(axisAttr, x.shape.length, owner);
    const length = numel(x.shape.slice(axis));
    checkLength(scale, length, owner, 'Scale');
    checkLength(bias, length, owner, 'B');
    return { groups: numel(x.shape.slice(0, axis)), length, affineIndex: (_g: number, i: number) => i };
  };
  return normalizationOp(ctx, attrs.float('epsilon', 1e-5), scale, bias, layout, (x) => {
    const { groups, length } = layout(x);
    return { outer: groups, length, inner: 1 };
  });
}

/**
 * The channel LayerNorm of an N x C x D1 ... map: each pixel's C values normalised together,
 * scale and bias per channel. ONNX has no such op; lib/onnx/fusion-channels-last.ts makes it
 * from ConvNeXt's Transpose(to NHWC) + LayerNormalization(last axis) + Transpose(back), with the
 * node's axis, epsilon, Scale and B.
 */
export function buildChannelLayerNorm(ctx: BuildContext): CompiledOp {
  const owner = describeNode(ctx.node);
  const scale = parameterOf(ctx, 1, 'Scale', false);
  const bias = parameterOf(ctx, 2, 'B', true);
  const unused = () => {
    throw new OnnxError(`${owner}: internal error: the channel LayerNorm has no group layout`);
  };
  return normalizationOp(ctx, new NodeAttributes(ctx.node).float('epsilon', 1e-5), scale, bias, unused, (x) => {
    if (x.shape.length < 3) throw new OnnxError(`${owner}: input of rank ${x.shape.length}; a channel LayerNorm needs N x C x D1 ...`);
    const channels = x.shape[1];
    checkLength(scale, channels, owner, 'Scale');
    checkLength(bias, channels, owner, 'B');
    return { outer: x.shape[0], length: channels, inner: numel(x.shape.slice(2)) };
  });
}

export function buildInstanceNormalization(ctx: BuildContext): CompiledOp {
  const owner = describeNode(ctx.node);
  const scale = parameterOf(ctx, 1, 'scale', false);
  const bias = parameterOf(ctx, 2, 'B', false);
  return normalizationOp(ctx, new NodeAttributes(ctx.node).float('epsilon', 1e-5), scale, bias, (x) => {
    if (x.shape.length < 3) throw new OnnxError(`${owner}: input of rank ${x.shape.length}; InstanceNormalization needs N x C x D1 ...`);
    const channels = x.shape[1];
    checkLength(scale, channels, owner, 'scale');
    checkLength(bias, channels, owner, 'B');
    return { groups: x.shape[0] * channels, length: numel(x.shape.slice(2)), affineIndex: (g) => g % channels };
  });
}

export function buildGroupNormalization(ctx: BuildContext): CompiledOp {
  const owner = describeNode(ctx.node);
  const attrs = new NodeAttributes(ctx.node);
  const numGroups = attrs.int('num_groups', 0);
  const scale = parameterOf(ctx, 1, 'scale', false);
  const bias = parameterOf(ctx, 2, 'bias', false);
  // Opset 18 gives one scale per group (deprecated), opset 21 one per channel.
  const perChannel = ctx.opset >= 21;
  return normalizationOp(ctx, attrs.float('epsilon', 1e-5), scale, bias, (x) => {
    if (x.shape.length < 3) throw new OnnxError(`${owner}: input of rank ${x.shape.length}; GroupNormalization needs N x C x D1 ...`);
    const channels = x.shape[1];
    if (!Number.isInteger(numGroups) || numGroups < 1 || channels % numGroups !== 0) {
      throw new OnnxError(`${owner}: num_groups ${numGroups} must be a positive divisor of the ${channels} channels`);
    }
    const plane = numel(x.shape.slice(2));
    const perGroup = channels / numGroups;
    checkLength(scale, perChannel ? channels : numGroups, owner, 'scale');
    checkLength(bias, perChannel ? channels : numGroups, owner, 'bias');
    return {
      groups: x.shape[0] * numGroups,
      length: perGroup * plane,
      affineIndex: perChannel ? (g, i) => (g % numGroups) * perGroup + Math.floor(i / plane) : (g) => g % numGroups,
    };
  });
}
