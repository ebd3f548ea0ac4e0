/**
 * Load-time fusion. Walks the nodes once and gathers around each producer what can run inside
 * it (each pattern has its own file here):
 *  - a Conv takes a zero Pad in front (added to its padding), a following BatchNormalization
 *    (folded into the weights), an Add whose other operand becomes the kernel's residual input,
 *    and an activation for the epilogue (activation.ts: single nodes and the subgraphs exporters
 *    write for SiLU, HardSwish, Mish and GELU);
 *  - a Gemm/MatMul takes a bias Add (MatMul) and an activation;
 *  - a standalone BatchNormalization takes its activation: one channelAffine pass;
 *  - a squeeze-and-excitation block becomes one channel-scale step (squeeze-excite.ts);
 *  - a Pad in front of a pool becomes the pool's padding where that is exact (pad-pool.ts).
 * A node is absorbed only when every reader of the value it skips is inside the pattern and
 * that value is not a graph output, so no one else can observe it. The fused op takes the
 * position of the last node it absorbed: by then every value it reads (the residual's other
 * branch included) has been computed.
 */
import type { ConstTensor } from '../constant.js';
import type { OnnxNode } from '../decode.js';
import type { AffineFusion } from '../ops/channel-affine.js';
import type { ConvFusion, FusedActivation } from '../ops/conv.js';
import type { LinearFusion } from '../ops/linear.js';
import { padsForConv } from '../ops/pad.js';
import type { SqueezeExciteFusion } from '../ops/squeeze-excite.js';
import { matchActivation, matchOutput } from './activation.js';
import { GraphView, type FusionInput } from './graph-view.js';
import { padIntoPool, type PoolPadFusion } from './pad-pool.js';
import { matchSqueezeExcite } from './squeeze-excite.js';

export type { FusionInput } from './graph-view.js';

export type FusedItem =
  | { readonly kind: 'conv'; readonly node: OnnxNode; readonly fusion: ConvFusion }
  | { readonly kind: 'linear'; readonly node: OnnxNode; readonly fusion: LinearFusion }
  | { readonly kind: 'affine'; readonly node: OnnxNode; readonly fusion: AffineFusion }
  | { readonly kind: 'squeezeExcite'; readonly node: OnnxNode; readonly fusion: SqueezeExciteFusion }
  | { readonly kind: 'pool'; readonly node: OnnxNode; readonly pad: PoolPadFusion }
  | { readonly kind: 'plain'; readonly node: OnnxNode };

