/**
 * The math and logic operators exporters emit around the layers (attention scaling, a hand-written
 * LayerNorm, masks, shape arithmetic), as plain JS element-wise loops under numpy broadcasting:
 *   unary     Sqrt Reciprocal Neg Abs Log Floor Ceil
 *   logic     Not And Or Xor (on 0 / non-0, results 0 / 1)
 *   binary    Pow, Mod; Equal Greater Less GreaterOrEqual LessOrEqual (results 0 / 1)
 *   variadic  Min Max Sum Mean
 *   Where, Expand, Tile, ConstantOfShape, Range.
 * Each folds to a constant when its inputs are constants, keeping integers integers (a Shape ->
 * Equal -> Where chain stays an integer shape); at run time every tensor is float32, comparisons
 * write 1 or 0. These ops are rare and small in CNNs, so they stay plain loops.
 */
import { ShapeError } from '../../errors.js';
import { describeNode, NodeAttributes } from '../attributes.js';
import { constValues, floatConst, intConst, type ConstTensor } from '../constant.js';
import type { OnnxNode } from '../decode.js';
import { OnnxError } from '../errors.js';
import { broadcastShapes, broadcastStrides } from './broadcast.js';
import { constantIntsOf, mergeFields, numel, required, runtimeValue, stridesOf } from './shape-utils.js';
import { nodeBasics, type BuildContext, type CompiledOp, type PlanValue } from './types.js';

type Fn = (args: readonly number[]) => number;

/**
 * How an op's result is typed when it folds: 'float' always float, 'bool' always integer 0/1,
 * 'same' integer when every (data) input is, 'last' follows the data inputs after a condition.
 */
type ResultKind = 'float' | 'bool' | 'same';

interface ElementwiseSpec {
  readonly fn: Fn;
  readonly result: ResultKind;
  /** Input count: a number, or 'variadic' for one or more. */
  readonly arity: number | 'variadic';
  /** Inputs that do not decide an integer result (Where's condition). */
  readonly skipKind?: number;
}

const unary = (f: (x: number) => number, result: ResultKind = 'float'): ElementwiseSpec => ({ fn: (a) => f(a[0]), result, arity: 1 });
const compare = (f: (x: number, y: number) => boolean): ElementwiseSpec => ({ fn: (a) => (f(a[0], a[1]) ? 1 : 0), result: 'bool', arity: 2 });

/** Min/Max propagate NaN (as onnxruntime does); Math.min/max already do. */
const ELEMENTWISE: Record<string, ElementwiseSpec> = {
  Sqrt: unary(Math.sqrt),
  Reciprocal: unary((x) => 1 / x),
  Neg: unary((x) => -x, 'same'),
  Abs: unary(Math.abs, 'same'),
  Log: unary(Math.log),
  Floor: unary(Math.floor, 'same'),
  Ceil: unary(Math.ceil, 'same'),
  Pow: { fn: (a) => Math.pow(a[0], a[1]), result: 'same', arity: 2 },
  Equal: compare((x, y) => x === y),
  Greater: compare((x, y) => x > y),
  Less: compare((x, y) => x < y),
  GreaterOrEqual: compare((x, y) => x >= y),
  LessOrEqual: compare((x, y) => x <= y),
  Not: unary((x) => (x === 0 ? 1 : 0), 'bool'),
  And: compare((x, y) => x !== 0 && y !== 0),
  Or: compare((x, y) => x !== 0 || y !== 0),
  Xor: compare((x, y) => (x !== 0) !== (y !== 0)),
  Min: { fn: (a) => Math.min(...a), result: 'same', arity: 'variadic' },
  Max: { fn: (a) => Math.max(...a), result: 'same', arity: 'variadic' },
  Sum: { fn: (a) => a.reduce((s, x) => s + x, 0), result: 'same', arity: 'variadic' },
  Mean: { fn: (a) => a.reduce((s, x) => s + x, 0) / a.length, result: 'float', arity: 'variadic' },
  Where: { fn: (a) => (a[0] !== 0 ? a[1] : a[2]), result: 'same', arity: 3, skipKind: 0 },
};

