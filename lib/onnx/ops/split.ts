/**
 * Split: one input cut along an axis into several outputs (ShuffleNet's channel split,
 * torch.split / unbind). The part sizes come from whichever form the opset defines:
 *   opset 7-12   the `split` attribute, or equal parts, one per output;
 *   opset 13-17  `split` as an optional constant second input, or equal parts;
 *   opset 18+    the second input, or the `num_outputs` attribute (chunks of ceil(size / n),
 *                the last one smaller when the size does not divide).
 * Sizes are resolved per input shape at plan time; a run is one block copy per part and row.
 */
import { describeNode, NodeAttributes } from '../attributes.js';
import { floatConst, intConst, type ConstTensor } from '../constant.js';
import { OnnxError } from '../errors.js';
import { constantIntsOf, normalizeAxis, numel, required, runtimeValue } from './shape-utils.js';
import { copyExecution, planCopy } from './strided-copy.js';
import { nodeBasics, type BuildContext, type CompiledOp, type PlanValue } from './types.js';

/** Where each part starts along the axis, and how big it is. */
interface SplitLayout {
  /** Product of the dims before the axis. */
  readonly outer: number;
  /** The axis size. */
  readonly axisSize: number;
  /** Product of the dims after the axis. */
  readonly inner: number;
  readonly sizes: readonly number[];
  readonly starts: readonly number[];
}

/** Copies part `p` of every outer row of `source` into `out`. */
function copyPart(source: ArrayLike<number>, layout: SplitLayout, p: number, out: Float32Array | number[]): void {
  const { outer, axisSize, inner } = layout;
  const block = layout.sizes[p] * inner;
  for (let o = 0; o < outer; o++) {
    const from = (o * axisSize + layout.starts[p]) * inner;
    const to = o * block;
    if (out instanceof Float32Array && source instanceof Float32Array) {
      out.set(source.subarray(from, from + block), to);
    } else {
      for (let i = 0; i < block; i++) out[to + i] = source[from + i];
    }
  }
}

/** Splits a constant at plan time (shape chains that cut a shape vector apart). */
function splitConstant(c: ConstTensor, layout: SplitLayout, shapes: readonly number[][]): ConstTensor[] {
  return shapes.map((shape, p) => {
    if (c.kind === 'float') {
      const out = new Float32Array(numel(shape));
      copyPart(c.data, layout, p, out);
      return floatConst(shape, out);
    }
    const out = new Array<number>(numel(shape)).fill(0);
    copyPart(c.data, layout, p, out);
    return intConst(shape, out);
  });
}

