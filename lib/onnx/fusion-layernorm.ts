/**
 * The LayerNorm that models write out by hand (and that exporters before opset 17 emit for
 * nn.LayerNorm), recognised and replaced by one LayerNormalization node:
 *
 *   m = ReduceMean(x, axes)        keepdims 1, axes the last k axes, written negative
 *   d = Sub(x, m)
 *   v = ReduceMean(Pow(d, 2), axes)
 *   s = Sqrt(Add(v, eps))          eps a constant scalar
 *   n = Div(d, s)
 *   y = Add(Mul(n, gamma), beta)   gamma, beta constants over the normalised axes (beta optional)
 *
 * Nine element-wise passes over the tensor become one. Every value in between must be read only
 * inside the pattern and must not be a graph output, so no reader can see a skipped value. The
 * axes must be negative: the pass runs before shapes are known, and only [-k .. -1] is
 * certainly "the trailing axes" whatever the rank. Runs on the node list before fuseGraph.
 */
import type { AttributeValue, OnnxNode } from './decode.js';
import type { ConstTensor } from './constant.js';

interface PatternInput {
  readonly nodes: readonly OnnxNode[];
  readonly graphOutputs: ReadonlySet<string>;
  constantOf(name: string): ConstTensor | undefined;
}

function scalarOf(c: ConstTensor | undefined): number | undefined {
  return c && c.data.length === 1 ? c.data[0] : undefined;
}

