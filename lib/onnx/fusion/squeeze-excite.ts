/**
 * The squeeze-and-excitation pattern (MobileNetV3, EfficientNet, MnasNet-A, RegNetY):
 *   s = GlobalAveragePool(x); h = act1(Conv1x1(s)); g = act2(Conv1x1(h)); y = Mul(x, g)
 * where act1 is usually ReLU or SiLU and act2 the gate (Sigmoid, HardSigmoid), both optional.
 * The squeeze may also be a ReduceMean over H and W keeping them (x.mean((2, 3), keepdim=True),
 * as timm writes it): the 1x1 convs after it need a rank-4 map, so axes 2 and 3 are H and W.
 * Every intermediate must be read only inside the block; x may have other readers.
 */
import type { FusedActivation } from '../ops/conv.js';
import { isGateConv, type GateConv, type SqueezeExciteFusion } from '../ops/squeeze-excite.js';
import { matchActivation, matchOutput } from './activation.js';
import { NodeAttributes } from '../attributes.js';
import { constValues } from '../constant.js';
import type { OnnxNode } from '../decode.js';
import type { GraphView } from './graph-view.js';

/** A GlobalAveragePool, or a ReduceMean over axes 2 and 3 (or -2 and -1) with keepdims 1. */
export function isSpatialMean(view: GraphView, node: OnnxNode): boolean {
  if (node.opType === 'GlobalAveragePool') return true;
  if (node.opType !== 'ReduceMean') return false;
  const attrs = new NodeAttributes(node);
  if (attrs.int('keepdims', 1) !== 1) return false;
  const axesInput = view.opset >= 18 && node.inputs[1] ? view.constantOf(node.inputs[1]) : undefined;
  const axes = view.opset >= 18 ? (axesInput ? constValues(axesInput) : undefined) : attrs.ints('axes');
  if (!axes || axes.length !== 2) return false;
  const sorted = [...axes].sort((a, b) => a - b).join();
  return sorted === '2,3' || sorted === '-2,-1';
}

/** A 1x1 gate conv reading `value`, and the activation after it; nothing is absorbed yet. */
function gateStage(view: GraphView, value: string): { conv: GateConv; indices: number[]; output: string } | undefined {
  const convIndex = view.soleReader(value, ['Conv']);
  if (convIndex === undefined) return undefined;
  const node = view.nodes[convIndex];
  if (node.inputs[0] !== value || !isGateConv(node, (name) => view.constantOf(name))) return undefined;
  const match = matchActivation(view, node.outputs[0]);
  if (!match) return { conv: { node }, indices: [convIndex], output: node.outputs[0] };
  const activation: FusedActivation = { node: view.nodes[match.indices[match.indices.length - 1]], label: match.label, activation: match.activation };
  return { conv: { node, activation }, indices: [convIndex, ...match.indices], output: matchOutput(view, match) };
}

/** The block starting at the GlobalAveragePool `poolIndex`: absorbs it and returns the fused op's position, or undefined. */
export function matchSqueezeExcite(view: GraphView, poolIndex: number): { last: number; fusion: SqueezeExciteFusion } | undefined {
  const pool = view.nodes[poolIndex];
  if (!isSpatialMean(view, pool)) return undefined;
  const x = pool.inputs[0];
  const reduce = gateStage(view, pool.outputs[0]);
  if (!reduce) return undefined;
  const expand = gateStage(view, reduce.output);
  if (!expand) return undefined;
  const mulIndex = view.soleReader(expand.output, ['Mul']);
  if (mulIndex === undefined || view.otherOperand(view.nodes[mulIndex], expand.output) !== x) return undefined;
  const mul = view.nodes[mulIndex];
  view.absorb([poolIndex, ...reduce.indices, ...expand.indices, mulIndex]);
  return {
    last: mulIndex,
    fusion: { pool, reduce: reduce.conv, expand: expand.conv, mul, input: x, output: mul.outputs[0] },
  };
}
