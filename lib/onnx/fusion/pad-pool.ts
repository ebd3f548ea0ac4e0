/**
 * A constant Pad in front of a MaxPool or AveragePool becomes the pool's own padding, but only
 * in the forms that give bit-identical results (the pool kernels skip padded cells: a max is
 * over real cells only, an average divides by the cells inside input + pads when
 * count_include_pad is 1):
 *  - AveragePool after a 0 Pad, when the pool has no pads of its own or counts them
 *    (count_include_pad 1): the Pad's zeros are summed as zeros either way and counted in the
 *    divisor either way, so the fused pool counts padding (count_include_pad 1). This is how
 *    PyTorch exports AvgPool2d(padding=p) with count_include_pad=True (Inception's branch pools).
 *  - MaxPool after a -inf Pad: a -inf cell never wins a max unless the whole window is -inf.
 *  - MaxPool after a 0 Pad when the input cannot be negative (it comes from a Relu, a Clip with
 *    min >= 0, a Sigmoid, a HardSigmoid, a Softplus): then max(window, 0) = max(window).
 * Either way every fused window must still overlap real input (an all-padding window would be
 * -inf or 0 unfused but is refused by the kernels), so the pool must be undilated, with
 * explicit pads, and each side's total padding smaller than the kernel: then no window can lie
 * wholly in padding (with ceil_mode, the last window starts inside the input or its leading
 * padding, as in PyTorch, so it holds a real cell too).
 */
import { NodeAttributes } from '../attributes.js';
import type { OnnxNode } from '../decode.js';
import { activationOf } from '../ops/elementwise.js';
import { spatialPadOf } from '../ops/pad.js';
import type { GraphView } from './graph-view.js';

/** What a fused pool takes over from the Pad in front of it. */
export interface PoolPadFusion {
  readonly node: OnnxNode;
  readonly pads: readonly [number, number, number, number];
}

/** Activations whose output is never negative (NaN aside, which passes any max unchanged). */
const NON_NEGATIVE = new Set(['relu', 'relu6', 'sigmoid', 'hardSigmoid', 'softplus']);

/** The pool that takes over the Pad at `padIndex`: its index and what it absorbs, or undefined. */
export function padIntoPool(view: GraphView, padIndex: number): { poolIndex: number; pad: PoolPadFusion } | undefined {
  const padNode = view.nodes[padIndex];
  const poolIndex = view.soleReader(padNode.outputs[0], ['MaxPool', 'AveragePool']);
  if (poolIndex === undefined) return undefined;
  const pool = view.nodes[poolIndex];
  const spatial = spatialPadOf(padNode, view.opset, (name) => view.constantOf(name));
  if (!spatial || pool.inputs[0] !== padNode.outputs[0]) return undefined;
  const own = explicitPoolPads(pool);
  if (!own) return undefined;
  const attrs = new NodeAttributes(pool);
  if (pool.opType === 'AveragePool') {
    const countsPads = attrs.int('count_include_pad', 0) === 1;
    if (spatial.value !== 0 || !(countsPads || own.every((p) => p === 0))) return undefined;
  } else if (!(spatial.value === -Infinity || (spatial.value === 0 && nonNegative(view, padNode.inputs[0])))) {
    return undefined;
  }
  const kernel = attrs.ints('kernel_shape');
  const dilations = attrs.ints('dilations');
  if (!kernel || kernel.length !== 2 || (dilations && dilations.some((d) => d !== 1))) return undefined;
  const pads = own.map((p, i) => p + spatial.pads[i]) as [number, number, number, number];
  // [top, left, bottom, right] against kernel [H, W].
  if (pads.some((p, i) => p >= kernel[i % 2])) return undefined;
  return { poolIndex, pad: { node: padNode, pads: spatial.pads } };
}

/** The pool's own [top, left, bottom, right] when they are explicit (not SAME_*), else null. */
function explicitPoolPads(pool: OnnxNode): [number, number, number, number] | null {
  const attrs = new NodeAttributes(pool);
  const autoPad = attrs.string('auto_pad', 'NOTSET');
  if (!['NOTSET', 'VALID', ''].includes(autoPad)) return null;
  const pads = autoPad === 'VALID' ? [0, 0, 0, 0] : attrs.ints('pads') ?? [0, 0, 0, 0];
  return pads.length === 4 ? [pads[0], pads[1], pads[2], pads[3]] : null;
}

function nonNegative(view: GraphView, value: string): boolean {
  const producer = view.producerOf(value);
  let activation;
  try {
    activation = producer && activationOf(producer, view.opset, (name) => view.constantOf(name));
  } catch {
    return false; // a Clip with bounds computed at run time: not provably non-negative
  }
  if (!activation) return false;
  return NON_NEGATIVE.has(activation.kind) || (activation.kind === 'clip' && (activation.min ?? -Infinity) >= 0);
}