export function fuseLayerNormPatterns(input: PatternInput, enabled = true): OnnxNode[] {
  const { nodes, graphOutputs } = input;
  if (!enabled) return [...nodes];
  const constantOf = (name: string) => (name === '' ? undefined : input.constantOf(name));
  const readers = new Map<string, number[]>();
  nodes.forEach((node, index) => {
    for (const name of node.inputs) if (name !== '') readers.set(name, [...(readers.get(name) ?? []), index]);
  });
  const readersOf = (value: string) => (graphOutputs.has(value) ? [] : readers.get(value) ?? []);
  /** The single node reading `value` (of this type), when nothing else can see it. */
  const sole = (value: string, opType: string): number | undefined => {
    const list = readersOf(value);
    return list.length === 1 && nodes[list[0]].opType === opType ? list[0] : undefined;
  };
  /** The trailing-axes count k of a keepdims ReduceMean over [-k .. -1], else undefined. */
  const trailingAxes = (node: OnnxNode): number | undefined => {
    const keep = node.attributes.get('keepdims');
    if (keep && keep.value !== 1) return undefined;
    const attr = node.attributes.get('axes');
    const axes = attr?.type === 'ints' ? [...attr.value] : node.inputs[1] ? constantOf(node.inputs[1])?.data : undefined;
    if (!axes || axes.length === 0) return undefined;
    const sorted = [...axes].sort((a, b) => a - b);
    const k = sorted.length;
    return sorted.every((a, i) => a === i - k) ? k : undefined;
  };
  /** The operand of a two-input node other than `value`, when `value` is one of them. */
  const otherOperand = (node: OnnxNode, value: string): string | undefined =>
    node.inputs.length === 2 && node.inputs.includes(value) ? (node.inputs[0] === value ? node.inputs[1] : node.inputs[0]) : undefined;

  const replaced = new Map<number, OnnxNode>();
  const removed = new Set<number>();
  nodes.forEach((mean, meanIndex) => {
    if (mean.opType !== 'ReduceMean' || removed.has(meanIndex)) return;
    const k = trailingAxes(mean);
    const x = mean.inputs[0];
    if (k === undefined) return;
    const subIndex = sole(mean.outputs[0], 'Sub');
    if (subIndex === undefined || nodes[subIndex].inputs[0] !== x || nodes[subIndex].inputs[1] !== mean.outputs[0]) return;
    const d = nodes[subIndex].outputs[0];
    const dReaders = readersOf(d);
    if (dReaders.length !== 2) return;
    const powIndex = dReaders.find((i) => nodes[i].opType === 'Pow');
    const divIndex = dReaders.find((i) => nodes[i].opType === 'Div');
    if (powIndex === undefined || divIndex === undefined) return;
    const pow = nodes[powIndex];
    if (pow.inputs[0] !== d || scalarOf(constantOf(pow.inputs[1])) !== 2) return;
    const varIndex = sole(pow.outputs[0], 'ReduceMean');
    if (varIndex === undefined || trailingAxes(nodes[varIndex]) !== k) return;
    const addEpsIndex = sole(nodes[varIndex].outputs[0], 'Add');
    if (addEpsIndex === undefined) return;
    const epsName = otherOperand(nodes[addEpsIndex], nodes[varIndex].outputs[0]);
    const epsilon = epsName === undefined ? undefined : scalarOf(constantOf(epsName));
    if (epsilon === undefined || !(epsilon >= 0)) return;
    const sqrtIndex = sole(nodes[addEpsIndex].outputs[0], 'Sqrt');
    if (sqrtIndex === undefined || sole(nodes[sqrtIndex].outputs[0], 'Div') !== divIndex) return;
    const div = nodes[divIndex];
    if (div.inputs[0] !== d || div.inputs[1] !== nodes[sqrtIndex].outputs[0]) return;
    // The affine tail: a constant scale over exactly the k normalised axes (leading 1s allowed).
    const mulIndex = sole(div.outputs[0], 'Mul');
    if (mulIndex === undefined) return;
    const gammaName = otherOperand(nodes[mulIndex], div.outputs[0]);
    const gamma = gammaName === undefined ? undefined : constantOf(gammaName);
    if (!gamma || gamma.kind !== 'float' || !spansTrailingAxes(gamma, k)) return;
    let last = mulIndex;
    let betaName: string | undefined;
    const addIndex = sole(nodes[mulIndex].outputs[0], 'Add');
    if (addIndex !== undefined) {
      const candidate = otherOperand(nodes[addIndex], nodes[mulIndex].outputs[0]);
      const beta = candidate === undefined ? undefined : constantOf(candidate);
      if (beta && beta.kind === 'float' && spansTrailingAxes(beta, k) && beta.data.length === gamma.data.length) {
        betaName = candidate;
        last = addIndex;
      }
    }
    const absorbed = [meanIndex, subIndex, powIndex, varIndex, addEpsIndex, sqrtIndex, divIndex, mulIndex, last];
    if (absorbed.some((i) => removed.has(i) || replaced.has(i))) return;
    const attributes = new Map<string, AttributeValue>([
      ['axis', { type: 'int', value: -k }],
      ['epsilon', { type: 'float', value: epsilon }],
    ]);
    const fused: OnnxNode = {
      opType: 'LayerNormalization',
      name: `${mean.name} (ReduceMean+Sub+Pow+ReduceMean+Add+Sqrt+Div+Mul${betaName ? '+Add' : ''})`,
      domain: '',
      inputs: betaName ? [x, gammaName!, betaName] : [x, gammaName!],
      outputs: [nodes[last].outputs[0]],
      attributes,
    };
    // The fused node sits where the pattern's last node was: by then x and the constants exist.
    absorbed.forEach((i) => removed.add(i));
    removed.delete(last);
    replaced.set(last, fused);
  });
  if (replaced.size === 0) return [...nodes];
  return nodes.flatMap((node, i) => (replaced.has(i) ? [replaced.get(i)!] : removed.has(i) ? [] : [node]));
}

/**
 * A constant whose shape, leading 1s dropped, is k axes none of them 1: one value per normalised
 * element (a 1 could be a broadcast, which LayerNormalization's Scale cannot express).
 */
function spansTrailingAxes(c: ConstTensor, k: number): boolean {
  const dims = [...c.dims];
  while (dims.length > k && dims[0] === 1) dims.shift();
  return dims.length === k && dims.every((d) => d > 1);
}
