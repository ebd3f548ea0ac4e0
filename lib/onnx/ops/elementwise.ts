/**
 * Element-wise operators on the backend's element-wise engine (lib/backends/backend.ts): the
 * broadcast binary ops (Add, Sub, Mul, Div) and the standalone activations, those not fused into
 * a conv or Gemm epilogue (Relu, Sigmoid, Tanh, LeakyRelu, HardSigmoid, HardSwish, Clip, Elu,
 * Exp, Softplus, Gelu, Mish). Each runs as one backend call. Erf (no activation kind) and PRelu
 * with per-channel slopes run in TypeScript here.
 */
import type { Activation, Backend, BinaryOp } from '../../backends/backend.js';
import {
  activate, DEFAULT_ELU_ALPHA, DEFAULT_HARD_SIGMOID_ALPHA, DEFAULT_HARD_SIGMOID_BETA, DEFAULT_LEAKY_RELU_ALPHA, erf,
} from '../../activation.js';
import { describeNode, NodeAttributes } from '../attributes.js';
import { constValues, floatConst, intConst, type ConstTensor } from '../constant.js';
import type { OnnxNode } from '../decode.js';
import { OnnxError } from '../errors.js';
import { broadcastBinary, broadcastShapes, type BinaryFn } from './broadcast.js';
import { mergeFields, numel, required, runtimeValue } from './shape-utils.js';
import { nodeBasics, type BuildContext, type CompiledOp } from './types.js';

const BINARY: Record<string, { float: BinaryFn; int: BinaryFn }> = {
  Add: { float: (x, y) => x + y, int: (x, y) => x + y },
  Sub: { float: (x, y) => x - y, int: (x, y) => x - y },
  Mul: { float: (x, y) => x * y, int: (x, y) => x * y },
  Div: { float: (x, y) => x / y, int: (x, y) => Math.trunc(x / y) },
};

export const BINARY_OPS = Object.keys(BINARY);

function binaryConstant(a: ConstTensor, b: ConstTensor, shape: number[], fns: { float: BinaryFn; int: BinaryFn }): ConstTensor {
  if (a.kind === 'int' && b.kind === 'int') {
    const out = new Array<number>(numel(shape)).fill(0);
    broadcastBinary(a.data, a.dims, b.data, b.dims, out, shape, fns.int);
    return intConst(shape, out);
  }
  const out = new Float32Array(numel(shape));
  broadcastBinary(a.data, a.dims, b.data, b.dims, out, shape, fns.float);
  return floatConst(shape, out);
}

const BACKEND_OP: Record<string, BinaryOp> = { Add: 'add', Sub: 'sub', Mul: 'mul', Div: 'div' };

export function buildBinary(ctx: BuildContext): CompiledOp {
  const { node, backend } = ctx;
  const fns = BINARY[node.opType];
  const op = BACKEND_OP[node.opType];
  const owner = describeNode(node);
  return {
    ...nodeBasics(node),
    plan(inputs) {
      const a = required(inputs, 0, owner, 'A');
      const b = required(inputs, 1, owner, 'B');
      const shape = broadcastShapes(a.shape, b.shape, owner);
      if (a.constant && b.constant) {
        return { outputs: [{ shape, constant: binaryConstant(a.constant, b.constant, shape, fns), field: null }], multiplyAdds: 0 };
      }
      // A gate from a global pool (N x C x 1 x 1) has no field; the feature map's survives.
      const field = mergeFields([a.field, b.field]);
      const aShape = [...a.shape];
      const bShape = [...b.shape];
      return {
        outputs: [runtimeValue(shape, field)],
        multiplyAdds: 0,
        execution: {
          runSync: (ins, outs) => backend.binarySync(op, ins[0], aShape, ins[1], bShape, outs[0], shape),
          run: (ins, outs) => backend.binary(op, ins[0], aShape, ins[1], bShape, outs[0], shape),
          queuesOneCall: true,
        },
      };
    },
  };
}

