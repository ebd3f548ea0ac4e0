/**
 * ReduceMean, ReduceMax, ReduceMin and ReduceSum over any set of axes.
 *
 * The axes come from the `axes` attribute before the opset where they became an input (13 for
 * ReduceSum, 18 for the others), from the optional constant second input after it. No axes
 * means every axis, unless noop_with_empty_axes = 1 (input form only) makes the op an identity.
 *
 * At plan time the input's layout is simplified: size-1 dims are dropped and neighbouring dims
 * that are both kept or both reduced are merged. Most real reductions then become one block
 * [outer, reduced, inner]; a mean or max over trailing axes (inner = 1: x.mean([2, 3]) on NCHW,
 * a global pool) runs on the backend's global pool kernel, other blocks on a plain loop, and
 * scattered axes (e.g. [0, 2]) through precomputed offset tables.
 */
import type { Backend } from '../../backends/backend.js';
import { ShapeError } from '../../errors.js';
import { describeNode, NodeAttributes } from '../attributes.js';
import { floatConst, intConst } from '../constant.js';
import { OnnxError } from '../errors.js';
import { affineTable, buildIndexMap } from './index-map.js';
import { constantIntsOf, normalizeAxis, numel, required, runtimeValue, stridesOf } from './shape-utils.js';
import { nodeBasics, type BuildContext, type CompiledOp, type Execution, type PlannedOp, type PlanValue } from './types.js';

export const REDUCE_OPS = ['ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceSum'] as const;
type ReduceKind = 'mean' | 'max' | 'min' | 'sum';

const KIND_OF: Record<string, ReduceKind> = { ReduceMean: 'mean', ReduceMax: 'max', ReduceMin: 'min', ReduceSum: 'sum' };

/** The first opset where each op reads its axes from an input instead of an attribute. */
function axesInputOpset(opType: string): number {
  return opType === 'ReduceSum' ? 13 : 18;
}

/** One accumulator step; max and min let a NaN win, as the global pool kernels do. */
function combine(kind: ReduceKind, acc: number, v: number): number {
  if (kind === 'max') return v > acc || v !== v ? v : acc;
  if (kind === 'min') return v < acc || v !== v ? v : acc;
  return acc + v;
}

function startValue(kind: ReduceKind): number {
  return kind === 'max' ? -Infinity : kind === 'min' ? Infinity : 0;
}

/** How one reduction walks its input, chosen once per input shape. */
type ReduceLayout =
  | { readonly form: 'block'; readonly outer: number; readonly length: number; readonly inner: number }
  | { readonly form: 'scattered'; readonly kept: Int32Array; readonly reduced: Int32Array };

/** Drops size-1 dims, merges runs of kept / reduced dims; one reduced run is a block. */
function layoutOf(shape: readonly number[], reducedAxes: ReadonlySet<number>): ReduceLayout {
  const dims: Array<{ size: number; reduced: boolean }> = [];
  shape.forEach((size, axis) => {
    if (size === 1) return;
    const reduced = reducedAxes.has(axis);
    const last = dims[dims.length - 1];
    if (last && last.reduced === reduced) last.size *= size;
    else dims.push({ size, reduced });
  });
  const reducedRuns = dims.filter((d) => d.reduced).length;
  if (reducedRuns <= 1) {
    const at = dims.findIndex((d) => d.reduced);
    if (at < 0) return { form: 'block', outer: numel(shape), length: 1, inner: 1 };
    return {
      form: 'block',
      outer: numel(dims.slice(0, at).map((d) => d.size)),
      length: dims[at].size,
      inner: numel(dims.slice(at + 1).map((d) => d.size)),
    };
  }
  const strides = stridesOf(dims.map((d) => d.size));
  const mapOver = (reduced: boolean) => {
    const picked = dims.map((d, k) => ({ ...d, stride: strides[k] })).filter((d) => d.reduced === reduced);
    const sizes = picked.map((d) => d.size);
    return buildIndexMap(sizes, picked.map((d) => affineTable(d.size, 0, 1, d.stride)));
  };
  return { form: 'scattered', kept: mapOver(false), reduced: mapOver(true) };
}

/** The reduction in plain JS, for any layout (constants, min/sum, scattered axes). */
function reduceInto(kind: ReduceKind, layout: ReduceLayout, src: ArrayLike<number>, out: Float32Array | number[], scratch: Float64Array): void {
  if (layout.form === 'scattered') {
    const { kept, reduced } = layout;
    for (let o = 0; o < kept.length; o++) {
      const base = kept[o];
      let acc = startValue(kind);
      for (let r = 0; r < reduced.length; r++) acc = combine(kind, acc, src[base + reduced[r]]);
      out[o] = kind === 'mean' ? acc / reduced.length : acc;
    }
    return;
  }
  const { outer, length, inner } = layout;
  // Accumulate a whole inner row at a time (contiguous reads), in float64.
  const acc = scratch.subarray(0, inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(startValue(kind));
    const rowStart = o * length * inner;
    for (let r = 0; r < length; r++) {
      const from = rowStart + r * inner;
      for (let i = 0; i < inner; i++) acc[i] = combine(kind, acc[i], src[from + i]);
    }
    for (let i = 0; i < inner; i++) out[o * inner + i] = kind === 'mean' ? acc[i] / length : acc[i];
  }
}

