/**
 * Activation patterns: the nodes after a producer that together compute one activation of its
 * output, so they can run in the producer's epilogue (a conv, a Gemm) or its affine pass (a
 * BatchNormalization). Besides the single activation nodes (activationOf), exporters spell some
 * activations as small subgraphs of x:
 *  - x * Sigmoid(x)                                  -> silu (Swish; EfficientNet, MnasNet-A)
 *  - x * HardSigmoid(x), alpha 1/6, beta 0.5         -> hardSwish (opsets before 14)
 *  - x * Tanh(Softplus(x))                           -> mish
 *  - (x * (Erf(x / sqrt 2) + 1)) * 0.5               -> gelu (PyTorch's export of nn.GELU)
 * Every node of a pattern but the last must be read only inside it, and x only by the pattern.
 */
import type { Activation } from '../../activation.js';
import type { OnnxNode } from '../decode.js';
import { activationOf } from '../ops/elementwise.js';
import type { GraphView } from './graph-view.js';

export interface ActivationMatch {
  /** Every node the pattern absorbs; the last computes the activation's output. */
  readonly indices: readonly number[];
  /** How the absorbed nodes read in op type names: 'Relu', 'Sigmoid+Mul'. */
  readonly label: string;
  readonly activation: Activation;
}

/** The value's readers form one activation pattern: returns it (without absorbing it), or undefined. */
export function matchActivation(view: GraphView, value: string): ActivationMatch | undefined {
  return matchGated(view, value) ?? matchErfGelu(view, value) ?? matchSingle(view, value);
}

/** The output value of a match: its last node's output. */
export function matchOutput(view: GraphView, match: ActivationMatch): string {
  return view.nodes[match.indices[match.indices.length - 1]].outputs[0];
}

function matchSingle(view: GraphView, value: string): ActivationMatch | undefined {
  const index = view.soleReader(value);
  if (index === undefined) return undefined;
  const node = view.nodes[index];
  if (node.inputs[0] !== value || node.outputs.length !== 1) return undefined;
  const activation = activationOf(node, view.opset, (name) => view.constantOf(name));
  return activation ? { indices: [index], label: node.opType, activation } : undefined;
}

/** x read by exactly two nodes: a gate chain g(x) and Mul(x, g(x)). */
function matchGated(view: GraphView, value: string): ActivationMatch | undefined {
  const readers = view.privateReaders(value);
  if (!readers || readers.length !== 2) return undefined;
  for (const [gateIndex, mulIndex] of [[readers[0], readers[1]], [readers[1], readers[0]]]) {
    const mul = view.nodes[mulIndex];
    if (mul.opType !== 'Mul') continue;
    const gate = gateChain(view, gateIndex, value);
    if (!gate || view.soleReader(gate.output, ['Mul']) !== mulIndex || view.otherOperand(mul, gate.output) !== value) continue;
    return { indices: [...gate.indices, mulIndex], label: [...gate.indices, mulIndex].map((i) => view.nodes[i].opType).join('+'), activation: gate.activation };
  }
  return undefined;
}

/** The gate of a gated activation, starting at node `first` which reads x as input 0. */
function gateChain(view: GraphView, first: number, value: string): { indices: number[]; output: string; activation: Activation } | undefined {
  const node = view.nodes[first];
  if (node.inputs[0] !== value || node.outputs.length !== 1) return undefined;
  if (node.opType === 'Sigmoid') return { indices: [first], output: node.outputs[0], activation: { kind: 'silu' } };
  if (node.opType === 'HardSigmoid') {
    const form = activationOf(node, view.opset, (name) => view.constantOf(name));
    if (form && Math.abs((form.alpha ?? 0) - 1 / 6) < 1e-6 && form.beta === 0.5) {
      return { indices: [first], output: node.outputs[0], activation: { kind: 'hardSwish' } };
    }
    return undefined;
  }
  if (node.opType === 'Softplus') {
    const tanh = view.soleReader(node.outputs[0], ['Tanh']);
    if (tanh === undefined) return undefined;
    return { indices: [first, tanh], output: view.nodes[tanh].outputs[0], activation: { kind: 'mish' } };
  }
  return undefined;
}

/** Within float32 rounding of the expected constant. */
function near(actual: number | undefined, expected: number): boolean {
  return actual !== undefined && Math.abs(actual - expected) <= 1e-6 * Math.abs(expected);
}

/** The node reading `value` as one operand of a binary `opType`, whose other operand is a constant; with that constant. */
function constantPartner(view: GraphView, value: string, opType: string): { index: number; node: OnnxNode; constant: number | undefined; first: boolean } | undefined {
  const index = view.soleReader(value, [opType]);
  if (index === undefined) return undefined;
  const node = view.nodes[index];
  const other = view.otherOperand(node, value);
  if (other === undefined || other === value) return undefined;
  return { index, node, constant: view.scalarOf(other), first: node.inputs[0] === value };
}

/** PyTorch's GELU: Mul(Mul(x, Add(Erf(Div(x, sqrt 2)), 1)), 0.5). */
function matchErfGelu(view: GraphView, value: string): ActivationMatch | undefined {
  const readers = view.privateReaders(value);
  if (!readers || readers.length !== 2) return undefined;
  // x / sqrt 2 (or x * (1 / sqrt 2)): the reader whose other operand is a constant scalar.
  const scaleIndex = readers.find((i) => ['Div', 'Mul'].includes(view.nodes[i].opType) && view.nodes[i].inputs[0] === value && view.scalarOf(view.nodes[i].inputs[1]) !== undefined);
  if (scaleIndex === undefined) return undefined;
  const scale = view.nodes[scaleIndex];
  const factor = view.scalarOf(scale.inputs[1]);
  if (!(scale.opType === 'Div' ? near(factor, Math.SQRT2) : near(factor, Math.SQRT1_2))) return undefined;
  const erf = view.soleReader(scale.outputs[0], ['Erf']);
  if (erf === undefined) return undefined;
  const plusOne = constantPartner(view, view.nodes[erf].outputs[0], 'Add');
  if (!plusOne || plusOne.constant !== 1) return undefined;
  const mulIndex = readers.find((i) => i !== scaleIndex)!;
  const mul = view.nodes[mulIndex];
  if (mul.opType !== 'Mul' || view.soleReader(plusOne.node.outputs[0], ['Mul']) !== mulIndex || view.otherOperand(mul, plusOne.node.outputs[0]) !== value) {
    return undefined;
  }
  const half = constantPartner(view, mul.outputs[0], 'Mul');
  const halve = half ?? constantPartner(view, mul.outputs[0], 'Div');
  if (!halve || !(halve.node.opType === 'Mul' ? halve.constant === 0.5 : halve.constant === 2 && halve.first)) return undefined;
  return {
    indices: [scaleIndex, erf, plusOne.index, mulIndex, halve.index],
    label: `${scale.opType}+Erf+Add+Mul+${halve.node.opType}`,
    activation: { kind: 'gelu' },
  };
}