export const MATH_ELEMENTWISE_OPS = [...Object.keys(ELEMENTWISE), 'Mod'];

/**
 * out[i] = fn(inputs at i) over the broadcast index space of `shape`, for any number of inputs:
 * an odometer over the output index carries each input's offset (stride 0 on broadcast axes).
 */
export function broadcastN(
  inputs: ReadonlyArray<ArrayLike<number>>, shapes: ReadonlyArray<readonly number[]>, out: Float32Array | number[], shape: readonly number[], fn: Fn,
): void {
  const total = numel(shape);
  if (total === 0) return;
  const rank = shape.length;
  const strides = shapes.map((s) => broadcastStrides(s, shape));
  const offsets = new Array<number>(inputs.length).fill(0);
  const counter = new Array<number>(rank).fill(0);
  const args = new Array<number>(inputs.length);
  for (let i = 0; i < total; i++) {
    for (let k = 0; k < inputs.length; k++) args[k] = inputs[k][offsets[k]];
    out[i] = fn(args);
    for (let axis = rank - 1; axis >= 0; axis--) {
      counter[axis]++;
      for (let k = 0; k < inputs.length; k++) offsets[k] += strides[k][axis];
      if (counter[axis] < shape[axis]) break;
      for (let k = 0; k < inputs.length; k++) offsets[k] -= strides[k][axis] * shape[axis];
      counter[axis] = 0;
    }
  }
}

/** A faster form for the common runtime cases: one input, or x ** 2 / x ** 0.5 with a scalar exponent. */
function specialised(opType: string, fn: Fn, values: readonly PlanValue[], shape: readonly number[]): ((ins: readonly Float32Array[], out: Float32Array) => void) | undefined {
  const sameShape = values.every((v) => numel(v.shape) === numel(shape));
  if (values.length === 1 && sameShape) {
    const arg = [0];
    return (ins, out) => {
      const src = ins[0];
      for (let i = 0; i < out.length; i++) {
        arg[0] = src[i];
        out[i] = fn(arg);
      }
    };
  }
  const exponent = opType === 'Pow' && values[1].constant && values[1].constant.data.length === 1 ? values[1].constant.data[0] : undefined;
  if (exponent !== undefined && numel(values[0].shape) === numel(shape)) {
    if (exponent === 2) return (ins, out) => { const x = ins[0]; for (let i = 0; i < out.length; i++) out[i] = x[i] * x[i]; };
    if (exponent === 0.5) return (ins, out) => { const x = ins[0]; for (let i = 0; i < out.length; i++) out[i] = Math.sqrt(x[i]); };
  }
  return undefined;
}

/**
 * Mod: fmod 0 is the integer modulus with the divisor's sign (Python's %, what Swin's window
 * padding computes); fmod 1 is C's fmod, with the dividend's sign, the only form ONNX allows
 * for floats. Which one an integer tensor gets is the attribute's choice.
 */
function modSpec(node: OnnxNode): ElementwiseSpec {
  const fmod = new NodeAttributes(node).int('fmod', 0);
  if (fmod !== 0 && fmod !== 1) throw new OnnxError(`${describeNode(node)}: attribute 'fmod' must be 0 or 1, got ${fmod}`);
  const fn: Fn = fmod === 1
    ? (a) => a[0] % a[1]
    : (a) => {
        const r = a[0] % a[1];
        return r !== 0 && (r < 0) !== (a[1] < 0) ? r + a[1] : r;
      };
  return { fn, result: 'same', arity: 2 };
}

