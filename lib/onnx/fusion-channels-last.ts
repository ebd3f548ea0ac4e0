/**
 * ConvNeXt's channels-last blocks run on NCHW data, without their two transposes:
 *
 *   x (NCHW) -> Transpose [0,2,3,1] -> ... channels-last ops ... -> Transpose [0,3,1,2] -> y (NCHW)
 *
 * Between the two transposes every op works per pixel along the last (channel) axis, so each has
 * an NCHW twin that reads the same numbers in another order:
 *   LayerNormalization over the last axis   -> a channel LayerNorm (each pixel's C values)
 *   MatMul by a constant [Cin, Cout] B      -> a 1x1 Conv with weight B^T [Cout, Cin, 1, 1]; a
 *                                              following Add of a constant [Cout] bias becomes
 *                                              the Conv's bias
 *   Add / Sub / Mul / Div with a constant   -> the same, the constant's last axis [K] moved to
 *     that varies along the last axis only     the channel axis ([K, 1, 1])
 *   element-wise ops, binary ops of two values of the region: unchanged
 * The region is every node reachable from the first Transpose's output through such ops; it is
 * rewritten only when each of its values is read inside it or by a Transpose [0,3,1,2] (an
 * exit), none is a graph output (or a value a caller keeps), and at least one exit exists.
 * The entry Transpose goes; each exit becomes its producer writing the exit's value directly
 * (or an Identity where the value has other readers). Besides the two transposes' copies, the
 * MatMuls then run as 1x1 convs straight on channel rows (no gather of the NHWC rows, no
 * transposed output), and the Conv + GELU fusion applies to them.
 * Runs on the node list after fuseLayerNormPatterns, before fuseGraph; adds the 1x1 weights and
 * [K, 1, 1] constants to `constants`.
 */
import type { AttributeValue, OnnxNode } from './decode.js';
import { floatConst, type ConstTensor } from './constant.js';

/** The op type of the channel LayerNorm this pass makes (lib/onnx/ops/normalization.ts). */
export const CHANNEL_LAYER_NORM = 'convnode.ChannelLayerNorm';

const UNARY = new Set([
  'Relu', 'Sigmoid', 'Tanh', 'LeakyRelu', 'HardSigmoid', 'HardSwish', 'Elu', 'Exp', 'Softplus', 'Gelu', 'Mish', 'Erf',
  'Sqrt', 'Neg', 'Abs', 'Reciprocal', 'Identity',
]);
const BINARY = new Set(['Add', 'Sub', 'Mul', 'Div']);

interface ChannelsLastInput {
  readonly nodes: readonly OnnxNode[];
  readonly graphOutputs: ReadonlySet<string>;
  readonly constants: Map<string, ConstTensor>;
}

function permOf(node: OnnxNode): readonly number[] | undefined {
  const perm = node.attributes.get('perm');
  return perm?.type === 'ints' ? perm.value : undefined;
}

const samePerm = (node: OnnxNode, perm: readonly number[]) =>
  node.opType === 'Transpose' && permOf(node)?.length === perm.length && permOf(node)!.every((p, i) => p === perm[i]);
const TO_CHANNELS_LAST = [0, 2, 3, 1];
const TO_CHANNELS_FIRST = [0, 3, 1, 2];

/** A float constant that varies along the last axis only (a scalar counts), as its length K. */
function lastAxisLength(c: ConstTensor | undefined): number | undefined {
  if (!c || c.kind !== 'float' || c.dims.length > 4) return undefined;
  if (c.data.length === 1) return 1;
  return c.dims.slice(0, -1).every((d) => d === 1) ? c.dims[c.dims.length - 1] : undefined;
}

