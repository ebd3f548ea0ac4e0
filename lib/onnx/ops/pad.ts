/**
 * Pad (constant, reflect, edge). Pads before opset 11 are attributes, from 11 on inputs, with
 * optional axes from 18. A zero constant Pad in front of a Conv is folded into the conv's own
 * padding by the fusion pass (see padsForConv), and one in front of a pool into the pool's where
 * that gives identical results (lib/onnx/fusion/pad-pool.ts); what remains runs as one gather loop.
 */
import { describeNode, NodeAttributes } from '../attributes.js';
import { constValues, floatConst, type ConstTensor } from '../constant.js';
import type { OnnxNode } from '../decode.js';
import { OnnxError } from '../errors.js';
import { checkTensorElements } from '../limits.js';
import { normalizeAxis, numel, required, runtimeValue, stridesOf } from './shape-utils.js';
import { copyStrided, planCopy, type CopyAxis } from './strided-copy.js';
import { nodeBasics, type BuildContext, type CompiledOp } from './types.js';

type PadMode = 'constant' | 'reflect' | 'edge';

interface PadSpec {
  readonly mode: PadMode;
  readonly value: number;
  /** Per axis [before, after]; resolved against the input rank. */
  padsFor(rank: number): Array<[number, number]>;
}

/** Reads a Pad node's constants; throws when pads or the value are computed at run time. */
function padSpecOf(node: OnnxNode, opset: number, constantOf: (name: string) => ConstTensor | undefined): PadSpec {
  const owner = describeNode(node);
  const attrs = new NodeAttributes(node);
  const mode = attrs.string('mode', 'constant');
  if (mode !== 'constant' && mode !== 'reflect' && mode !== 'edge') {
    throw new OnnxError(`${owner}: mode '${mode}' is not supported (constant, reflect, edge)`);
  }
  const constantInput = (index: number, what: string): number[] | undefined => {
    const name = node.inputs[index];
    if (!name) return undefined;
    const value = constantOf(name);
    if (!value) throw new OnnxError(`${owner}: ${what} must be a constant, '${name}' is computed at run time`);
    return constValues(value);
  };
  const pads = opset < 11 ? [...(attrs.ints('pads') ?? [])] : constantInput(1, 'pads') ?? [];
  const value = opset < 11 ? attrs.float('value', 0) : constantInput(2, 'constant_value')?.[0] ?? 0;
  const axes = opset < 18 ? undefined : constantInput(3, 'axes');
  return {
    mode,
    value,
    padsFor(rank) {
      const listed = axes ?? Array.from({ length: rank }, (_, i) => i);
      if (pads.length !== 2 * listed.length) {
        throw new OnnxError(`${owner}: pads holds ${pads.length} values but ${listed.length} axes need ${2 * listed.length}`);
      }
      const perAxis = Array.from({ length: rank }, (): [number, number] => [0, 0]);
      listed.forEach((axis, i) => {
        perAxis[normalizeAxis(axis, rank, owner, 'axes entry')] = [pads[i], pads[i + listed.length]];
      });
      return perAxis;
    },
  };
}

/** A constant Pad of the H and W axes of an NCHW tensor: its [top, left, bottom, right] and fill value. */
export interface SpatialPad {
  readonly pads: readonly [number, number, number, number];
  readonly value: number;
}

/**
 * What a constant Pad does to a rank-4 NCHW tensor when it only grows H and W, or null when it
 * does anything else (other modes, N or C pads, negative pads, pads computed at run time).
 */
export function spatialPadOf(node: OnnxNode, opset: number, constantOf: (name: string) => ConstTensor | undefined): SpatialPad | null {
  let spec: PadSpec;
  let perAxis: Array<[number, number]>;
  try {
    spec = padSpecOf(node, opset, constantOf);
    perAxis = spec.padsFor(4);
  } catch {
    return null;
  }
  if (spec.mode !== 'constant') return null;
  const [n, c, h, w] = perAxis;
  if (n[0] || n[1] || c[0] || c[1] || [h, w].some(([b, e]) => b < 0 || e < 0)) return null;
  return { pads: [h[0], w[0], h[1], w[1]], value: spec.value };
}