export function buildSplit(ctx: BuildContext): CompiledOp {
  const { node, opset } = ctx;
  const owner = describeNode(node);
  const attrs = new NodeAttributes(node);
  const axisAttr = attrs.int('axis', 0);
  const outputCount = node.outputs.length;
  if (outputCount < 1) throw new OnnxError(`${owner}: Split needs at least one output`);
  const splitAttr = attrs.ints('split');
  const hasSizeInput = node.inputs.length > 1 && node.inputs[1] !== '';
  const sizesAsInput = opset >= 13;
  if (sizesAsInput && splitAttr) {
    throw new OnnxError(`${owner}: from opset 13 the part sizes are the second input, not a 'split' attribute (this model is opset ${opset})`);
  }
  if (!sizesAsInput && hasSizeInput) {
    throw new OnnxError(`${owner}: before opset 13 the part sizes are the 'split' attribute, not a second input (this model is opset ${opset})`);
  }
  const numOutputs = attrs.has('num_outputs') ? attrs.int('num_outputs', 0) : undefined;
  if (numOutputs !== undefined && opset < 18) {
    throw new OnnxError(`${owner}: attribute 'num_outputs' exists from opset 18 (this model is opset ${opset})`);
  }
  if (opset >= 18 && numOutputs === undefined && !hasSizeInput) {
    // Opset 18 dropped the equal-parts default (onnxruntime refuses such a node too).
    throw new OnnxError(`${owner}: from opset 18 Split needs the 'split' input or the 'num_outputs' attribute; it has neither`);
  }
  if (numOutputs !== undefined && numOutputs !== outputCount) {
    throw new OnnxError(`${owner}: num_outputs is ${numOutputs} but the node has ${outputCount} outputs`);
  }

  /** Why a size check may fail only at some batch sizes: the loader plans a symbolic batch as 1. */
  const batchHint = (axis: number) => (axis === 0 ? ' (axis 0 is the batch: the parts must fit every batch size the model runs at, and loading plans a symbolic batch as 1)' : '');

  /** The part sizes for an axis of this size, checked against the rules of the spec. */
  const partSizes = (sizeInput: PlanValue | null, axis: number, axisSize: number): number[] => {
    const given = sizesAsInput ? constantIntsOf(sizeInput, owner, "the 'split' input") : splitAttr && [...splitAttr];
    if (given && numOutputs !== undefined) {
      throw new OnnxError(`${owner}: give either the 'split' input or the 'num_outputs' attribute, not both`);
    }
    if (given) {
      if (given.length !== outputCount) {
        throw new OnnxError(`${owner}: split [${given.join(', ')}] has ${given.length} parts but the node has ${outputCount} outputs`);
      }
      if (given.some((s) => !Number.isInteger(s) || s < 0)) {
        throw new OnnxError(`${owner}: split [${given.join(', ')}] must hold non-negative integers`);
      }
      const total = given.reduce((a, b) => a + b, 0);
      if (total !== axisSize) {
        throw new OnnxError(`${owner}: split [${given.join(', ')}] sums to ${total} but the axis being split has size ${axisSize}${batchHint(axis)}`);
      }
      return given;
    }
    if (numOutputs !== undefined) {
      // Opset 18: chunks of ceil(size / n); the last takes what is left and must not be empty.
      const chunk = Math.ceil(axisSize / numOutputs);
      const last = axisSize - chunk * (numOutputs - 1);
      if (last <= 0) {
        throw new OnnxError(`${owner}: num_outputs ${numOutputs} cannot split an axis of size ${axisSize} (chunks of ${chunk} leave ${last} for the last output)${batchHint(axis)}`);
      }
      return Array.from({ length: numOutputs }, (_, p) => (p < numOutputs - 1 ? chunk : last));
    }
    if (axisSize % outputCount !== 0) {
      throw new OnnxError(`${owner}: without split sizes the axis of size ${axisSize} must divide evenly into ${outputCount} outputs${batchHint(axis)}`);
    }
    return new Array<number>(outputCount).fill(axisSize / outputCount);
  };

  return {
    ...nodeBasics(node),
    plan(inputs) {
      const x = required(inputs, 0, owner, 'input');
      const axis = normalizeAxis(axisAttr, x.shape.length, owner);
      const axisSize = x.shape[axis];
      const sizes = partSizes(inputs[1] ?? null, axis, axisSize);
      const starts: number[] = [];
      sizes.reduce((start, size) => (starts.push(start), start + size), 0);
      const layout: SplitLayout = {
        outer: numel(x.shape.slice(0, axis)),
        axisSize,
        inner: numel(x.shape.slice(axis + 1)),
        sizes,
        starts,
      };
      const shapes = sizes.map((size) => x.shape.map((d, k) => (k === axis ? size : d)));
      if (x.constant) {
        const constants = splitConstant(x.constant, layout, shapes);
        return { outputs: shapes.map((shape, p) => ({ shape, constant: constants[p], field: null })), multiplyAdds: 0 };
      }
      // Cutting the batch or the channels leaves each pixel's receptive field as it was.
      const field = x.shape.length === 4 && axis <= 1 ? x.field : null;
      return {
        outputs: shapes.map((shape) => runtimeValue(shape, field)),
        multiplyAdds: 0,
        // Part p: `outer` runs of sizes[p] * inner floats, from starts[p] * inner in each input row.
        execution: copyExecution(ctx.backend, sizes.map((size, p) => ({
          input: 0,
          output: p,
          plan: planCopy([
            { extent: layout.outer, stride: axisSize * layout.inner, dstStride: size * layout.inner },
            { extent: size * layout.inner, stride: 1, dstStride: 1 },
          ], starts[p] * layout.inner),
        }))),
      };
    },
  };
}
