/**
 * Operators that reshape, reorder or describe tensors. On constants (the Shape -> Gather ->
 * Unsqueeze -> Concat -> Reshape chains exporters emit around a flatten) they are evaluated at
 * plan time, once per input shape; on runtime tensors the reshaping ones are free views of
 * their input and the reordering ones (Transpose, Slice, Gather) are one gather loop.
 */
import { ShapeError } from '../../errors.js';
import { describeNode, NodeAttributes } from '../attributes.js';
import { constValues, floatConst, intConst, type ConstTensor } from '../constant.js';
import { DataType } from '../schema.js';
import { OnnxError } from '../errors.js';
import { copyStrided, planCopy, type CopyAxis, type CopyPlan } from './strided-copy.js';
import { constantIntsOf, normalizeAxis, numel, required, runtimeValue, stridesOf } from './shape-utils.js';
import type { BuildContext, CompiledOp, PlannedOp, PlanValue } from './types.js';

/** The single-output op shape most of these share. */
function simpleOp(ctx: BuildContext, plan: (inputs: ReadonlyArray<PlanValue | null>) => PlannedOp, inputs = ctx.node.inputs): CompiledOp {
  return { name: ctx.node.name, type: ctx.node.opType, inputs, outputs: ctx.node.outputs.slice(0, 1), params: 0, plan };
}

/** Output of a view op: a new shape over the same data, folded when the input is constant. */
function viewOf(input: PlanValue, shape: number[], keepField: boolean): PlannedOp {
  if (input.constant) {
    const c = input.constant;
    const constant = c.kind === 'float' ? floatConst(shape, c.data) : intConst(shape, c.data);
    return { outputs: [{ shape, constant, field: null }], multiplyAdds: 0 };
  }
  return { outputs: [runtimeValue(shape, keepField ? input.field : null)], aliasOfInput: 0, multiplyAdds: 0 };
}

/** Output of a data-movement op planned as a strided copy, folded when the input is constant. */
function copiedOf(input: PlanValue, shape: number[], plan: CopyPlan): PlannedOp {
  if (input.constant) {
    const c = input.constant;
    const constant = c.kind === 'float'
      ? floatConst(shape, copyStrided(c.data, plan, new Float32Array(plan.total)))
      : intConst(shape, copyStrided(c.data, plan, new Array<number>(plan.total).fill(0)));
    return { outputs: [{ shape, constant, field: null }], multiplyAdds: 0 };
  }
  return {
    outputs: [runtimeValue(shape, null)],
    multiplyAdds: 0,
    execution: { runSync: (ins, outs) => void copyStrided(ins[0], plan, outs[0]) },
  };
}

export function buildConstant(ctx: BuildContext): CompiledOp {
  const { node } = ctx;
  const owner = describeNode(node);
  const attrs = new NodeAttributes(node);
  let value: ConstTensor | undefined = attrs.tensor('value');
  if (!value && attrs.has('value_float')) value = floatConst([], Float32Array.of(attrs.float('value_float', 0)));
  if (!value && attrs.has('value_floats')) {
    const floats = attrs.floats('value_floats') ?? [];
    value = floatConst([floats.length], Float32Array.from(floats));
  }
  if (!value && attrs.has('value_int')) value = intConst([], [attrs.int('value_int', 0)]);
  if (!value && attrs.has('value_ints')) {
    const ints = attrs.ints('value_ints') ?? [];
    value = intConst([ints.length], ints);
  }
  if (!value) {
    const present = [...node.attributes.keys()].join(', ') || 'none';
    throw new OnnxError(`${owner}: only tensor, float(s) and int(s) constants are supported (attributes: ${present})`);
  }
  const constant = value;
  return simpleOp(ctx, () => ({ outputs: [{ shape: constant.dims, constant, field: null }], multiplyAdds: 0 }), []);
}

