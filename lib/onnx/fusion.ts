/**
 * Load-time fusion. Walks the nodes once and attaches to each Conv what can run inside it:
 * a zero Pad in front (added to the conv's padding), a following BatchNormalization (folded into the weights), an Add whose other operand becomes
 * the kernel's residual input, and a final activation for the epilogue; to each Gemm/MatMul a
 * following activation. A node is absorbed only when it is the sole reader of the value and
 * that value is not a graph output, so no one else can observe the skipped intermediate.
 * The fused op takes the position of the last node it absorbed: by then every value it reads
 * (the residual's other branch included) has been computed.
 */
import type { ConstTensor } from './constant.js';
import type { OnnxNode } from './decode.js';
import { activationOf } from './ops/elementwise.js';
import type { ConvFusion } from './ops/conv.js';
import { padsForConv } from './ops/pad.js';
import type { LinearFusion } from './ops/linear.js';

export type FusedItem =
  | { readonly kind: 'conv'; readonly node: OnnxNode; readonly fusion: ConvFusion }
  | { readonly kind: 'linear'; readonly node: OnnxNode; readonly fusion: LinearFusion }
  | { readonly kind: 'plain'; readonly node: OnnxNode };

interface FusionInput {
  readonly nodes: readonly OnnxNode[];
  readonly graphOutputs: ReadonlySet<string>;
  readonly opset: number;
  constantOf(name: string): ConstTensor | undefined;
}

