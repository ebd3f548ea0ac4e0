/**
 * Einsum (opset 12) for one or two operands: 'bij,bjk->bik' (a batched matmul),
 * 'bhqd,bhkd->bhqk' (attention scores against K un-transposed), 'ij->ji', '...ij,...jk->...ik'.
 * Every letter of the output indexes the result; every other letter is summed over (a
 * contraction).
 *
 * Two-operand equations that are a batched matmul run on the backend's packed GEMM
 * (backend.matMul): the letters fall into batch (in A, B and the output, leading, in one order),
 * m (A and output), n (B and output) and k (A and B, summed), each group contiguous and in one
 * order wherever it appears. An operand whose k group comes first ('bji' for A, 'bnk' for B)
 * has its last two axis groups swapped into a copy first; an output of [batch, n, m] swaps the
 * operands (C^T = B^T A^T). Everything else, and all-constant operands, runs the definition
 * itself as a loop: for each output index, the sum over the contracted letters of the product of
 * the operands.
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
  /** Each operand's letters, '...' spelled out. */
  readonly operandLetters: string[][];
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
  return { outShape: outLetters.map((l) => sizes.get(l)!), outLetters, sumLetters, sizes, strides, operandLetters: expanded };
}

/**
 * A two-operand contraction as a batched matmul: the operands' shapes as the backend's matMul
 * takes them ([...batch, rows, inner] and [...batch, inner, cols]), whether each must have its
 * last two axis groups swapped into a copy first, and whether the operands trade places (the
 * output is [batch, n, m]). Null when the equation is not one.
 */
interface MatMulForm {
  readonly swapOperands: boolean;
  /** Per matMul operand (after any swap): its source input, and its view before the swap. */
  readonly operands: ReadonlyArray<{ readonly input: number; readonly transpose: boolean; readonly outer: number; readonly rows: number; readonly cols: number; readonly shape: number[] }>;
}

function matMulForm(c: Contraction, shapes: ReadonlyArray<readonly number[]>): MatMulForm | null {
  if (c.operandLetters.length !== 2) return null;
  const [a, b] = c.operandLetters;
  const out = c.outLetters;
  const all = [a, b, out];
  if (all.some((t) => new Set(t).size !== t.length)) return null;  // a diagonal ('ii')
  const inA = (l: string) => a.includes(l);
  const inB = (l: string) => b.includes(l);
  const inOut = (l: string) => out.includes(l);
  const batch = out.filter((l) => inA(l) && inB(l));
  const m = out.filter((l) => inA(l) && !inB(l));
  const n = out.filter((l) => inB(l) && !inA(l));
  const k = a.filter((l) => inB(l) && !inOut(l));
  // Every letter in one group: none summed from one operand alone, none of A's missing elsewhere.
  if (a.length !== batch.length + m.length + k.length || b.length !== batch.length + n.length + k.length) return null;
  const same = (x: readonly string[], y: readonly string[]) => x.length === y.length && x.every((l, i) => l === y[i]);
  const starts = (t: readonly string[], prefix: readonly string[]) => same(t.slice(0, prefix.length), prefix);
  if (!starts(a, batch) || !starts(b, batch) || !starts(out, batch)) return null;
  const size = (letters: readonly string[]) => letters.reduce((p, l) => p * c.sizes.get(l)!, 1);
  // Broadcast batch letters are the matMul's to handle; within m, n and k no operand may broadcast.
  const matching = (t: readonly string[], i: number) => t.every((l, axis) => axis < batch.length || shapes[i][axis] === c.sizes.get(l));
  if (!matching(a, 0) || !matching(b, 1)) return null;
  // An operand's tail: [first group, second group]; transpose when it is [second, first].
  const tail = (t: readonly string[], first: readonly string[], second: readonly string[]): boolean | null => {
    const rest = t.slice(batch.length);
    if (same(rest, [...first, ...second])) return false;
    if (same(rest, [...second, ...first])) return true;
    return null;
  };
  let swapOperands: boolean;
  const outRest = out.slice(batch.length);
  if (same(outRest, [...m, ...n])) swapOperands = false;
  else if (same(outRest, [...n, ...m])) swapOperands = true;
  else return null;
  const aTranspose = tail(a, m, k);
  const bTranspose = tail(b, k, n);
  if (aTranspose === null || bTranspose === null) return null;
  const view = (input: number, transpose: boolean, rows: number, cols: number) => {
    const batchShape = shapes[input].slice(0, batch.length);
    return { input, transpose, outer: numel(batchShape), rows, cols, shape: [...batchShape, transpose ? cols : rows, transpose ? rows : cols] };
  };
  // Stored views: A is [batch, m, k] (or [batch, k, m] to transpose), B [batch, k, n] (or [batch, n, k]).
  // Swapped, the matMul's first operand is B^T ([batch, n, k]) and its second A^T ([batch, k, m]).
  const aView = view(0, aTranspose, size(m), size(k));
  const bView = view(1, bTranspose, size(k), size(n));
  if (!swapOperands) return { swapOperands, operands: [aView, bView] };
  return {
    swapOperands,
    operands: [
      { ...view(1, !bTranspose, size(n), size(k)) },
      { ...view(0, !aTranspose, size(k), size(m)) },
    ],
  };
}

/**
 * dst[t] = src[t]^T for each of `outer` [rows, cols] matrices of src: src holds them as stored
 * ([cols, rows] each when transposing), dst as the matMul reads them.
 */
function transposeEach(src: Float32Array, outer: number, storedRows: number, storedCols: number): Float32Array {
  const dst = new Float32Array(outer * storedRows * storedCols);
  for (let t = 0; t < outer; t++) {
    const at = t * storedRows * storedCols;
    for (let r = 0; r < storedRows; r++) {
      for (let col = 0; col < storedCols; col++) dst[at + col * storedRows + r] = src[at + r * storedCols + col];
    }
  }
  return dst;
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
      const form = matMulForm(c, values.map((v) => v.shape));
      if (form) {
        const { backend } = ctx;
        // The matMul's operands: each input as stored, or its last two groups swapped into a copy.
        const operandsOf = (ins: readonly Float32Array[]) => form.operands.map((o) => {
          const data = ins[o.input];
          if (!o.transpose) return { data, shape: o.shape };
          const stored = [...o.shape.slice(0, -2), o.cols, o.rows];
          return { data: transposeEach(data, o.outer, stored[stored.length - 2], stored[stored.length - 1]), shape: o.shape.slice(0, -2).concat(o.rows, o.cols) };
        });
        return {
          outputs: [runtimeValue(c.outShape, null)],
          multiplyAdds,
          execution: {
            runSync: (ins, outs) => {
              const [x, y] = operandsOf(ins);
              backend.matMulSync(x.data, x.shape, y.data, y.shape, outs[0]);
            },
            run: (ins, outs) => {
              const [x, y] = operandsOf(ins);
              return backend.matMul(x.data, x.shape, y.data, y.shape, outs[0]);
            },
          },
        };
      }
      return {
        outputs: [runtimeValue(c.outShape, null)],
        multiplyAdds,
        execution: { runSync: (ins, outs) => contract(c, ins, outs[0]) },
      };
    },
  };
}
