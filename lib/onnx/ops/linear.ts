/**
 * Gemm and MatMul. The common form, a runtime input times a constant weight matrix (a
 * classifier head), is prepared once as the backend's linear kernel with alpha, beta*C and any
 * fused activation baked in. Other forms (transA, both operands at run time, a full C matrix)
 * run as a plain TS loop: correct, not fast, and rare in CNNs.
 */
import { NO_ACTIVATION, type Activation, type Backend, type LinearKernel } from '../../backends/backend.js';
import { ShapeError } from '../../errors.js';
import { applyActivation } from '../../activation.js';
import { describeNode, NodeAttributes } from '../attributes.js';
import { constAsFloat32, type ConstTensor } from '../constant.js';
import type { OnnxNode } from '../decode.js';
import { broadcastShapes, broadcastStrides } from './broadcast.js';
import type { FusedActivation } from './conv.js';
import { planBatchedMatMul } from './matmul-nd.js';
import { numel, required, runtimeValue } from './shape-utils.js';
import type { BuildContext, CompiledOp, Execution } from './types.js';

export interface LinearFusion {
  /** MatMul only: a following Add of a constant [N] vector, run as the kernel's bias. */
  readonly bias?: { readonly node: OnnxNode; readonly name: string };
  readonly activation?: FusedActivation;
  readonly output: string;
}

function typeName(node: OnnxNode, fusion: LinearFusion): string {
  const parts = [node.opType];
  if (fusion.bias) parts.push(fusion.bias.node.opType);
  if (fusion.activation) parts.push(fusion.activation.label);
  return parts.join('+');
}

/** Weight [out, in] for the backend from B (transposed unless transB), scaled by alpha. */
/**
 * Activations that run as a pass over the Linear's finished output instead of in its GEMM
 * epilogue. The epilogue applies an exp / erf kind one vector at a time, each through an
 * out-of-line call that spills the tile's accumulators and reloads the function's constants;
 * a pass over the output keeps them in registers. ViT's first MLP (197 x 768 -> 3072, GELU),
 * separate processes of 60 rounds each, AMD EPYC family 25 model 17 (Zen 4), 1 thread, CPU ms
 * over the plain Linear (bench/gelu-epilogue.mjs): GELU in the epilogue +2.16, as a pass +0.62.
 */
const ACTIVATIONS_AS_A_PASS: ReadonlySet<Activation['kind']> = new Set(['gelu', 'geluTanh']);

/** The activation the Linear kernel takes in its epilogue, and the one run as a pass after it. */
function splitActivation(activation: Activation): { epilogue: Activation; pass: Activation | null } {
  return ACTIVATIONS_AS_A_PASS.has(activation.kind) ? { epilogue: NO_ACTIVATION, pass: activation } : { epilogue: activation, pass: null };
}

/**
 * Gemm and MatMul with a constant B both run as one call of a packed Linear kernel over `rows`
 * rows, then, for the kinds above, the activation in place (queued after it: the backend orders
 * the two by the output they share).
 */
function packedLinearExecution(backend: Backend, kernel: LinearKernel, rows: number, pass: Activation | null): Execution {
  if (!pass) {
    return {
      runSync: (ins, outs) => kernel.runSync(ins[0], rows, outs[0]),
      run: (ins, outs) => kernel.run(ins[0], rows, outs[0]),
      queuesOneCall: true,
    };
  }
  return {
    runSync(ins, outs) {
      kernel.runSync(ins[0], rows, outs[0]);
      backend.unarySync(outs[0], outs[0], pass);
    },
    run: (ins, outs) => Promise.all([kernel.run(ins[0], rows, outs[0]), backend.unary(outs[0], outs[0], pass)]).then(() => undefined),
    queuesOneCall: true,
  };
}

function weightFromB(b: Float32Array, rows: number, cols: number, transB: boolean, alpha: number): Float32Array {
  // B is rows x cols. With transB it already is [out, in]; otherwise transpose it.
  const out = new Float32Array(rows * cols);
  if (transB) {
    for (let i = 0; i < out.length; i++) out[i] = b[i] * alpha;
    return out;
  }
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = b[r * cols + c] * alpha;
  return out;
}

/** beta * C as a per-output bias, when C is a scalar, [N] or [1, N]; null when it is not one. */
function biasFromC(c: ConstTensor | undefined, outFeatures: number, beta: number): Float32Array | null | undefined {
  if (!c) return null;
  const values = constAsFloat32(c);
  const rowLike = c.dims.length <= 1 || (c.dims.length === 2 && c.dims[0] === 1);
  if (!rowLike || (values.length !== outFeatures && values.length !== 1)) return undefined;
  return Float32Array.from({ length: outFeatures }, (_, i) => beta * values[values.length === 1 ? 0 : i]);
}

