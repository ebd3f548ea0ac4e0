/**
 * Element-wise operators that no backend provides as a kernel: the broadcast binary ops and
 * the standalone activations (those not fused into a conv or Gemm epilogue).
 */
import type { Activation } from '../../backends/backend.js';
import {
  DEFAULT_ELU_ALPHA, DEFAULT_HARD_SIGMOID_ALPHA, DEFAULT_HARD_SIGMOID_BETA, DEFAULT_LEAKY_RELU_ALPHA,
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

export function buildBinary(ctx: BuildContext): CompiledOp {
  const { node } = ctx;
  const fns = BINARY[node.opType];
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
      return {
        outputs: [runtimeValue(shape, field)],
        multiplyAdds: 0,
        execution: {
          runSync: (ins, outs) => broadcastBinary(ins[0], a.shape, ins[1], b.shape, outs[0], shape, fns.float),
        },
      };
    },
  };
}

type UnaryFn = (x: number) => number;

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

function unaryFunction(node: OnnxNode, opset: number, constantOf: (name: string) => ConstTensor | undefined): UnaryFn {
  const attrs = new NodeAttributes(node);
  switch (node.opType) {
    case 'Relu':
      return (x) => (x < 0 ? 0 : x);
    case 'Sigmoid':
      return (x) => 1 / (1 + Math.exp(-x));
    case 'Tanh':
      return Math.tanh;
    case 'LeakyRelu': {
      const alpha = attrs.float('alpha', DEFAULT_LEAKY_RELU_ALPHA);
      return (x) => (x < 0 ? alpha * x : x);
    }
    case 'HardSigmoid': {
      const alpha = attrs.float('alpha', 0.2);
      const beta = attrs.float('beta', 0.5);
      return (x) => Math.max(0, Math.min(1, alpha * x + beta));
    }
    case 'HardSwish':
      return (x) => x * Math.max(0, Math.min(1, x / 6 + 0.5));
    case 'Clip': {
      const [min, max] = clipBounds(node, opset, constantOf);
      return (x) => (x < min ? min : x > max ? max : x);
    }
  }
  throw new OnnxError(`${describeNode(node)}: not an element-wise activation`);
}

export const UNARY_OPS = ['Relu', 'Sigmoid', 'Tanh', 'LeakyRelu', 'HardSigmoid', 'HardSwish', 'Clip'];

export function buildUnary(ctx: BuildContext): CompiledOp {
  const { node } = ctx;
  const fn = unaryFunction(node, ctx.opset, (name) => ctx.constantOf(name));
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
        execution: {
          runSync(ins, outs) {
            const src = ins[0];
            const dst = outs[0];
            for (let i = 0; i < src.length; i++) dst[i] = fn(src[i]);
          },
        },
      };
    },
  };
}