/** Clip's bounds: attributes before opset 11, optional constant inputs from opset 11 on. */
export function clipBounds(node: OnnxNode, opset: number, constantOf: (name: string) => ConstTensor | undefined): [number, number] {
  const owner = describeNode(node);
  if (opset < 11) {
    const attrs = new NodeAttributes(node);
    return [attrs.float('min', -Infinity), attrs.float('max', Infinity)];
  }
  const bound = (index: number, fallback: number): number => {
    const name = node.inputs[index];
    if (name === undefined || name === '') return fallback;
    const value = constantOf(name);
    if (!value) {
      throw new OnnxError(`${owner}: ${index === 1 ? 'min' : 'max'} must be a constant (an initializer or Constant node), '${name}' is computed at run time`);
    }
    if (value.data.length !== 1) {
      throw new OnnxError(`${owner}: ${index === 1 ? 'min' : 'max'} must be a scalar, '${name}' holds ${value.data.length} values`);
    }
    return constValues(value)[0];
  };
  return [bound(1, -Infinity), bound(2, Infinity)];
}

/**
 * The epilogue form of an activation node (every kind of lib/activation.ts has one), or null
 * when the node is not an activation. Clip keeps its cheap named forms (relu, relu6) where its
 * bounds match them.
 */
export function activationOf(node: OnnxNode, opset: number, constantOf: (name: string) => ConstTensor | undefined): Activation | null {
  const attrs = () => new NodeAttributes(node);
  switch (node.opType) {
    case 'Relu':
      return { kind: 'relu' };
    case 'Sigmoid':
      return { kind: 'sigmoid' };
    case 'HardSwish':
      return { kind: 'hardSwish' };
    case 'Tanh':
      return { kind: 'tanh' };
    case 'Softplus':
      return { kind: 'softplus' };
    case 'Mish':
      return { kind: 'mish' };
    case 'LeakyRelu':
      return { kind: 'leakyRelu', alpha: attrs().float('alpha', DEFAULT_LEAKY_RELU_ALPHA) };
    case 'Elu':
      return { kind: 'elu', alpha: attrs().float('alpha', DEFAULT_ELU_ALPHA) };
    case 'HardSigmoid':
      return {
        kind: 'hardSigmoid',
        alpha: attrs().float('alpha', DEFAULT_HARD_SIGMOID_ALPHA),
        beta: attrs().float('beta', DEFAULT_HARD_SIGMOID_BETA),
      };
    case 'Gelu': {
      const approximate = attrs().string('approximate', 'none');
      if (approximate === 'none') return { kind: 'gelu' };
      return approximate === 'tanh' ? { kind: 'geluTanh' } : null;
    }
    case 'Clip': {
      const [min, max] = clipBounds(node, opset, constantOf);
      if (min === 0 && max === 6) return { kind: 'relu6' };
      if (min === 0 && max === Infinity) return { kind: 'relu' };
      return min <= max ? { kind: 'clip', min, max } : null;
    }
    default:
      return null;
  }
}

/**
 * The activation a standalone element-wise node computes (activationOf's, plus Exp, which is no
 * epilogue a model fuses), or null for the ops that are not an activation kind (Erf). Gelu's
 * approximate and Clip's bounds are checked here, with errors naming them.
 */
export function unaryActivation(node: OnnxNode, opset: number, constantOf: (name: string) => ConstTensor | undefined): Activation | null {
  if (node.opType === 'Exp') return { kind: 'exp' };
  const activation = activationOf(node, opset, constantOf);
  if (activation !== null) return activation;
  if (node.opType === 'Gelu') {
    const approximate = new NodeAttributes(node).string('approximate', 'none');
    throw new OnnxError(`${describeNode(node)}: approximate must be 'none' or 'tanh', got '${approximate}'`);
  }
  if (node.opType === 'Clip') {
    const [min, max] = clipBounds(node, opset, constantOf);
    throw new OnnxError(`${describeNode(node)}: min ${min} is greater than max ${max}`);
  }
  return null;
}

export const UNARY_OPS = [
  'Relu', 'Sigmoid', 'Tanh', 'LeakyRelu', 'HardSigmoid', 'HardSwish', 'Clip', 'Elu', 'Exp', 'Softplus', 'Gelu', 'Mish', 'Erf',
];

