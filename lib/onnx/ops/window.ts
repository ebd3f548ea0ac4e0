/**
 * ONNX window attributes (kernel_shape, strides, dilations, pads, auto_pad, ceil_mode) to the
 * shared planner's WindowSpec. ONNX pads are [x1_begin, x2_begin, x1_end, x2_end], which for
 * 2-D windows is [top, left, bottom, right]: exactly the planner's four-side form.
 */
import type { PaddingSpec, Pair, WindowSpec } from '../../planner/geometry.js';
import { describeNode, NodeAttributes } from '../attributes.js';
import type { OnnxNode } from '../decode.js';
import { OnnxError } from '../errors.js';

/** Window sizes the native kernels index with 32-bit arithmetic: refused at load, naming the node. */
const WINDOW_LIMIT = 2 ** 31;

function pairAttribute(node: OnnxNode, attrs: NodeAttributes, name: string, fallback: number): Pair {
  const values = attrs.ints(name);
  if (values === undefined) return [fallback, fallback];
  if (values.length !== 2 || values.some((v) => !Number.isInteger(v) || v < 1 || v >= WINDOW_LIMIT)) {
    throw new OnnxError(`${describeNode(node)}: ${name} must be two positive integers below 2^31 for a 2-D window, got [${values.join(', ')}]`);
  }
  return [values[0], values[1]];
}

export function paddingOf(node: OnnxNode, attrs: NodeAttributes): PaddingSpec {
  const autoPad = attrs.string('auto_pad', 'NOTSET');
  switch (autoPad) {
    case 'SAME_UPPER':
      return 'same';
    case 'SAME_LOWER':
      return 'same_lower';
    case 'VALID':
      return 'valid';
    case 'NOTSET':
    case '': {
      const pads = attrs.ints('pads') ?? [0, 0, 0, 0];
      if (pads.length !== 4 || pads.some((p) => !Number.isInteger(p) || p < 0 || p >= WINDOW_LIMIT)) {
        throw new OnnxError(`${describeNode(node)}: pads must be four non-negative integers below 2^31 [top, left, bottom, right], got [${pads.join(', ')}]`);
      }
      return [pads[0], pads[1], pads[2], pads[3]];
    }
    default:
      throw new OnnxError(`${describeNode(node)}: auto_pad must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, got '${autoPad}'`);
  }
}

/** A node's 2-D window; `kernel` comes from the weights (Conv) or kernel_shape (pools). */
export function windowSpecOf(node: OnnxNode, kernel: Pair, options: { ceilMode?: boolean } = {}): WindowSpec {
  const attrs = new NodeAttributes(node);
  return {
    kernel,
    stride: pairAttribute(node, attrs, 'strides', 1),
    dilation: pairAttribute(node, attrs, 'dilations', 1),
    padding: paddingOf(node, attrs),
    ceilMode: options.ceilMode,
  };
}

export function kernelShapeOf(node: OnnxNode): Pair {
  const attrs = new NodeAttributes(node);
  const values = attrs.ints('kernel_shape');
  if (!values) throw new OnnxError(`${describeNode(node)}: attribute 'kernel_shape' is required`);
  if (values.length !== 2 || values.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new OnnxError(`${describeNode(node)}: only 2-D windows are supported; kernel_shape is [${values.join(', ')}]`);
  }
  return [values[0], values[1]];
}

/** Adds a folded Pad's sides to explicit window pads (the fusion pass only folds into explicit ones). */
export function withExtraPads(padding: PaddingSpec, extra: readonly [number, number, number, number] | undefined): PaddingSpec {
  if (!extra) return padding;
  const base = padding === 'valid' ? [0, 0, 0, 0] : (padding as readonly number[]);
  return [base[0] + extra[0], base[1] + extra[1], base[2] + extra[2], base[3] + extra[3]];
}