export function buildShape(ctx: BuildContext): CompiledOp {
  const attrs = new NodeAttributes(ctx.node);
  const owner = describeNode(ctx.node);
  return simpleOp(ctx, (inputs) => {
    const x = required(inputs, 0, owner, 'data');
    const rank = x.shape.length;
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
    const dims = x.shape.slice(clamp(attrs.int('start', 0)), clamp(attrs.int('end', rank)));
    return { outputs: [{ shape: [dims.length], constant: intConst([dims.length], dims), field: null }], multiplyAdds: 0 };
  });
}

export function buildGather(ctx: BuildContext): CompiledOp {
  const owner = describeNode(ctx.node);
  const axisAttr = new NodeAttributes(ctx.node).int('axis', 0);
  return simpleOp(ctx, (inputs) => {
    const data = required(inputs, 0, owner, 'data');
    const indicesValue = required(inputs, 1, owner, 'indices');
    const indices = constantIntsOf(indicesValue, owner, 'indices') ?? [];
    const axis = normalizeAxis(axisAttr, data.shape.length, owner);
    const size = data.shape[axis];
    const resolved = indices.map((i) => {
      if (i < -size || i >= size) throw new ShapeError(`${owner}: index ${i} is out of range for axis ${axis} of size ${size}`);
      return i < 0 ? i + size : i;
    });
    if (indicesValue.shape.length > 1) throw new OnnxError(`${owner}: indices of rank ${indicesValue.shape.length} are not supported (rank 0 or 1)`);
    const strides = stridesOf(data.shape);
    const shape: number[] = [];
    const axes: CopyAxis[] = [];
    let base = 0;
    data.shape.forEach((d, k) => {
      if (k !== axis) {
        shape.push(d);
        axes.push({ extent: d, stride: strides[k] });
      } else if (indicesValue.shape.length === 1) {
        shape.push(resolved.length);
        axes.push({ extent: resolved.length, stride: 0, table: Int32Array.from(resolved.length > 0 ? resolved : [0], (i) => i * strides[k]) });
      } else {
        base = resolved[0] * strides[k];
      }
    });
    return copiedOf(data, shape, planCopy(axes, base));
  });
}

export function buildSlice(ctx: BuildContext): CompiledOp {
  const owner = describeNode(ctx.node);
  const attrs = new NodeAttributes(ctx.node);
  return simpleOp(ctx, (inputs) => {
    const data = required(inputs, 0, owner, 'data');
    const rank = data.shape.length;
    let starts: number[];
    let ends: number[];
    let axes: number[] | undefined;
    let steps: number[] | undefined;
    if (ctx.opset < 10) {
      starts = [...(attrs.ints('starts') ?? [])];
      ends = [...(attrs.ints('ends') ?? [])];
      axes = attrs.ints('axes') ? [...attrs.ints('axes')!] : undefined;
    } else {
      starts = constantIntsOf(required(inputs, 1, owner, 'starts'), owner, 'starts') ?? [];
      ends = constantIntsOf(required(inputs, 2, owner, 'ends'), owner, 'ends') ?? [];
      axes = constantIntsOf(inputs[3] ?? null, owner, 'axes');
      steps = constantIntsOf(inputs[4] ?? null, owner, 'steps');
    }
    axes ??= starts.map((_, i) => i);
    if (starts.length !== ends.length || axes.length !== starts.length || (steps && steps.length !== starts.length)) {
      throw new OnnxError(`${owner}: starts, ends, axes and steps must have the same length`);
    }
    const begin = data.shape.map(() => 0);
    const step = data.shape.map(() => 1);
    const count = [...data.shape];
    axes.forEach((rawAxis, i) => {
      const axis = normalizeAxis(rawAxis, rank, owner, 'axes entry');
      const dim = data.shape[axis];
      const s = steps?.[i] ?? 1;
      if (s === 0) throw new OnnxError(`${owner}: steps must not be 0`);
      // Clamping as the spec describes: positive steps clamp into [0, dim], negative into [-1, dim - 1].
      const resolve = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + dim : v, lo), hi);
      const first = s > 0 ? resolve(starts[i], 0, dim) : resolve(starts[i], -1, dim - 1);
      const last = s > 0 ? resolve(ends[i], 0, dim) : resolve(ends[i], -1, dim - 1);
      begin[axis] = first;
      step[axis] = s;
      count[axis] = Math.max(0, Math.ceil((last - first) / s));
    });
    const strides = stridesOf(data.shape);
    const base = begin.reduce((sum, b, k) => sum + b * strides[k], 0);
    return copiedOf(data, count, planCopy(count.map((c, k) => ({ extent: c, stride: step[k] * strides[k] })), base));
  });
}