export function buildGemm(ctx: BuildContext, fusion: LinearFusion): CompiledOp {
  const { node, backend } = ctx;
  const owner = describeNode(node);
  const attrs = new NodeAttributes(node);
  const alpha = attrs.float('alpha', 1);
  const beta = attrs.float('beta', 1);
  const transA = attrs.int('transA', 0) === 1;
  const transB = attrs.int('transB', 0) === 1;
  const activation = fusion.activation?.activation ?? NO_ACTIVATION;
  const b = node.inputs[1] ? ctx.constantOf(node.inputs[1]) : undefined;
  const c = node.inputs[2] ? ctx.constantOf(node.inputs[2]) : undefined;
  const base = { name: node.name, type: typeName(node, fusion), inputs: node.inputs, outputs: [fusion.output] };
  if (b && b.dims.length === 2 && !transA && (!node.inputs[2] || c)) {
    const [rows, cols] = b.dims;
    const inFeatures = transB ? cols : rows;
    const outFeatures = transB ? rows : cols;
    const bias = biasFromC(c, outFeatures, beta);
    if (bias !== undefined) {
      const weight = weightFromB(constAsFloat32(b), rows, cols, transB, alpha);
      const { epilogue, pass } = splitActivation(activation);
      const kernel = backend.prepareLinear({ inFeatures, outFeatures, weight, bias, activation: epilogue });
      ctx.unreadWeights?.(weight, bias);
      ctx.packedInitializers?.(node.inputs[1], node.inputs[2]);
      return {
        ...base,
        inputs: node.inputs.slice(0, 1),
        params: weight.length + (bias ? bias.length : 0),
        plan(inputs) {
          const a = required(inputs, 0, owner, 'A');
          if (a.shape.length !== 2 || a.shape[1] !== inFeatures) {
            throw new ShapeError(`${owner}: expected A of shape M x ${inFeatures}, got [${a.shape.join(', ')}]`);
          }
          const batch = a.shape[0];
          return {
            outputs: [runtimeValue([batch, outFeatures], null)],
            multiplyAdds: batch * inFeatures * outFeatures,
            execution: packedLinearExecution(backend, kernel, batch, pass),
          };
        },
      };
    }
  }
  return {
    ...base,
    params: (b ? b.data.length : 0) + (c ? c.data.length : 0),
    plan(inputs) {
      const a = required(inputs, 0, owner, 'A');
      const bv = required(inputs, 1, owner, 'B');
      const cv = inputs[2] ?? null;
      if (a.shape.length !== 2 || bv.shape.length !== 2) {
        throw new ShapeError(`${owner}: A and B must be matrices, got [${a.shape.join(', ')}] and [${bv.shape.join(', ')}]`);
      }
      const [m, k] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
      const [kb, n] = transB ? [bv.shape[1], bv.shape[0]] : [bv.shape[0], bv.shape[1]];
      if (k !== kb) throw new ShapeError(`${owner}: inner dimensions differ: A gives ${k}, B gives ${kb}`);
      const cShape = cv?.shape ?? [];
      if (cv) broadcastShapes([m, n], cShape, owner);
      const cStrides = broadcastStrides(cShape, [m, n]);
      return {
        outputs: [runtimeValue([m, n], null)],
        multiplyAdds: m * n * k,
        execution: {
          runSync(ins, outs) {
            const [av, bvData, cData] = ins;
            const out = outs[0];
            for (let i = 0; i < m; i++) {
              for (let j = 0; j < n; j++) {
                let sum = 0;
                for (let p = 0; p < k; p++) {
                  sum += av[transA ? p * m + i : i * k + p] * bvData[transB ? j * k + p : p * n + j];
                }
                const cTerm = cv ? beta * cData[i * cStrides[0] + j * cStrides[1]] : 0;
                out[i * n + j] = alpha * sum + cTerm;
              }
            }
            applyActivation(out, activation);
          },
        },
      };
    },
  };
}

export function buildMatMul(ctx: BuildContext, fusion: LinearFusion): CompiledOp {
  const { node, backend } = ctx;
  const owner = describeNode(node);
  const activation = fusion.activation?.activation ?? NO_ACTIVATION;
  const b = node.inputs[1] ? ctx.constantOf(node.inputs[1]) : undefined;
  const base = { name: node.name, type: typeName(node, fusion), outputs: [fusion.output] };
  if (b && b.dims.length === 2) {
    const [inFeatures, outFeatures] = b.dims;
    const weight = weightFromB(constAsFloat32(b), inFeatures, outFeatures, false, 1);
    const biasConst = fusion.bias ? ctx.constantOf(fusion.bias.name) : undefined;
    const bias = biasConst ? Float32Array.from(constAsFloat32(biasConst)) : null;
    const { epilogue, pass } = splitActivation(activation);
    const kernel = backend.prepareLinear({ inFeatures, outFeatures, weight, bias, activation: epilogue });
    ctx.unreadWeights?.(weight, bias);
    ctx.packedInitializers?.(node.inputs[1], fusion.bias?.name);
    return {
      ...base,
      inputs: node.inputs.slice(0, 1),
      params: weight.length + (bias ? bias.length : 0),
      plan(inputs) {
        const a = required(inputs, 0, owner, 'A');
        if (a.shape.length < 1 || a.shape[a.shape.length - 1] !== inFeatures) {
          throw new ShapeError(`${owner}: expected A of shape ... x ${inFeatures}, got [${a.shape.join(', ')}]`);
        }
        const rows = numel(a.shape.slice(0, -1));
        const shape = [...a.shape.slice(0, -1), outFeatures];
        return {
          outputs: [runtimeValue(shape, null)],
          multiplyAdds: rows * inFeatures * outFeatures,
          execution: packedLinearExecution(backend, kernel, rows, pass),
        };
      },
    };
  }
  return {
    ...base,
    inputs: node.inputs,
    params: 0,
    plan: (inputs) =>
      planBatchedMatMul(owner, required(inputs, 0, owner, 'A'), required(inputs, 1, owner, 'B'), activation, backend),
  };
}
