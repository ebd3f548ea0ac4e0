/**
 * A squeeze-and-excitation block as one channel-scale step: the gate is computed per (image,
 * channel) from the global average of x (squeeze), two 1x1 convs on that 1x1 map (plain matrix
 * products) with their activations, and then x is scaled by it. Unfused it is five or six
 * steps, the last a broadcasting Mul over the whole feature map.
 * Where the backend has a squeeze-and-excitation kernel (native, js) the step is ONE call to
 * it; elsewhere (wasm) four: the global pool, the two linear kernels and a channelAffine with
 * an N*C scale.
 */
import { NO_ACTIVATION, type LinearKernel, type SqueezeExciteKernel, type SqueezeExciteLayer } from '../../backends/backend.js';
import { ShapeError } from '../../errors.js';
import { describeNode, NodeAttributes } from '../attributes.js';
import { constAsFloat32 } from '../constant.js';
import type { OnnxNode } from '../decode.js';
import { OnnxError } from '../errors.js';
import type { FusedActivation } from './conv.js';
import { numel, required, runtimeValue } from './shape-utils.js';
import type { BuildContext, CompiledOp } from './types.js';

/** One 1x1 conv of the gate and the activation fused after it. */
export interface GateConv {
  readonly node: OnnxNode;
  readonly activation?: FusedActivation;
}

/** What the fusion pass found: GlobalAveragePool -> reduce conv -> expand conv -> Mul(x, gate). */
export interface SqueezeExciteFusion {
  readonly pool: OnnxNode;
  readonly reduce: GateConv;
  readonly expand: GateConv;
  readonly mul: OnnxNode;
  /** x: the feature map the block squeezes and scales. */
  readonly input: string;
  readonly output: string;
}

/** A gate conv's constant weights read as a [out, in] matrix and bias (the same bytes as [out, in, 1, 1]). */
interface GateWeights {
  readonly layer: SqueezeExciteLayer;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly params: number;
}

function gateWeights(ctx: BuildContext, conv: GateConv): GateWeights {
  const owner = describeNode(conv.node);
  const weight = ctx.constantOf(conv.node.inputs[1]);
  if (!weight || weight.dims.length !== 4 || weight.dims[2] !== 1 || weight.dims[3] !== 1) {
    throw new OnnxError(`${owner}: a squeeze-and-excitation conv needs a constant 1x1 weight`);
  }
  const [outFeatures, inFeatures] = weight.dims;
  const biasConst = conv.node.inputs[2] ? ctx.constantOf(conv.node.inputs[2]) : undefined;
  if (conv.node.inputs[2] && (!biasConst || biasConst.data.length !== outFeatures)) {
    throw new OnnxError(`${owner}: the bias must be a constant of ${outFeatures} values`);
  }
  const bias = biasConst ? Float32Array.from(constAsFloat32(biasConst)) : null;
  const layer = { weight: Float32Array.from(constAsFloat32(weight)), bias, activation: conv.activation?.activation ?? NO_ACTIVATION };
  return { layer, inFeatures, outFeatures, params: weight.data.length + (bias ? bias.length : 0) };
}

/** The prepared weights are the backend's own copy: the loader may free ours and the initializers. */
function releaseGateWeights(ctx: BuildContext, conv: GateConv, gate: GateWeights): void {
  ctx.unreadWeights?.(gate.layer.weight, gate.layer.bias);
  ctx.packedInitializers?.(conv.node.inputs[1], conv.node.inputs[2]);
}

/** One gate conv as the backend's linear kernel. */
function gateLinear(ctx: BuildContext, conv: GateConv, gate: GateWeights): LinearKernel {
  const kernel = ctx.backend.prepareLinear({ inFeatures: gate.inFeatures, outFeatures: gate.outFeatures, ...gate.layer });
  releaseGateWeights(ctx, conv, gate);
  return kernel;
}

/** True when a Conv node is a plain 1x1 conv (one group, no padding), as the gate's convs must be. */
export function isGateConv(node: OnnxNode, constantOf: BuildContext['constantOf']): boolean {
  if (node.opType !== 'Conv') return false;
  const attrs = new NodeAttributes(node);
  const weight = constantOf(node.inputs[1] ?? '');
  const pads = attrs.ints('pads');
  const autoPad = attrs.string('auto_pad', 'NOTSET');
  return attrs.int('group', 1) === 1 && !!weight && weight.dims.length === 4 && weight.dims[2] === 1 && weight.dims[3] === 1 &&
    (!pads || pads.every((p) => p === 0)) && ['NOTSET', 'VALID', ''].includes(autoPad) &&
    (!node.inputs[2] || constantOf(node.inputs[2]) !== undefined);
}

