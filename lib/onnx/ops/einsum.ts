/**
 * Einsum (opset 12) for one or two operands: 'bij,bjk->bik' (a batched matmul),
 * 'bhqd,bhkd->bhqk' (attention scores against K un-transposed), 'ij->ji', '...ij,...jk->...ik'.
 * Every letter of the output indexes the result; every other letter is summed over (a
 * contraction). The loop is the definition itself: for each output index, the sum over the
 * contracted letters of the product of the operands. Plain and correct rather than fast;
 * exporters emit Einsum rarely in vision models.
 */
import { ShapeError } from '../../errors.js';
import { describeNode, NodeAttributes } from '../attributes.js';
import { floatConst } from '../constant.js';
import { OnnxError } from '../errors.js';
import { numel, required, runtimeValue, stridesOf } from './shape-utils.js';
import { nodeBasics, type BuildContext, type CompiledOp, type PlanValue } from './types.js';

interface Equation {
  /** Each operand's term, with '...' kept as one token. */
  readonly operands: readonly string[];
  /** The output term, or undefined for the implicit form (letters used once, sorted). */
  readonly output: string | undefined;
}

function parseEquation(text: string, operandCount: number, owner: string): Equation {
  const compact = text.replace(/\s+/g, '');
  const [lhs, output, extra] = compact.split('->');
  const operands = lhs.split(',');
  const valid = /^([a-zA-Z]|\.\.\.)*$/;
  if (extra !== undefined || operands.length !== operandCount || ![...operands, output ?? ''].every((t) => valid.test(t))) {
    throw new OnnxError(`${owner}: equation '${text}' must be 'terms->output' with one letter term per input (${operandCount}), letters and '...' only`);
  }
  if ([...operands, output ?? ''].some((t) => t.split('...').length > 2)) {
    throw new OnnxError(`${owner}: equation '${text}' uses '...' more than once in a term`);
  }
  return { operands, output };
}

/** Letters standing for the '...' axes (upper-case ones the equation does not use), rightmost last. */
function ellipsisLetters(equation: string, count: number): string[] {
  const free = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'].filter((c) => !equation.includes(c));
  return free.slice(0, count);
}

interface Contraction {
  readonly outShape: number[];
  readonly outLetters: string[];
  readonly sumLetters: string[];
  readonly sizes: Map<string, number>;
  /** Per operand, per letter, its stride (0 for a letter the operand lacks or broadcasts). */
  readonly strides: Array<Map<string, number>>;
}

function planContraction(equation: Equation, shapes: ReadonlyArray<readonly number[]>, owner: string, text: string): Contraction {
  const explicitCounts = equation.operands.map((t) => t.replace('...', '').length);
  const ellipsisRank = Math.max(0, ...equation.operands.map((t, i) => (t.includes('...') ? shapes[i].length - explicitCounts[i] : 0)));
  const wild = ellipsisLetters(text, ellipsisRank);
  const expanded = equation.operands.map((t, i) => {
    const own = t.includes('...') ? shapes[i].length - explicitCounts[i] : 0;
    if (own < 0 || (!t.includes('...') && explicitCounts[i] !== shapes[i].length)) {
      throw new ShapeError(`${owner}: term '${t}' does not match input ${i} of rank ${shapes[i].length}`);
    }
    return [...t.replace('...', wild.slice(wild.length - own).join(''))];
  });
  const sizes = new Map<string, number>();
  expanded.forEach((letters, i) => letters.forEach((letter, axis) => {
    const d = shapes[i][axis];
    const seen = sizes.get(letter);
    if (seen === undefined || seen === 1) sizes.set(letter, d);
    else if (d !== seen && d !== 1) throw new ShapeError(`${owner}: letter '${letter}' is ${seen} in one place and ${d} in another`);
  }));
  let outLetters: string[];
  if (equation.output !== undefined) {
    outLetters = [...equation.output.replace('...', wild.join(''))];
    for (const letter of outLetters) if (!sizes.has(letter)) throw new OnnxError(`${owner}: output letter '${letter}' appears in no input`);
    if (new Set(outLetters).size !== outLetters.length) throw new OnnxError(`${owner}: output '${equation.output}' repeats a letter`);
  } else {
    const counts = new Map<string, number>();
    expanded.flat().forEach((l) => counts.set(l, (counts.get(l) ?? 0) + 1));
    outLetters = [...wild, ...[...counts].filter(([l, n]) => n === 1 && !wild.includes(l)).map(([l]) => l).sort()];
  }
  const sumLetters = [...sizes.keys()].filter((l) => !outLetters.includes(l));
  const strides = expanded.map((letters, i) => {
    const own = stridesOf(shapes[i]);
    const map = new Map<string, number>();
    // A letter repeated in one term (a diagonal, 'ii->i') adds its strides.
    letters.forEach((l, axis) => map.set(l, (map.get(l) ?? 0) + (shapes[i][axis] === 1 ? 0 : own[axis])));
    return map;
  });
  return { outShape: outLetters.map((l) => sizes.get(l)!), outLetters, sumLetters, sizes, strides };
}