export function fuseChannelsLastBlocks(input: ChannelsLastInput, enabled = true): OnnxNode[] {
  const { nodes, graphOutputs, constants } = input;
  if (!enabled) return [...nodes];
  const constantOf = (name: string) => (name === '' ? undefined : constants.get(name));
  const readers = new Map<string, number[]>();
  nodes.forEach((node, index) => {
    for (const name of node.inputs) if (name !== '') readers.set(name, [...(readers.get(name) ?? []), index]);
  });
  const replaced = new Map<number, OnnxNode[]>();
  const taken = new Set<number>();
  let fresh = 0;
  const freshName = (base: string) => {
    let name = `${base}::nchw`;
    while (constants.has(name)) name = `${base}::nchw${++fresh}`;
    return name;
  };

  nodes.forEach((entry, entryIndex) => {
    if (!samePerm(entry, TO_CHANNELS_LAST) || taken.has(entryIndex)) return;
    const start = entry.outputs[0];
    const values = new Set([start]);
    const members: number[] = [];
    const exits: number[] = [];
    const queue = [start];
    while (queue.length) {
      const value = queue.shift()!;
      if (graphOutputs.has(value)) return;
      for (const r of readers.get(value) ?? []) {
        if (members.includes(r) || exits.includes(r)) continue;
        const node = nodes[r];
        if (taken.has(r)) return;
        if (samePerm(node, TO_CHANNELS_FIRST)) {
          exits.push(r);
          continue;
        }
        if (!isChannelwise(node, constantOf)) return;
        members.push(r);
        for (const out of node.outputs) if (out !== '') {
          values.add(out);
          queue.push(out);
        }
      }
    }
    if (members.length === 0 || exits.length === 0) return;
    // Every input of a member is a value of the region or a constant of the right form.
    for (const m of members) {
      for (const [slot, name] of nodes[m].inputs.entries()) {
        if (name === '' || values.has(name)) continue;
        if (!acceptsConstant(nodes[m], slot, constantOf(name))) return;
      }
    }
    // A MatMul's bias Add: the Add whose other operand is the [Cout] constant, sole reader of the MatMul.
    const biasOf = new Map<number, { add: number; bias: string }>();
    for (const m of members) {
      const node = nodes[m];
      if (node.opType !== 'MatMul') continue;
      const list = readers.get(node.outputs[0]) ?? [];
      if (list.length !== 1 || !members.includes(list[0]) || nodes[list[0]].opType !== 'Add') continue;
      const add = nodes[list[0]];
      const other = add.inputs[0] === node.outputs[0] ? add.inputs[1] : add.inputs[0];
      const bias = constantOf(other);
      if (bias && lastAxisLength(bias) === constantOf(node.inputs[1])!.dims[1] && bias.data.length > 1) {
        biasOf.set(m, { add: list[0], bias: other });
      }
    }
    const absorbedAdds = new Set([...biasOf.values()].map((b) => b.add));
    const rename = (name: string) => (name === start ? entry.inputs[0] : name);
    // The exit values that can be written directly by their producer: read by that exit alone.
    const exitRenames = new Map<string, string>();
    for (const e of exits) {
      const value = nodes[e].inputs[0];
      if (value !== start && (readers.get(value) ?? []).length === 1) exitRenames.set(value, nodes[e].outputs[0]);
    }
    const outputName = (name: string) => exitRenames.get(name) ?? name;
    // ConvNeXt's layer scale: an exit written by a MatMul's conv and read only by a Mul with a
    // per-channel constant ([C, 1, 1]) folds into that conv's weights and bias; the conv then
    // writes the Mul's output, and the residual Add after it can fuse into the conv's epilogue.
    const layerScale = new Map<number, { mul: number; scale: Float32Array; output: string }>();
    for (const e of exits) {
      const value = nodes[e].inputs[0];
      if (!exitRenames.has(value)) continue;
      const producer = members.find((m) => (biasOf.has(m) ? nodes[biasOf.get(m)!.add] : nodes[m]).outputs[0] === value);
      if (producer === undefined || nodes[producer].opType !== 'MatMul') continue;
      const exitOut = nodes[e].outputs[0];
      const list = readers.get(exitOut) ?? [];
      if (graphOutputs.has(exitOut) || list.length !== 1 || taken.has(list[0]) || nodes[list[0]].opType !== 'Mul') continue;
      const mul = nodes[list[0]];
      const other = mul.inputs[0] === exitOut ? mul.inputs[1] : mul.inputs[0];
      const c = constantOf(other);
      const cout = constantOf(nodes[producer].inputs[1])!.dims[1];
      const channelVector = c && c.kind === 'float' && c.data.length === cout && cout > 1 && c.dims.length >= 3 &&
        c.dims[c.dims.length - 3] === cout && c.dims.every((d, i) => d === 1 || i === c.dims.length - 3) && c.dims.length <= 4;
      if (!channelVector || other === exitOut) continue;
      layerScale.set(producer, { mul: list[0], scale: c.data, output: mul.outputs[0] });
    }

    for (const m of members) {
      const node = nodes[m];
      if (absorbedAdds.has(m)) {
        replaced.set(m, []);
        continue;
      }
      const inputs = node.inputs.map(rename);
      if (node.opType === 'MatMul') {
        const weight = constantOf(node.inputs[1])!;
        const [cin, cout] = weight.dims;
        const transposed = new Float32Array(cin * cout);
        for (let k = 0; k < cin; k++) for (let n = 0; n < cout; n++) transposed[n * cin + k] = weight.data[k * cout + n];
        const scaled = layerScale.get(m);
        if (scaled) for (let n = 0; n < cout; n++) for (let k = 0; k < cin; k++) transposed[n * cin + k] *= scaled.scale[n];
        const weightName = freshName(node.inputs[1]);
        constants.set(weightName, floatConst([cout, cin, 1, 1], transposed));
        const bias = biasOf.get(m);
        const convInputs = [inputs[0], weightName];
        if (bias) {
          const biasValues = Float32Array.from(constantOf(bias.bias)!.data);
          if (scaled) for (let n = 0; n < cout; n++) biasValues[n] *= scaled.scale[n];
          const biasName = freshName(bias.bias);
          constants.set(biasName, floatConst([cout], biasValues));
          convInputs.push(biasName);
        }
        const output = bias ? nodes[bias.add].outputs[0] : node.outputs[0];
        if (scaled) replaced.set(scaled.mul, []);
        replaced.set(m, [{
          opType: 'Conv', domain: '', name: `${node.name} (MatMul${bias ? '+Add' : ''}${scaled ? ' and the layer-scale Mul' : ''} as 1x1 Conv on NCHW)`,
          inputs: convInputs, outputs: [scaled ? scaled.output : outputName(output)],
          attributes: new Map<string, AttributeValue>([['kernel_shape', { type: 'ints', value: [1, 1] }]]),
        }]);
        continue;
      }
      if (node.opType === 'LayerNormalization') {
        replaced.set(m, [{
          ...node, opType: CHANNEL_LAYER_NORM, name: `${node.name} (LayerNormalization over channels, on NCHW)`,
          inputs, outputs: [outputName(node.outputs[0])],
          attributes: new Map([...node.attributes].filter(([key]) => key === 'epsilon')),
        }]);
        continue;
      }
      // Element-wise: a constant varying along the last axis moves to the channel axis.
      const moved = inputs.map((name, slot) => {
        const c = values.has(node.inputs[slot]) ? undefined : constantOf(node.inputs[slot]);
        const k = lastAxisLength(c);
        if (!c || k === undefined || k === 1) return name;
        const movedName = freshName(node.inputs[slot]);
        constants.set(movedName, floatConst([k, 1, 1], Float32Array.from(c.data)));
        return movedName;
      });
      replaced.set(m, [{ ...node, inputs: moved, outputs: node.outputs.map(outputName) }]);
    }
    replaced.set(entryIndex, []);
    for (const e of exits) {
      const exit = nodes[e];
      const value = exit.inputs[0];
      replaced.set(e, exitRenames.has(value) ? [] : [{
        opType: 'Identity', domain: '', name: `${exit.name} (Transpose, now NCHW already)`,
        inputs: [rename(value)], outputs: exit.outputs.slice(0, 1), attributes: new Map(),
      }]);
    }
    [entryIndex, ...members, ...exits, ...[...layerScale.values()].map((l) => l.mul)].forEach((i) => taken.add(i));
  });
  if (replaced.size === 0) return [...nodes];
  return nodes.flatMap((node, i) => replaced.get(i) ?? [node]);
}

/** Whether a node has an NCHW twin when its region inputs are channels-last (see the file comment). */
function isChannelwise(node: OnnxNode, constantOf: (name: string) => ConstTensor | undefined): boolean {
  if (node.outputs.slice(1).some((o) => o !== '')) return false;
  if (UNARY.has(node.opType)) return node.inputs.length === 1;
  if (BINARY.has(node.opType)) return node.inputs.length === 2;
  if (node.opType === 'LayerNormalization') {
    const axis = node.attributes.get('axis');
    const value = axis?.type === 'int' ? axis.value : -1;
    return (value === -1 || value === 3) && node.inputs.length >= 2;
  }
  if (node.opType === 'MatMul') {
    const b = constantOf(node.inputs[1]);
    return b !== undefined && b.kind === 'float' && b.dims.length === 2;
  }
  return false;
}

/** Whether the constant in `slot` of a member has the form its NCHW twin needs. */
function acceptsConstant(node: OnnxNode, slot: number, c: ConstTensor | undefined): boolean {
  if (!c) return false;
  if (node.opType === 'MatMul') return slot === 1;
  if (node.opType === 'LayerNormalization') return slot >= 1 && c.kind === 'float' && c.dims.length === 1;
  return lastAxisLength(c) !== undefined;
}