export function buildTranspose(ctx: BuildContext): CompiledOp {
  const owner = describeNode(ctx.node);
  const permAttr = new NodeAttributes(ctx.node).ints('perm');
  return simpleOp(ctx, (inputs) => {
    const data = required(inputs, 0, owner, 'data');
    const rank = data.shape.length;
    const perm = permAttr ? [...permAttr] : data.shape.map((_, i) => rank - 1 - i);
    if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
      throw new OnnxError(`${owner}: perm [${perm.join(', ')}] must be a permutation of 0..${rank - 1}`);
    }
    const strides = stridesOf(data.shape);
    const shape = perm.map((p) => data.shape[p]);
    return copiedOf(data, shape, planCopy(perm.map((p, k) => ({ extent: shape[k], stride: strides[p] }))));
  });
}

export function buildCast(ctx: BuildContext): CompiledOp {
  const owner = describeNode(ctx.node);
  const to = new NodeAttributes(ctx.node).int('to', 0);
  const toFloat = to === DataType.FLOAT || to === DataType.DOUBLE || to === DataType.FLOAT16;
  return simpleOp(ctx, (inputs) => {
    const x = required(inputs, 0, owner, 'input');
    if (x.constant) {
      const values = constValues(x.constant);
      const constant = toFloat ? floatConst(x.shape, Float32Array.from(values)) : intConst(x.shape, values.map(Math.trunc));
      return { outputs: [{ shape: x.shape, constant, field: null }], multiplyAdds: 0 };
    }
    if (!toFloat) throw new OnnxError(`${owner}: casting a runtime tensor to data type ${to} is not supported (tensors run as float32)`);
    return viewOf(x, [...x.shape], true);
  });
}

export function buildReshape(ctx: BuildContext): CompiledOp {
  const owner = describeNode(ctx.node);
  const allowZero = new NodeAttributes(ctx.node).int('allowzero', 0) === 1;
  return simpleOp(ctx, (inputs) => {
    const data = required(inputs, 0, owner, 'data');
    const target = constantIntsOf(required(inputs, 1, owner, 'shape'), owner, 'shape') ?? [];
    const size = numel(data.shape);
    const dims = target.map((d, i) => (d === 0 && !allowZero ? data.shape[i] : d));
    const unknown = dims.filter((d) => d === -1).length;
    if (unknown > 1 || dims.some((d) => d < -1 || d === undefined)) {
      throw new ShapeError(`${owner}: target shape [${target.join(', ')}] is invalid for input [${data.shape.join(', ')}]`);
    }
    const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const shape = dims.map((d) => (d === -1 ? (known === 0 ? 0 : size / known) : d));
    if (numel(shape) !== size || !shape.every(Number.isInteger)) {
      throw new ShapeError(
        `${owner}: cannot reshape [${data.shape.join(', ')}] (${size} elements) to [${target.join(', ')}]`,
      );
    }
    return viewOf(data, shape, false);
  });
}

export function buildFlatten(ctx: BuildContext): CompiledOp {
  const owner = describeNode(ctx.node);
  const axisAttr = new NodeAttributes(ctx.node).int('axis', 1);
  return simpleOp(ctx, (inputs) => {
    const data = required(inputs, 0, owner, 'input');
    const rank = data.shape.length;
    const axis = axisAttr === rank ? rank : normalizeAxis(axisAttr, rank, owner);
    const shape = [numel(data.shape.slice(0, axis)), numel(data.shape.slice(axis))];
    return viewOf(data, shape, false);
  });
}

