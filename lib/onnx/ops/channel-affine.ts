/**
 * A standalone BatchNormalization (one that follows no conv it could fold into: DenseNet's
 * pre-activation BN + ReLU in front of each conv) with the activation after it, as one pass of
 * the backend's channelAffine: y = act(x * scale + shift), BN folded to scale/shift at load.
 */
import { NO_ACTIVATION, type ChannelAffine } from '../../backends/backend.js';
import { ShapeError } from '../../errors.js';
import { describeNode } from '../attributes.js';
import type { FusedActivation } from './conv.js';
import { numel, required, runtimeValue } from './shape-utils.js';
import { batchNormAffine } from './tensor-ops.js';
import type { BuildContext, CompiledOp } from './types.js';

export interface AffineFusion {
  readonly activation?: FusedActivation;
  /** The value the fused op writes: the activation's output, or the BN's. */
  readonly output: string;
}

export function buildBatchNormAffine(ctx: BuildContext, fusion: AffineFusion): CompiledOp {
  const { node, backend } = ctx;
  const owner = describeNode(node);
  const { scale, shift } = batchNormAffine(ctx);
  const channels = scale.length;
  const scale32 = Float32Array.from(scale);
  const shift32 = Float32Array.from(shift);
  const activation = fusion.activation?.activation ?? NO_ACTIVATION;
  return {
    name: node.name,
    type: fusion.activation ? `${node.opType}+${fusion.activation.label}` : node.opType,
    inputs: node.inputs.slice(0, 1),
    outputs: [fusion.output],
    params: 2 * channels,
    plan(inputs) {
      const x = required(inputs, 0, owner, 'X');
      if (x.shape.length < 2 || x.shape[1] !== channels) {
        throw new ShapeError(`${owner}: expected input of shape N x ${channels} x ..., got [${x.shape.join(', ')}]`);
      }
      const affine: ChannelAffine = { batch: x.shape[0], channels, plane: numel(x.shape.slice(2)), scale: scale32, shift: shift32, activation };
      return {
        outputs: [runtimeValue(x.shape, x.field)],
        multiplyAdds: numel(x.shape),
        execution: {
          runSync: (ins, outs) => backend.channelAffineSync(ins[0], affine, outs[0]),
          run: (ins, outs) => backend.channelAffine(ins[0], affine, outs[0]),
          queuesOneCall: true,
        },
      };
    },
  };
}