export function buildMathElementwise(ctx: BuildContext): CompiledOp {
  const { node } = ctx;
  const owner = describeNode(node);
  const spec = node.opType === 'Mod' ? modSpec(node) : ELEMENTWISE[node.opType];
  const count = node.inputs.length;
  if (spec.arity === 'variadic' ? count < 1 : count !== spec.arity) {
    throw new OnnxError(`${owner}: takes ${spec.arity === 'variadic' ? 'one or more inputs' : `${spec.arity} input${spec.arity === 1 ? '' : 's'}`}, got ${count}`);
  }
  if (node.inputs.some((name) => name === '')) throw new OnnxError(`${owner}: every input is required, one is omitted`);
  return {
    ...nodeBasics(node, count, 1),
    plan(inputs) {
      const values = inputs.map((_, i) => required(inputs, i, owner, `input ${i}`));
      const shape = values.slice(1).reduce((s, v) => broadcastShapes(s, v.shape, owner), [...values[0].shape]);
      if (values.every((v) => v.constant)) {
        const consts = values.map((v) => v.constant!);
        const integer = spec.result === 'bool' || (spec.result === 'same' && consts.every((c, i) => i === spec.skipKind || c.kind === 'int'));
        const out = integer ? new Array<number>(numel(shape)).fill(0) : new Float32Array(numel(shape));
        broadcastN(consts.map((c) => c.data), consts.map((c) => c.dims), out, shape, spec.fn);
        const constant = integer ? intConst(shape, (out as number[]).map((x) => (Number.isFinite(x) ? Math.trunc(x) : x))) : floatConst(shape, out as Float32Array);
        return { outputs: [{ shape, constant, field: null }], multiplyAdds: 0 };
      }
      const fast = specialised(node.opType, spec.fn, values, shape);
      const shapes = values.map((v) => v.shape);
      return {
        outputs: [runtimeValue(shape, spec.result === 'bool' ? null : mergeFields(values.map((v) => v.field)))],
        multiplyAdds: 0,
        execution: { runSync: fast ? (ins, outs) => fast(ins, outs[0]) : (ins, outs) => broadcastN(ins, shapes, outs[0], shape, spec.fn) },
      };
    },
  };
}

/** Copies `value` into `shape` by broadcasting (Expand) or repeating (Tile), folding constants. */
function gatherPlan(value: PlanValue, shape: number[], sourceOffset: (index: number) => number) {
  const total = numel(shape);
  const fill = (src: ArrayLike<number>, out: Float32Array | number[]) => {
    for (let i = 0; i < total; i++) out[i] = src[sourceOffset(i)];
    return out;
  };
  if (value.constant) {
    const c = value.constant;
    const constant: ConstTensor = c.kind === 'int'
      ? intConst(shape, fill(c.data, new Array<number>(total).fill(0)) as number[])
      : floatConst(shape, fill(c.data, new Float32Array(total)) as Float32Array);
    return { outputs: [{ shape, constant, field: null }], multiplyAdds: 0 };
  }
  return { outputs: [runtimeValue(shape, null)], multiplyAdds: 0, execution: { runSync: (ins: readonly Float32Array[], outs: readonly Float32Array[]) => void fill(ins[0], outs[0]) } };
}

/** For each output index, the input offset under a per-axis map of output coordinate -> input coordinate. */
function offsetTable(outShape: readonly number[], inShape: readonly number[], coordinate: (axis: number, c: number) => number): (index: number) => number {
  const outStrides = stridesOf(outShape);
  const inStrides = stridesOf(inShape);
  const offset = outShape.length - inShape.length;
  const table = new Int32Array(numel(outShape));
  for (let i = 0; i < table.length; i++) {
    let at = 0;
    for (let axis = offset; axis < outShape.length; axis++) {
      const c = Math.floor(i / outStrides[axis]) % outShape[axis];
      at += coordinate(axis - offset, c) * inStrides[axis - offset];
    }
    table[i] = at;
  }
  return (index) => table[index];
}