export function fuseGraph(input: FusionInput, enabled = true): FusedItem[] {
  const { nodes } = input;
  if (!enabled) {
    return nodes.map((node) => {
      if (node.opType === 'Conv') return { kind: 'conv', node, fusion: { output: node.outputs[0] } };
      if (node.opType === 'Gemm' || node.opType === 'MatMul') return { kind: 'linear', node, fusion: { output: node.outputs[0] } };
      return { kind: 'plain', node };
    });
  }
  const view = new GraphView(input);
  const slots = new Array<FusedItem | undefined>(nodes.length);

  /** Extends a fused chain whose value is `current`, last computed by node `last`, with the activation reading it. */
  const absorbActivation = (current: string, last: number): { activation?: FusedActivation; output: string; last: number } => {
    const match = matchActivation(view, current);
    if (!match) return { output: current, last };
    view.absorb(match.indices);
    const lastIndex = match.indices[match.indices.length - 1];
    return {
      activation: { node: nodes[lastIndex], label: match.label, activation: match.activation },
      output: matchOutput(view, match),
      last: lastIndex,
    };
  };

  const convPads = new Map<number, NonNullable<ConvFusion['pad']>>();
  const poolPads = new Map<number, PoolPadFusion>();

  nodes.forEach((node, i) => {
    if (view.isAbsorbed(i)) return;
    switch (node.opType) {
      case 'Pad': {
        const convIndex = view.soleReader(node.outputs[0], ['Conv']);
        const pads = convIndex === undefined ? null : padsForConv(node, view.opset, (name) => view.constantOf(name));
        if (convIndex !== undefined && pads && nodes[convIndex].inputs[0] === node.outputs[0] && hasExplicitPads(nodes[convIndex])) {
          view.absorb([i]);
          convPads.set(convIndex, { node, pads });
          return;
        }
        const intoPool = padIntoPool(view, i);
        if (intoPool) {
          view.absorb([i]);
          poolPads.set(intoPool.poolIndex, intoPool.pad);
          return;
        }
        break;
      }
      case 'MaxPool':
      case 'AveragePool': {
        const pad = poolPads.get(i);
        if (pad) {
          slots[i] = { kind: 'pool', node, pad };
          return;
        }
        break;
      }
      case 'GlobalAveragePool':
      case 'ReduceMean': {
        const se = matchSqueezeExcite(view, i);
        if (se) {
          slots[se.last] = { kind: 'squeezeExcite', node, fusion: se.fusion };
          return;
        }
        break;
      }
      case 'Conv': {
        let current = node.outputs[0];
        let last = i;
        let batchNorm: OnnxNode | undefined;
        let residual: ConvFusion['residual'];
        const bnIndex = view.soleReader(current, ['BatchNormalization']);
        if (bnIndex !== undefined && isInferenceBatchNorm(nodes[bnIndex], input.constantOf)) {
          batchNorm = nodes[bnIndex];
          view.absorb([bnIndex]);
          current = batchNorm.outputs[0];
          last = bnIndex;
        }
        const addIndex = view.soleReader(current, ['Add']);
        if (addIndex !== undefined) {
          const add = nodes[addIndex];
          const other = view.otherOperand(add, current);
          if (other !== undefined && other !== current && !view.constantOf(other)) {
            residual = { add, other };
            view.absorb([addIndex]);
            current = add.outputs[0];
            last = addIndex;
          }
        }
        const tail = absorbActivation(current, last);
        slots[tail.last] = {
          kind: 'conv',
          node,
          fusion: { pad: convPads.get(i), batchNorm, residual, activation: tail.activation, output: tail.output },
        };
        return;
      }
      case 'Gemm':
      case 'MatMul': {
        let current = node.outputs[0];
        let last = i;
        let bias: LinearFusion['bias'];
        const addIndex = node.opType === 'MatMul' ? view.soleReader(current, ['Add']) : undefined;
        if (addIndex !== undefined) {
          const add = nodes[addIndex];
          const other = view.otherOperand(add, current);
          const value = other === undefined ? undefined : view.constantOf(other);
          const weight = view.constantOf(node.inputs[1]);
          // Only a bias over the output features: [N] (or [1, N]) for a constant [K, N] weight.
          if (value && weight && weight.dims.length === 2 && value.data.length === weight.dims[1] && value.dims.slice(0, -1).every((d) => d === 1) && value.dims.length <= 2) {
            bias = { node: add, name: other! };
            view.absorb([addIndex]);
            current = add.outputs[0];
            last = addIndex;
          }
        }
        const tail = absorbActivation(current, last);
        slots[tail.last] = { kind: 'linear', node, fusion: { bias, activation: tail.activation, output: tail.output } };
        return;
      }
      case 'BatchNormalization': {
        if (!isInferenceBatchNorm(node, input.constantOf)) break;
        const tail = absorbActivation(node.outputs[0], i);
        slots[tail.last] = { kind: 'affine', node, fusion: { activation: tail.activation, output: tail.output } };
        return;
      }
    }
    slots[i] = { kind: 'plain', node };
  });
  return slots.filter((s): s is FusedItem => s !== undefined);
}

/** A conv whose padding is explicit (not SAME_*), so a folded Pad's sides can be added to it. */
function hasExplicitPads(conv: OnnxNode): boolean {
  const autoPad = conv.attributes.get('auto_pad');
  return !autoPad || ['NOTSET', 'VALID', ''].includes(String(autoPad.value));
}

/** A BatchNormalization in inference form whose statistics are all constants. */
function isInferenceBatchNorm(node: OnnxNode, constantOf: (name: string) => ConstTensor | undefined): boolean {
  const training = node.attributes.get('training_mode');
  if (training && training.value !== 0) return false;
  if (node.outputs.slice(1).some((o) => o !== '')) return false;
  return node.inputs.slice(1, 5).length === 4 && node.inputs.slice(1, 5).every((name) => constantOf(name) !== undefined);
}