function contract(c: Contraction, inputs: ReadonlyArray<ArrayLike<number>>, out: Float32Array): void {
  const outStride = c.outLetters.map((l) => c.strides.map((s) => s.get(l) ?? 0));
  const sumStride = c.sumLetters.map((l) => c.strides.map((s) => s.get(l) ?? 0));
  const sumSizes = c.sumLetters.map((l) => c.sizes.get(l)!);
  const sumTotal = numel(sumSizes);
  // Offsets of each operand for every point of the contracted space, computed once.
  const sumOffsets = inputs.map(() => new Int32Array(sumTotal));
  for (let s = 0; s < sumTotal; s++) {
    let rest = s;
    for (let k = sumSizes.length - 1; k >= 0; k--) {
      const coordinate = rest % sumSizes[k];
      rest = Math.floor(rest / sumSizes[k]);
      inputs.forEach((_, i) => { sumOffsets[i][s] += coordinate * sumStride[k][i]; });
    }
  }
  const base = new Array<number>(inputs.length);
  for (let o = 0; o < out.length; o++) {
    let rest = o;
    base.fill(0);
    for (let k = c.outShape.length - 1; k >= 0; k--) {
      const coordinate = rest % c.outShape[k];
      rest = Math.floor(rest / c.outShape[k]);
      for (let i = 0; i < inputs.length; i++) base[i] += coordinate * outStride[k][i];
    }
    let sum = 0;
    if (inputs.length === 1) {
      const a = inputs[0];
      const offA = sumOffsets[0];
      for (let s = 0; s < sumTotal; s++) sum += a[base[0] + offA[s]];
    } else {
      const [a, b] = inputs;
      const [offA, offB] = sumOffsets;
      for (let s = 0; s < sumTotal; s++) sum += a[base[0] + offA[s]] * b[base[1] + offB[s]];
    }
    out[o] = sum;
  }
}

export function buildEinsum(ctx: BuildContext): CompiledOp {
  const { node } = ctx;
  const owner = describeNode(node);
  const text = new NodeAttributes(node).string('equation', '');
  if (text === '') throw new OnnxError(`${owner}: attribute 'equation' is required`);
  if (node.inputs.length < 1 || node.inputs.length > 2) {
    throw new OnnxError(`${owner}: ${node.inputs.length} operands; convnode runs Einsum with one or two`);
  }
  const equation = parseEquation(text, node.inputs.length, owner);
  return {
    ...nodeBasics(node, node.inputs.length, 1),
    plan(inputs) {
      const values: PlanValue[] = node.inputs.map((_, i) => required(inputs, i, owner, `input ${i}`));
      const c = planContraction(equation, values.map((v) => v.shape), owner, text);
      const multiplyAdds = numel(c.outShape) * numel(c.sumLetters.map((l) => c.sizes.get(l)!));
      if (values.every((v) => v.constant)) {
        const out = new Float32Array(numel(c.outShape));
        contract(c, values.map((v) => v.constant!.data), out);
        return { outputs: [{ shape: c.outShape, constant: floatConst(c.outShape, out), field: null }], multiplyAdds: 0 };
      }
      return {
        outputs: [runtimeValue(c.outShape, null)],
        multiplyAdds,
        execution: { runSync: (ins, outs) => contract(c, ins, outs[0]) },
      };
    },
  };
}