export function fuseGraph(input: FusionInput, enabled = true): FusedItem[] {
  const { nodes, graphOutputs, opset } = input;
  const constantOf = (name: string) => input.constantOf(name);
  if (!enabled) {
    return nodes.map((node) => {
      if (node.opType === 'Conv') return { kind: 'conv', node, fusion: { output: node.outputs[0] } };
      if (node.opType === 'Gemm' || node.opType === 'MatMul') return { kind: 'linear', node, fusion: { output: node.outputs[0] } };
      return { kind: 'plain', node };
    });
  }
  const readers = new Map<string, number[]>();
  nodes.forEach((node, index) => {
    for (const name of node.inputs) if (name !== '') readers.set(name, [...(readers.get(name) ?? []), index]);
  });
  const slots = new Array<FusedItem | undefined>(nodes.length);
  const absorbed = new Set<number>();
  /**
   * The one node reading `value` (through any of its inputs; callers that need the first input
   * check it), when no other node and no graph output can see it. With opTypes, only such a node.
   */
  const soleReader = (value: string, opTypes: readonly string[] | null): number | undefined => {
    if (graphOutputs.has(value)) return undefined;
    const list = readers.get(value) ?? [];
    if (list.length !== 1 || absorbed.has(list[0])) return undefined;
    const node = nodes[list[0]];
    if (opTypes && !opTypes.includes(node.opType)) return undefined;
    return list[0];
  };

  /** x * HardSigmoid(x) with alpha 1/6, beta 0.5: how exporters before opset 14 write HardSwish. */
  const takeSplitHardSwish = (value: string) => {
    if (graphOutputs.has(value)) return undefined;
    const list = readers.get(value) ?? [];
    if (list.length !== 2 || list.some((i) => absorbed.has(i))) return undefined;
    const [gate, mul] = nodes[list[0]].opType === 'HardSigmoid' ? list : [list[1], list[0]];
    const g = nodes[gate];
    const m = nodes[mul];
    if (g.opType !== 'HardSigmoid' || m.opType !== 'Mul' || g.inputs[0] !== value) return undefined;
    const alpha = g.attributes.get('alpha')?.value ?? 0.2;
    const beta = g.attributes.get('beta')?.value ?? 0.5;
    if (typeof alpha !== 'number' || Math.abs(alpha - 1 / 6) > 1e-6 || beta !== 0.5) return undefined;
    const gateOut = g.outputs[0];
    if (!m.inputs.includes(value) || !m.inputs.includes(gateOut) || soleReader(gateOut, ['Mul']) !== mul) return undefined;
    return { index: mul, absorbedIndices: [gate, mul], node: m, label: 'HardSigmoid+Mul', activation: { kind: 'hardSwish' } as const };
  };

  const takeActivation = (value: string) => {
    const split = takeSplitHardSwish(value);
    if (split) return split;
    const index = soleReader(value, null);
    if (index === undefined || nodes[index].inputs[0] !== value || nodes[index].outputs.length !== 1) return undefined;
    const activation = activationOf(nodes[index], opset, constantOf);
    return activation ? { index, absorbedIndices: [index], node: nodes[index], label: nodes[index].opType, activation } : undefined;
  };

  /** Extends a fused chain whose value is `current`, last computed by node `last`, with the activation reading it. */
  const absorbActivation = (current: string, last: number) => {
    const act = takeActivation(current);
    if (!act) return { activation: undefined, output: current, last };
    act.absorbedIndices.forEach((k) => absorbed.add(k));
    return { activation: { node: act.node, label: act.label, activation: act.activation }, output: act.node.outputs[0], last: act.index };
  };

  const padBefore = new Map<number, NonNullable<ConvFusion['pad']>>();

  nodes.forEach((node, i) => {
    if (absorbed.has(i)) return;
    if (node.opType === 'Pad') {
      const convIndex = soleReader(node.outputs[0], ['Conv']);
      const pads = convIndex === undefined ? null : padsForConv(node, opset, constantOf);
      if (convIndex !== undefined && pads && nodes[convIndex].inputs[0] === node.outputs[0] && hasExplicitPads(nodes[convIndex])) {
        absorbed.add(i);
        padBefore.set(convIndex, { node, pads });
        return;
      }
    }
    if (node.opType === 'Conv') {
      let current = node.outputs[0];
      let last = i;
      let batchNorm: OnnxNode | undefined;
      let residual: ConvFusion['residual'];
      const bnIndex = soleReader(current, ['BatchNormalization']);
      if (bnIndex !== undefined && isInferenceBatchNorm(nodes[bnIndex], constantOf)) {
        batchNorm = nodes[bnIndex];
        absorbed.add(bnIndex);
        current = batchNorm.outputs[0];
        last = bnIndex;
      }
      const addIndex = soleReader(current, ['Add']);
      if (addIndex !== undefined) {
        const add = nodes[addIndex];
        const other = add.inputs[0] === current ? add.inputs[1] : add.inputs[0];
        if (add.inputs.length === 2 && other !== current && !constantOf(other)) {
          residual = { add, other };
          absorbed.add(addIndex);
          current = add.outputs[0];
          last = addIndex;
        }
      }
      const tail = absorbActivation(current, last);
      slots[tail.last] = {
        kind: 'conv',
        node,
        fusion: { pad: padBefore.get(i), batchNorm, residual, activation: tail.activation, output: tail.output },
      };
      return;
    }
    if (node.opType === 'Gemm' || node.opType === 'MatMul') {
      let current = node.outputs[0];
      let last = i;
      let bias: LinearFusion['bias'];
      const addIndex = node.opType === 'MatMul' ? soleReader(current, ['Add']) : undefined;
      if (addIndex !== undefined) {
        const add = nodes[addIndex];
        const other = add.inputs[0] === current ? add.inputs[1] : add.inputs[0];
        const value = constantOf(other);
        const weight = constantOf(node.inputs[1]);
        // Only a bias over the output features: [N] (or [1, N]) for a constant [K, N] weight.
        if (value && weight && weight.dims.length === 2 && value.data.length === weight.dims[1] && value.dims.slice(0, -1).every((d) => d === 1) && value.dims.length <= 2) {
          bias = { node: add, name: other };
          absorbed.add(addIndex);
          current = add.outputs[0];
          last = addIndex;
        }
      }
      const tail = absorbActivation(current, last);
      slots[tail.last] = { kind: 'linear', node, fusion: { bias, activation: tail.activation, output: tail.output } };
      return;
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