export function buildSqueezeExcite(ctx: BuildContext, fusion: SqueezeExciteFusion): CompiledOp {
  const { backend } = ctx;
  const owner = describeNode(fusion.mul);
  const reduce = gateWeights({ ...ctx, node: fusion.reduce.node }, fusion.reduce);
  const expand = gateWeights({ ...ctx, node: fusion.expand.node }, fusion.expand);
  const channels = reduce.inFeatures;
  const hidden = reduce.outFeatures;
  if (expand.inFeatures !== hidden || expand.outFeatures !== channels) {
    throw new OnnxError(`${owner}: the gate maps ${channels} -> ${hidden} -> ${expand.outFeatures} channels; it must come back to ${channels}`);
  }
  const labels = [fusion.pool.opType, fusion.reduce.node.opType, fusion.reduce.activation?.label, fusion.expand.node.opType, fusion.expand.activation?.label, fusion.mul.opType];
  let block: SqueezeExciteKernel | undefined;
  let separate: { reduce: LinearKernel; expand: LinearKernel } | undefined;
  if (backend.prepareSqueezeExcite) {
    block = backend.prepareSqueezeExcite({ channels, hidden, reduce: reduce.layer, expand: expand.layer });
    releaseGateWeights(ctx, fusion.reduce, reduce);
    releaseGateWeights(ctx, fusion.expand, expand);
  } else {
    separate = {
      reduce: gateLinear({ ...ctx, node: fusion.reduce.node }, fusion.reduce, reduce),
      expand: gateLinear({ ...ctx, node: fusion.expand.node }, fusion.expand, expand),
    };
  }
  return {
    name: fusion.mul.name,
    type: labels.filter((l) => l !== undefined).join('+'),
    inputs: [fusion.input],
    outputs: [fusion.output],
    params: reduce.params + expand.params,
    plan(inputs) {
      const x = required(inputs, 0, owner, 'X');
      if (x.shape.length !== 4 || x.shape[1] !== channels) {
        throw new ShapeError(`${owner}: the squeeze-and-excitation gate expects input of shape N x ${channels} x H x W, got [${x.shape.join(', ')}]`);
      }
      const [batch, , h, w] = x.shape;
      const plane = h * w;
      const planned = {
        outputs: [runtimeValue(x.shape, x.field)],
        multiplyAdds: batch * (2 * channels * hidden + numel(x.shape.slice(1))),
      };
      if (block) {
        const kernel = block;
        return {
          ...planned,
          execution: {
            runSync: (ins, outs) => kernel.runSync(ins[0], batch, plane, outs[0]),
            run: (ins, outs) => kernel.run(ins[0], batch, plane, outs[0]),
            queuesOneCall: backend.ordersQueuedCalls,
          },
        };
      }
      const gates = separate!;
      // The gate's buffers are per run (N*C floats each): plans run concurrently on separate arenas.
      const buffers = () => ({ pooled: new Float32Array(batch * channels), squeezed: new Float32Array(batch * hidden), gate: new Float32Array(batch * channels) });
      const affineFor = (gate: Float32Array) => ({ batch, channels, plane, scale: gate, shift: null, activation: NO_ACTIVATION });
      const gateOf = (input: Float32Array): Float32Array => {
        const { pooled, squeezed, gate } = buffers();
        backend.globalPool2dSync(input, 'avg', batch * channels, plane, pooled);
        gates.reduce.runSync(pooled, batch, squeezed);
        gates.expand.runSync(squeezed, batch, gate);
        return gate;
      };
      return {
        ...planned,
        execution: {
          runSync: (ins, outs) => backend.channelAffineSync(ins[0], affineFor(gateOf(ins[0])), outs[0]),
          // On a backend that orders queued calls by memory, the gate's four calls are queued at
          // once and chain after the step that writes x: the step is no barrier. Elsewhere they
          // run one after another.
          run: backend.ordersQueuedCalls
            ? (ins, outs) => {
                const { pooled, squeezed, gate } = buffers();
                return settleInOrder([
                  backend.globalPool2d(ins[0], 'avg', batch * channels, plane, pooled),
                  gates.reduce.run(pooled, batch, squeezed),
                  gates.expand.run(squeezed, batch, gate),
                  backend.channelAffine(ins[0], affineFor(gate), outs[0]),
                ]);
              }
            : async (ins, outs) => backend.channelAffine(ins[0], affineFor(gateOf(ins[0])), outs[0]),
          queuesOneCall: backend.ordersQueuedCalls,
        },
      };
    },
  };
}

/** Settles when every queued call has (none is left running into a buffer), rejecting with the first failure. */
async function settleInOrder(calls: readonly Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(calls);
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
}