function executionFor(kind: ReduceKind, layout: ReduceLayout, backend: Backend): Execution {
  if (layout.form === 'block' && layout.inner === 1 && (kind === 'mean' || kind === 'max')) {
    const { outer, length } = layout;
    const poolKind = kind === 'mean' ? 'avg' : 'max';
    return {
      runSync: (ins, outs) => backend.globalPool2dSync(ins[0], poolKind, outer, length, outs[0]),
      run: (ins, outs) => backend.globalPool2d(ins[0], poolKind, outer, length, outs[0]),
      queuesOneCall: true,
    };
  }
  // The scratch row is only used inside one synchronous call, so runs can share it.
  const scratch = new Float64Array(layout.form === 'block' ? layout.inner : 0);
  return { runSync: (ins, outs) => reduceInto(kind, layout, ins[0], outs[0], scratch) };
}

export function buildReduce(ctx: BuildContext): CompiledOp {
  const { node, opset, backend } = ctx;
  const owner = describeNode(node);
  const attrs = new NodeAttributes(node);
  const kind = KIND_OF[node.opType];
  const keepDims = attrs.int('keepdims', 1) !== 0;
  const fromOpset = axesInputOpset(node.opType);
  const axesAsInput = opset >= fromOpset;
  if (axesAsInput && attrs.has('axes')) {
    throw new OnnxError(`${owner}: from opset ${fromOpset} the axes are the second input, not an 'axes' attribute (this model is opset ${opset})`);
  }
  if (!axesAsInput && node.inputs.length > 1 && node.inputs[1] !== '') {
    throw new OnnxError(`${owner}: before opset ${fromOpset} the axes are the 'axes' attribute, not a second input (this model is opset ${opset})`);
  }
  if (!axesAsInput && attrs.has('noop_with_empty_axes')) {
    throw new OnnxError(`${owner}: attribute 'noop_with_empty_axes' exists from opset ${fromOpset} (this model is opset ${opset})`);
  }
  const noopWhenEmpty = attrs.int('noop_with_empty_axes', 0) === 1;
  const axesAttr = attrs.ints('axes');

  return {
    ...nodeBasics(node, undefined, 1),
    plan(inputs) {
      const x = required(inputs, 0, owner, 'data');
      const rank = x.shape.length;
      const given = axesAsInput ? constantIntsOf(inputs[1] ?? null, owner, "the 'axes' input") : axesAttr && [...axesAttr];
      if ((!given || given.length === 0) && noopWhenEmpty) {
        return identityOf(x);
      }
      const axes = given && given.length > 0 ? given.map((a) => normalizeAxis(a, rank, owner, 'axes entry')) : x.shape.map((_, k) => k);
      const reduced = new Set(axes);
      if (reduced.size !== axes.length) {
        throw new OnnxError(`${owner}: axes [${given!.join(', ')}] name the same axis more than once (rank ${rank})`);
      }
      const shape = keepDims ? x.shape.map((d, k) => (reduced.has(k) ? 1 : d)) : x.shape.filter((_, k) => !reduced.has(k));
      const count = numel(axes.map((k) => x.shape[k]));
      if (count === 0 && numel(shape) > 0) {
        throw new ShapeError(`${owner}: cannot reduce over axes [${axes.join(', ')}] of [${x.shape.join(', ')}]: they hold no elements`);
      }
      const layout = layoutOf(x.shape, reduced);
      if (x.constant) {
        const c = x.constant;
        const scratch = new Float64Array(layout.form === 'block' ? layout.inner : 0);
        if (c.kind === 'float') {
          const out = new Float32Array(numel(shape));
          reduceInto(kind, layout, c.data, out, scratch);
          return { outputs: [{ shape, constant: floatConst(shape, out), field: null }], multiplyAdds: 0 };
        }
        const out = new Array<number>(numel(shape)).fill(0);
        reduceInto(kind, layout, c.data, out, scratch);
        // Integer tensors stay integers: a mean truncates, as integer division does.
        return { outputs: [{ shape, constant: intConst(shape, out.map(Math.trunc)), field: null }], multiplyAdds: 0 };
      }
      // Only a channel reduction that keeps the NCHW layout keeps each pixel's receptive field.
      const field = keepDims && rank === 4 && axes.every((k) => k === 1) ? x.field : null;
      return { outputs: [runtimeValue(shape, field)], multiplyAdds: 0, execution: executionFor(kind, layout, backend) };
    },
  };
}

/** noop_with_empty_axes = 1 and no axes: the output is the input (a view, or the constant). */
function identityOf(x: PlanValue): PlannedOp {
  if (x.constant) return { outputs: [{ shape: x.shape, constant: x.constant, field: null }], multiplyAdds: 0 };
  return { outputs: [runtimeValue(x.shape, x.field)], aliasOfInput: 0, multiplyAdds: 0 };
}