function readAxes(ctx: BuildContext, inputs: ReadonlyArray<PlanValue | null>, owner: string): number[] | undefined {
  if (ctx.opset < 13) {
    const axes = new NodeAttributes(ctx.node).ints('axes');
    return axes ? [...axes] : undefined;
  }
  return constantIntsOf(inputs[1] ?? null, owner, 'axes');
}

export function buildSqueeze(ctx: BuildContext): CompiledOp {
  const owner = describeNode(ctx.node);
  return simpleOp(ctx, (inputs) => {
    const data = required(inputs, 0, owner, 'data');
    const rank = data.shape.length;
    const axes = readAxes(ctx, inputs, owner)?.map((a) => normalizeAxis(a, rank, owner, 'axes entry'));
    for (const a of axes ?? []) {
      if (data.shape[a] !== 1) throw new ShapeError(`${owner}: cannot squeeze axis ${a} of size ${data.shape[a]} in [${data.shape.join(', ')}]`);
    }
    const shape = data.shape.filter((d, i) => (axes ? !axes.includes(i) : d !== 1));
    return viewOf(data, shape, shape.length === rank);
  });
}

export function buildUnsqueeze(ctx: BuildContext): CompiledOp {
  const owner = describeNode(ctx.node);
  return simpleOp(ctx, (inputs) => {
    const data = required(inputs, 0, owner, 'data');
    const axesRaw = readAxes(ctx, inputs, owner);
    if (!axesRaw) throw new OnnxError(`${owner}: axes are required`);
    const rank = data.shape.length + axesRaw.length;
    const axes = axesRaw.map((a) => normalizeAxis(a, rank, owner, 'axes entry'));
    const shape: number[] = [];
    let next = 0;
    for (let i = 0; i < rank; i++) shape.push(axes.includes(i) ? 1 : data.shape[next++]);
    return viewOf(data, shape, false);
  });
}

/** Identity, and Dropout at inference: the output is the input. */
export function buildIdentity(ctx: BuildContext): CompiledOp {
  const owner = describeNode(ctx.node);
  const trainingMode = ctx.node.opType === 'Dropout' && ctx.node.inputs[2] ? ctx.constantOf(ctx.node.inputs[2]) : undefined;
  // torchvision's swin_t calls F.dropout(p=0.0) with training left true: a ratio of 0 drops nothing either way.
  const ratio = ctx.node.opType === 'Dropout' && ctx.node.inputs[1] ? ctx.constantOf(ctx.node.inputs[1]) : undefined;
  const dropsNothing = ratio !== undefined && ratio.data.length === 1 && ratio.data[0] === 0;
  if (ctx.node.opType === 'Dropout' && ctx.node.inputs[2] && (!trainingMode || trainingMode.data[0] !== 0) && !dropsNothing) {
    throw new OnnxError(`${owner}: training_mode must be a constant false (or the ratio a constant 0); convnode runs inference only`);
  }
  const identity = simpleOp(ctx, (inputs) => viewOf(required(inputs, 0, owner, 'input'), [...required(inputs, 0, owner, 'input').shape], true), ctx.node.inputs.slice(0, 1));
  if (ctx.node.opType !== 'Dropout' || !ctx.node.outputs[1]) return identity;
  // At inference nothing is dropped: the mask (swin_t's exports declare it) is all true.
  return {
    ...identity,
    outputs: ctx.node.outputs.slice(0, 2),
    plan(inputs) {
      const planned = identity.plan(inputs);
      const shape = planned.outputs[0].shape;
      return { ...planned, outputs: [planned.outputs[0], { shape, constant: intConst(shape, new Array<number>(numel(shape)).fill(1)), field: null }] };
    },
  };
}