/** Expand (opset 8): broadcasts the input to the broadcast of its shape and the `shape` input. */
export function buildExpand(ctx: BuildContext): CompiledOp {
  const { node } = ctx;
  const owner = describeNode(node);
  return {
    ...nodeBasics(node, 2, 1),
    plan(inputs) {
      const x = required(inputs, 0, owner, 'input');
      const target = constantIntsOf(required(inputs, 1, owner, 'shape'), owner, 'shape')!;
      if (target.some((d) => !Number.isInteger(d) || d < 0)) throw new ShapeError(`${owner}: shape [${target.join(', ')}] must hold non-negative integers`);
      const shape = broadcastShapes(x.shape, target, owner);
      return gatherPlan(x, shape, offsetTable(shape, x.shape, (axis, c) => (x.shape[axis] === 1 ? 0 : c)));
    },
  };
}

/** Tile: output dim i is input dim i times repeats[i]; coordinate c reads c mod the input dim. */
export function buildTile(ctx: BuildContext): CompiledOp {
  const { node } = ctx;
  const owner = describeNode(node);
  return {
    ...nodeBasics(node, 2, 1),
    plan(inputs) {
      const x = required(inputs, 0, owner, 'input');
      const repeats = constantIntsOf(required(inputs, 1, owner, 'repeats'), owner, 'repeats')!;
      if (repeats.length !== x.shape.length) {
        throw new ShapeError(`${owner}: repeats holds ${repeats.length} values but the input has rank ${x.shape.length}`);
      }
      if (repeats.some((r) => !Number.isInteger(r) || r < 0)) throw new OnnxError(`${owner}: repeats [${repeats.join(', ')}] must be non-negative integers`);
      const shape = x.shape.map((d, i) => d * repeats[i]);
      return gatherPlan(x, shape, offsetTable(shape, x.shape, (axis, c) => c % x.shape[axis]));
    },
  };
}

/** ConstantOfShape: a constant of the given shape filled with `value` (one element, default float 0). */
export function buildConstantOfShape(ctx: BuildContext): CompiledOp {
  const { node } = ctx;
  const owner = describeNode(node);
  const value = new NodeAttributes(node).tensor('value') ?? floatConst([1], Float32Array.of(0));
  if (value.data.length !== 1) throw new OnnxError(`${owner}: attribute 'value' must hold exactly one element, got ${value.data.length}`);
  return {
    ...nodeBasics(node, 1, 1),
    plan(inputs) {
      const dims = constantIntsOf(required(inputs, 0, owner, 'input'), owner, 'input (the shape)')!;
      if (dims.some((d) => !Number.isInteger(d) || d < 0)) throw new ShapeError(`${owner}: shape [${dims.join(', ')}] must hold non-negative integers`);
      const total = numel(dims);
      const fill = value.data[0];
      const constant = value.kind === 'int' ? intConst(dims, new Array<number>(total).fill(fill)) : floatConst(dims, new Float32Array(total).fill(fill));
      return { outputs: [{ shape: dims, constant, field: null }], multiplyAdds: 0 };
    },
  };
}

/** Range (opset 11): start, start + delta, ... while before limit; all three scalars known before the run. */
export function buildRange(ctx: BuildContext): CompiledOp {
  const { node } = ctx;
  const owner = describeNode(node);
  return {
    ...nodeBasics(node, 3, 1),
    plan(inputs) {
      const names = ['start', 'limit', 'delta'];
      const consts = names.map((what, i) => {
        const v = required(inputs, i, owner, what);
        if (!v.constant) throw new OnnxError(`${owner}: ${what} must be known before the run (an initializer, a Constant or a shape computation)`);
        if (v.constant.data.length !== 1) throw new ShapeError(`${owner}: ${what} must be a scalar, got ${v.constant.data.length} values`);
        return v.constant;
      });
      const [start, limit, delta] = consts.map((c) => constValues(c)[0]);
      if (delta === 0) throw new OnnxError(`${owner}: delta must not be 0`);
      const count = Math.max(Math.ceil((limit - start) / delta), 0);
      const values = Array.from({ length: count }, (_, i) => start + i * delta);
      const constant = consts.every((c) => c.kind === 'int') ? intConst([count], values) : floatConst([count], Float32Array.from(values));
      return { outputs: [{ shape: [count], constant, field: null }], multiplyAdds: 0 };
    },
  };
}
