/** Concat and Softmax in TypeScript; the BatchNormalization folding a conv or channelAffine uses. */
import { ShapeError } from '../../errors.js';
import { describeNode, NodeAttributes } from '../attributes.js';
import { constAsFloat32, floatConst, intConst } from '../constant.js';
import { OnnxError } from '../errors.js';
import { mergeFields, normalizeAxis, numel, required, runtimeValue } from './shape-utils.js';
import { copyExecution, planCopy } from './strided-copy.js';
import { nodeBasics, type BuildContext, type CompiledOp } from './types.js';

/** Copies each input's [outer x (axisLen x inner)] blocks side by side. */
function concatInto(parts: ReadonlyArray<ArrayLike<number>>, blocks: readonly number[], outer: number, out: Float32Array | number[]): void {
  const rowLength = blocks.reduce((a, b) => a + b, 0);
  let column = 0;
  parts.forEach((part, p) => {
    const block = blocks[p];
    for (let o = 0; o < outer; o++) {
      const src = o * block;
      const dst = o * rowLength + column;
      if (out instanceof Float32Array && part instanceof Float32Array) {
        out.set(part.subarray(src, src + block), dst);
      } else {
        for (let i = 0; i < block; i++) out[dst + i] = part[src + i];
      }
    }
    column += block;
  });
}

export function buildConcat(ctx: BuildContext): CompiledOp {
  const { node } = ctx;
  const owner = describeNode(node);
  const axisAttr = new NodeAttributes(node).int('axis', Number.NaN);
  if (Number.isNaN(axisAttr)) throw new OnnxError(`${owner}: attribute 'axis' is required`);
  return {
    ...nodeBasics(node),
    plan(inputs) {
      const values = inputs.map((_, i) => required(inputs, i, owner, `input ${i}`));
      const first = values[0].shape;
      const axis = normalizeAxis(axisAttr, first.length, owner);
      values.forEach((v, i) => {
        if (v.shape.length !== first.length || v.shape.some((d, k) => k !== axis && d !== first[k])) {
          throw new ShapeError(
            `${owner}: input ${i} has shape [${v.shape.join(', ')}] but must match [${first.join(', ')}] on every axis except ${axis}`,
          );
        }
      });
      const shape = [...first];
      shape[axis] = values.reduce((sum, v) => sum + v.shape[axis], 0);
      const outer = numel(first.slice(0, axis));
      const blocks = values.map((v) => numel(v.shape.slice(axis)));
      const rowLength = blocks.reduce((a, b) => a + b, 0);
      const columns = blocks.map((_, i) => blocks.slice(0, i).reduce((a, b) => a + b, 0));
      if (values.every((v) => v.constant)) {
        const allInt = values.every((v) => v.constant!.kind === 'int');
        const out = allInt ? new Array<number>(numel(shape)).fill(0) : new Float32Array(numel(shape));
        concatInto(values.map((v) => v.constant!.data), blocks, outer, out);
        const constant = allInt ? intConst(shape, out as number[]) : floatConst(shape, out as Float32Array);
        return { outputs: [{ shape, constant, field: null }], multiplyAdds: 0 };
      }
      const field = axis === 1 && shape.length === 4 ? mergeFields(values.map((v) => v.field)) : null;
      return {
        outputs: [runtimeValue(shape, field)],
        multiplyAdds: 0,
        // Input i fills `outer` runs of blocks[i] floats, rowLength apart, from its column on.
        execution: copyExecution(ctx.backend, blocks.map((block, i) => ({
          input: i,
          output: 0,
          plan: planCopy([{ extent: outer, stride: block, dstStride: rowLength }, { extent: block, stride: 1, dstStride: 1 }], 0, columns[i]),
        }))),
        concat: { outer, blocks },
      };
    },
  };
}

/**
 * Softmax. Before opset 13 the input is read as a 2-D [outer, rest] matrix split at `axis`
 * (default 1); from opset 13 it normalises along the single axis (default -1).
 */
export function buildSoftmax(ctx: BuildContext): CompiledOp {
  const { node } = ctx;
  const owner = describeNode(node);
  const legacy = ctx.opset < 13;
  const axisAttr = new NodeAttributes(node).int('axis', legacy ? 1 : -1);
  return {
    ...nodeBasics(node),
    plan(inputs) {
      const x = required(inputs, 0, owner, 'input');
      const axis = normalizeAxis(axisAttr, x.shape.length, owner);
      const outer = numel(x.shape.slice(0, axis));
      const length = legacy ? numel(x.shape.slice(axis)) : x.shape[axis];
      const inner = legacy ? 1 : numel(x.shape.slice(axis + 1));
      if (x.constant) throw new OnnxError(`${owner}: Softmax over a constant is not supported`);
      const groups = { outer, length, inner };
      const { backend } = ctx;
      if (numel(x.shape) === 0) return { outputs: [runtimeValue(x.shape, null)], multiplyAdds: 0, execution: { runSync: () => {} } };
      return {
        outputs: [runtimeValue(x.shape, null)],
        multiplyAdds: 0,
        mixesImages: axis === 0,
        execution: {
          runSync: (ins, outs) => backend.softmaxSync(ins[0], outs[0], groups),
          run: (ins, outs) => backend.softmax(ins[0], outs[0], groups),
          queuesOneCall: true,
        },
      };
    },
  };
}

/** Per-channel scale and shift of an inference BatchNormalization: y = x * scale + shift. */
export interface ChannelAffine {
  readonly scale: Float64Array;
  readonly shift: Float64Array;
}

/** Reads a BatchNormalization's constants (in float64, to fold without extra rounding). */
export function batchNormAffine(ctx: Pick<BuildContext, 'node' | 'opset' | 'constantOf'>): ChannelAffine {
  const { node } = ctx;
  const owner = describeNode(node);
  const attrs = new NodeAttributes(node);
  if (attrs.int('training_mode', 0) !== 0 || node.outputs.slice(1).some((o) => o !== '')) {
    throw new OnnxError(`${owner}: training-mode BatchNormalization (batch statistics, running-stat outputs) is not supported; export the model in eval mode`);
  }
  const epsilon = attrs.float('epsilon', 1e-5);
  const names = ['scale', 'B', 'input_mean', 'input_var'];
  const [gamma, beta, mean, variance] = names.map((what, i) => {
    const name = node.inputs[i + 1];
    const value = name ? ctx.constantOf(name) : undefined;
    if (!value) throw new OnnxError(`${owner}: ${what} must be an initializer (got '${name ?? ''}')`);
    return constAsFloat32(value);
  });
  const channels = gamma.length;
  if ([beta, mean, variance].some((v) => v.length !== channels)) {
    throw new OnnxError(`${owner}: scale, B, mean and var must all hold ${channels} values`);
  }
  const scale = new Float64Array(channels);
  const shift = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    scale[c] = gamma[c] / Math.sqrt(variance[c] + epsilon);
    shift[c] = beta[c] - mean[c] * scale[c];
  }
  return { scale, shift };
}