/** One value of an op that is not an activation kind (float64, like the activations' reference). */
function nonActivationFunction(node: OnnxNode): (x: number) => number {
  if (node.opType === 'Erf') return erf;
  throw new OnnxError(`${describeNode(node)}: not an element-wise activation`);
}

/** out = f(in) for the ops without a backend form, in TypeScript. */
function jsUnaryExecution(fn: (x: number) => number) {
  return {
    runSync(ins: readonly Float32Array[], outs: readonly Float32Array[]) {
      const src = ins[0];
      const dst = outs[0];
      for (let i = 0; i < src.length; i++) dst[i] = fn(src[i]);
    },
  };
}

function backendUnaryExecution(backend: Backend, activation: Activation) {
  return {
    runSync: (ins: readonly Float32Array[], outs: readonly Float32Array[]) => backend.unarySync(ins[0], outs[0], activation),
    run: (ins: readonly Float32Array[], outs: readonly Float32Array[]) => backend.unary(ins[0], outs[0], activation),
    queuesOneCall: true,
  };
}

export function buildUnary(ctx: BuildContext): CompiledOp {
  const { node } = ctx;
  const activation = unaryActivation(node, ctx.opset, (name) => ctx.constantOf(name));
  const fn = activation ? (x: number) => activate(x, activation) : nonActivationFunction(node);
  const owner = describeNode(node);
  // Clip's min/max inputs were read at build time; only X is a runtime input.
  return {
    ...nodeBasics(node, 1, 1),
    plan(inputs) {
      const x = required(inputs, 0, owner, 'X');
      if (x.constant) {
        const values = Float32Array.from(x.constant.data, fn);
        return { outputs: [{ shape: x.shape, constant: floatConst(x.shape, values), field: null }], multiplyAdds: 0 };
      }
      return {
        outputs: [runtimeValue(x.shape, x.field)],
        multiplyAdds: 0,
        execution: activation ? backendUnaryExecution(ctx.backend, activation) : jsUnaryExecution(fn),
      };
    },
  };
}

/**
 * PRelu: x < 0 ? slope x : x, the slope broadcast to X (one per channel, [C, 1, 1], in CNNs). A
 * constant slope holding one value is a leakyRelu on the backend; otherwise the broadcast loop
 * runs here in TypeScript.
 */
export function buildPRelu(ctx: BuildContext): CompiledOp {
  const { node } = ctx;
  const owner = describeNode(node);
  const slopeName = node.inputs[1];
  const slopeConst = slopeName ? ctx.constantOf(slopeName) : undefined;
  const slopeValues = slopeConst ? constValues(slopeConst) : null;
  const single = slopeValues !== null && slopeValues.every((v) => v === slopeValues[0]) ? slopeValues[0] : null;
  const prelu: BinaryFn = (x, s) => (x < 0 ? s * x : x);
  return {
    ...nodeBasics(node, 2, 1),
    plan(inputs) {
      const x = required(inputs, 0, owner, 'X');
      const slope = required(inputs, 1, owner, 'slope');
      const shape = broadcastShapes(x.shape, slope.shape, owner);
      if (shape.length !== x.shape.length || shape.some((d, i) => d !== x.shape[i])) {
        throw new OnnxError(`${owner}: slope of shape [${slope.shape.join(', ')}] must broadcast to X's shape [${x.shape.join(', ')}]`);
      }
      if (x.constant && slope.constant) {
        const out = new Float32Array(numel(shape));
        broadcastBinary(x.constant.data, x.constant.dims, slope.constant.data, slope.constant.dims, out, shape, prelu);
        return { outputs: [{ shape, constant: floatConst(shape, out), field: null }], multiplyAdds: 0 };
      }
      if (single !== null) {
        return {
          outputs: [runtimeValue(shape, x.field)],
          multiplyAdds: 0,
          execution: backendUnaryExecution(ctx.backend, { kind: 'leakyRelu', alpha: single }),
        };
      }
      const xShape = [...x.shape];
      const slopeShape = [...slope.shape];
      return {
        outputs: [runtimeValue(shape, x.field)],
        multiplyAdds: 0,
        execution: {
          runSync: (ins, outs) => broadcastBinary(ins[0], xShape, ins[1], slopeShape, outs[0], shape, prelu),
        },
      };
    },
  };
}