/** The [top, left, bottom, right] of a zero Pad a conv's own zero padding can take over, or null. */
export function padsForConv(node: OnnxNode, opset: number, constantOf: (name: string) => ConstTensor | undefined): [number, number, number, number] | null {
  const pad = spatialPadOf(node, opset, constantOf);
  return pad && pad.value === 0 ? [...pad.pads] : null;
}

/** Source index along one axis for output index i, or -1 for a constant-filled cell. */
function sourceIndex(i: number, before: number, size: number, mode: PadMode): number {
  const j = i - before;
  if (j >= 0 && j < size) return j;
  if (mode === 'constant') return -1;
  if (mode === 'edge') return j < 0 ? 0 : size - 1;
  // reflect: mirror without repeating the edge, as numpy.pad(mode='reflect').
  const period = 2 * (size - 1);
  if (period === 0) return 0;
  const k = ((j % period) + period) % period;
  return k < size ? k : period - k;
}

export function buildPad(ctx: BuildContext): CompiledOp {
  const { node } = ctx;
  const owner = describeNode(node);
  // Pads computed from the input's shape (swin_t pads to a multiple of its window) are known
  // only per plan: then they stay inputs and are read there, still refused if they come from data.
  const perPlan = ctx.opset >= 11 && node.inputs.slice(1).some((name) => name !== '' && !ctx.constantOf(name));
  const loadSpec = perPlan ? undefined : padSpecOf(node, ctx.opset, (name) => ctx.constantOf(name));
  return {
    ...nodeBasics(node, perPlan ? node.inputs.length : 1, 1),
    plan(inputs) {
      const x = required(inputs, 0, owner, 'data');
      const spec = loadSpec ?? padSpecOf(node, ctx.opset, (name) => inputs[node.inputs.indexOf(name)]?.constant);
      const perAxis = spec.padsFor(x.shape.length);
      const shape = x.shape.map((d, k) => d + perAxis[k][0] + perAxis[k][1]);
      if (shape.some((d) => d < 0)) throw new OnnxError(`${owner}: negative pads remove more than [${x.shape.join(', ')}] holds`);
      if (spec.mode === 'reflect' && x.shape.some((d, k) => perAxis[k].some((p) => p >= d))) {
        throw new OnnxError(`${owner}: reflect pads must be smaller than the padded axis, input [${x.shape.join(', ')}]`);
      }
      checkTensorElements(shape, owner, 'output', ctx.limits);
      const fill = spec.value;
      const run = padCopy(x.shape, shape, perAxis, spec.mode, fill);
      if (x.constant) {
        const out = new Float32Array(numel(shape));
        run(x.constant.data, out);
        return { outputs: [{ shape, constant: floatConst(shape, out), field: null }], multiplyAdds: 0 };
      }
      return {
        outputs: [runtimeValue(shape, x.field)],
        multiplyAdds: 0,
        execution: { runSync: (ins, outs) => run(ins[0], outs[0]) },
      };
    },
  };
}

/**
 * The padded copy as a strided copy planned in O(rank) memory. Constant mode fills the output
 * and copies the (possibly cropped, for negative pads) input box into its place; edge and
 * reflect read each output index's source index from a table per axis (as long as that axis).
 */
function padCopy(
  inShape: readonly number[], outShape: readonly number[], perAxis: ReadonlyArray<readonly [number, number]>, mode: PadMode, fill: number,
): (source: ArrayLike<number>, out: Float32Array) => void {
  const srcStrides = stridesOf(inShape);
  if (mode === 'constant') {
    const outStrides = stridesOf(outShape);
    let base = 0;
    let dstBase = 0;
    const axes: CopyAxis[] = inShape.map((size, k) => {
      const [before, after] = perAxis[k];
      base += Math.max(0, -before) * srcStrides[k];
      dstBase += Math.max(0, before) * outStrides[k];
      return { extent: Math.max(0, size + Math.min(0, before) + Math.min(0, after)), stride: srcStrides[k], dstStride: outStrides[k] };
    });
    const plan = planCopy(axes, base, dstBase);
    return (source, out) => {
      out.fill(fill);
      copyStrided(source, plan, out);
    };
  }
  const plan = planCopy(outShape.map((extent, k) => ({
    extent,
    stride: srcStrides[k],
    table: Int32Array.from({ length: extent }, (_, i) => sourceIndex(i, perAxis[k][0], inShape[k], mode) * srcStrides[k]),
  })));
  return (source, out) => void copyStrided(source, plan, out);
}
