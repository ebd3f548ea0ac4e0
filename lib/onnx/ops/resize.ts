/**
 * Resize (opset 10-19) and Upsample (opset 7-9) over the two spatial axes of NCHW data: the
 * upsampling steps of FPN necks, UNet decoders and segmentation heads.
 *
 * Each output coordinate x is mapped back to the input by the node's
 * coordinate_transformation_mode (with scale = the given scale, or out / in when sizes are given):
 *   half_pixel            (x + 0.5) / scale - 0.5
 *   pytorch_half_pixel    the same, but 0 when the output axis has length 1
 *   align_corners         x * (in - 1) / (out - 1), 0 when out is 1
 *   asymmetric            x / scale
 *   tf_half_pixel_for_nn  (x + 0.5) / scale
 *   half_pixel_symmetric  half_pixel, re-centred so the scaled grid sits in the middle (opset 19)
 * then 'nearest' rounds it (nearest_mode) and 'linear' blends the two neighbours (bilinear).
 * Opset 10 and Upsample map asymmetrically; their nearest takes the floor when upsampling and
 * the ceiling when downsampling (as onnxruntime does). 'cubic', tf_crop_and_resize, antialias
 * and keep_aspect_ratio_policy are refused by name.
 *
 * Planned once per input shape: one source index (nearest) or two indices and a weight
 * (linear) per output row and column, O(outH + outW); a run is one pass over the planes, by the
 * backend's resize kernels (native f32-resize) or the pure-JS loop of lib/kernels/resize.ts.
 */
import { constValues, floatConst } from '../constant.js';
import { describeNode, NodeAttributes } from '../attributes.js';
import { OnnxError } from '../errors.js';
import { numel, required, runtimeValue } from './shape-utils.js';
import { resizedReceptiveField } from '../../planner/geometry.js';
import { nodeBasics, type BuildContext, type CompiledOp, type Execution, type PlanValue } from './types.js';
import { resizePlanes, type ResizeAxisTable, type ResizePlan } from '../../kernels/resize.js';

type CoordinateMode = 'half_pixel' | 'pytorch_half_pixel' | 'align_corners' | 'asymmetric' | 'tf_half_pixel_for_nn' | 'half_pixel_symmetric';
type NearestMode = 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil' | 'floor_up_ceil_down';

const COORDINATE_MODES: readonly string[] = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn', 'half_pixel_symmetric'];
const NEAREST_MODES: readonly string[] = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];

interface ResizeSpec {
  readonly mode: 'nearest' | 'linear';
  readonly coordinates: CoordinateMode;
  readonly nearest: NearestMode;
  /** Input slots of scales and sizes (-1 when the op form has none). */
  readonly scalesInput: number;
  readonly sizesInput: number;
  /** Upsample-7's scales attribute. */
  readonly scalesAttribute?: readonly number[];
}

function specOf(ctx: BuildContext): ResizeSpec {
  const { node, opset } = ctx;
  const owner = describeNode(node);
  const attrs = new NodeAttributes(node);
  const mode = attrs.string('mode', 'nearest');
  if (mode === 'cubic') throw new OnnxError(`${owner}: mode 'cubic' is not supported (nearest and linear are)`);
  if (mode !== 'nearest' && mode !== 'linear' && mode !== 'bilinear') {
    throw new OnnxError(`${owner}: mode must be 'nearest' or 'linear', got '${mode}'`);
  }
  const resizeMode = mode === 'nearest' ? 'nearest' : 'linear';
  if (node.opType === 'Upsample' || opset < 11) {
    // Upsample-7 holds scales in an attribute; Upsample-9 and Resize-10 read them from input 1.
    const fromAttribute = node.opType === 'Upsample' && opset < 9;
    const scalesAttribute = fromAttribute ? attrs.floats('scales') : undefined;
    if (fromAttribute && !scalesAttribute) throw new OnnxError(`${owner}: the scales attribute is required at opset ${opset}`);
    return { mode: resizeMode, coordinates: 'asymmetric', nearest: 'floor_up_ceil_down', scalesInput: fromAttribute ? -1 : 1, sizesInput: -1, scalesAttribute };
  }
  const coordinates = attrs.string('coordinate_transformation_mode', 'half_pixel');
  if (coordinates === 'tf_crop_and_resize') {
    throw new OnnxError(`${owner}: coordinate_transformation_mode 'tf_crop_and_resize' is not supported (it crops by a region of interest)`);
  }
  if (!COORDINATE_MODES.includes(coordinates) || (coordinates === 'half_pixel_symmetric' && opset < 19)) {
    throw new OnnxError(`${owner}: coordinate_transformation_mode '${coordinates}' is not one of ${COORDINATE_MODES.join(', ')} at opset ${opset}`);
  }
  const nearest = attrs.string('nearest_mode', 'round_prefer_floor');
  if (!NEAREST_MODES.includes(nearest)) throw new OnnxError(`${owner}: nearest_mode must be one of ${NEAREST_MODES.join(', ')}, got '${nearest}'`);
  if (attrs.int('antialias', 0) !== 0) throw new OnnxError(`${owner}: antialias is not supported`);
  const policy = attrs.string('keep_aspect_ratio_policy', 'stretch');
  if (policy !== 'stretch') throw new OnnxError(`${owner}: keep_aspect_ratio_policy '${policy}' is not supported (only 'stretch')`);
  if (attrs.has('axes')) throw new OnnxError(`${owner}: the axes attribute is not supported; give scales or sizes for all four axes`);
  return { mode: resizeMode, coordinates: coordinates as CoordinateMode, nearest: nearest as NearestMode, scalesInput: 2, sizesInput: 3 };
}

/** Scales and output shape for one input shape; only H and W may change. */
function outputGeometry(spec: ResizeSpec, inputs: ReadonlyArray<PlanValue | null>, x: PlanValue, owner: string): { shape: number[]; scales: number[] } {
  const readConstant = (index: number, what: string): number[] | undefined => {
    const value = index >= 0 ? inputs[index] : null;
    if (!value) return undefined;
    if (!value.constant) throw new OnnxError(`${owner}: ${what} must be known before the run (an initializer, a Constant or a shape computation)`);
    const values = constValues(value.constant);
    return values.length === 0 ? undefined : values;
  };
  const rank = x.shape.length;
  if (rank !== 4) throw new OnnxError(`${owner}: input of rank ${rank}; Resize runs on NCHW (rank 4) data`);
  const sizes = readConstant(spec.sizesInput, 'sizes');
  const scalesGiven = spec.scalesAttribute ? [...spec.scalesAttribute] : readConstant(spec.scalesInput, 'scales');
  if (sizes && scalesGiven) throw new OnnxError(`${owner}: give scales or sizes, not both`);
  let shape: number[];
  let scales: number[];
  if (sizes) {
    if (sizes.length !== rank || sizes.some((s) => !Number.isInteger(s) || s < 1)) {
      throw new OnnxError(`${owner}: sizes must be ${rank} positive integers, got [${sizes.join(', ')}]`);
    }
    shape = sizes;
    scales = sizes.map((s, k) => s / x.shape[k]);
  } else if (scalesGiven) {
    if (scalesGiven.length !== rank || scalesGiven.some((s) => !(s > 0) || !Number.isFinite(s))) {
      throw new OnnxError(`${owner}: scales must be ${rank} positive finite numbers, got [${scalesGiven.join(', ')}]`);
    }
    scales = scalesGiven;
    shape = x.shape.map((d, k) => Math.floor(d * scalesGiven[k]));
    if (shape.some((d) => d < 1)) throw new OnnxError(`${owner}: scales [${scalesGiven.join(', ')}] shrink [${x.shape.join(', ')}] to nothing`);
  } else {
    throw new OnnxError(`${owner}: needs scales or sizes`);
  }
  if (shape[0] !== x.shape[0] || shape[1] !== x.shape[1]) {
    throw new OnnxError(`${owner}: only H and W may be resized; [${x.shape.join(', ')}] -> [${shape.join(', ')}] changes N or C`);
  }
  return { shape, scales };
}

/**
 * The input coordinate an output coordinate maps back to (before rounding or blending), in
 * float32 steps as onnxruntime and PyTorch compute it: near-ties such as 8.5 / 1.7 - 0.5 round
 * to a different pixel in float64.
 */
function sourceCoordinate(spec: ResizeSpec, x: number, scale: number, inLength: number, outLength: number): number {
  const f = Math.fround;
  const s = f(scale);
  switch (spec.coordinates) {
    case 'half_pixel':
      return f(f(f(x + 0.5) / s) - 0.5);
    case 'pytorch_half_pixel':
      return outLength > 1 ? f(f(f(x + 0.5) / s) - 0.5) : 0;
    case 'align_corners':
      return outLength === 1 ? 0 : f(f(x * (inLength - 1)) / (outLength - 1));
    case 'asymmetric':
      return f(x / s);
    case 'tf_half_pixel_for_nn':
      return f(f(x + 0.5) / s);
    case 'half_pixel_symmetric': {
      const adjustment = f(outLength / f(s * inLength));
      const offset = f(f(inLength / 2) * f(1 - adjustment));
      return f(offset + f(f(f(x + 0.5) / s) - 0.5));
    }
  }
}

function roundNearest(mode: NearestMode, v: number, downsampling: boolean): number {
  switch (mode) {
    case 'round_prefer_floor':
      return v === Math.floor(v) + 0.5 ? Math.floor(v) : Math.round(v);
    case 'round_prefer_ceil':
      return Math.round(v);
    case 'floor':
      return Math.floor(v);
    case 'ceil':
      return Math.ceil(v);
    case 'floor_up_ceil_down':
      return downsampling ? Math.ceil(v) : Math.floor(v);
  }
}

/** Per output index along one axis: nearest source index, or two neighbours and the second's weight. */
function axisTable(spec: ResizeSpec, scale: number, inLength: number, outLength: number): ResizeAxisTable {
  const lo = new Int32Array(outLength);
  const hi = new Int32Array(outLength);
  const weight = new Float32Array(outLength);
  for (let i = 0; i < outLength; i++) {
    const v = sourceCoordinate(spec, i, scale, inLength, outLength);
    if (spec.mode === 'nearest') {
      const j = Math.min(Math.max(roundNearest(spec.nearest, v, scale < 1), 0), inLength - 1);
      lo[i] = hi[i] = j;
      continue;
    }
    const c = Math.min(Math.max(v, 0), inLength - 1);
    const j = Math.floor(c);
    lo[i] = j;
    hi[i] = Math.min(j + 1, inLength - 1);
    weight[i] = c - j;
  }
  return { in: inLength, lo, hi, weight };
}

export function buildResize(ctx: BuildContext): CompiledOp {
  const { node } = ctx;
  const owner = describeNode(node);
  const spec = specOf(ctx);
  return {
    ...nodeBasics(node),
    plan(inputs) {
      const x = required(inputs, 0, owner, 'X');
      const { shape, scales } = outputGeometry(spec, inputs, x, owner);
      const [n, c, inH, inW] = x.shape;
      const [, , outH, outW] = shape;
      const plan: ResizePlan = {
        planes: n * c,
        bilinear: spec.mode === 'linear',
        rows: axisTable(spec, scales[2], inH, outH),
        cols: axisTable(spec, scales[3], inW, outW),
      };
      if (x.constant) {
        const out = new Float32Array(numel(shape));
        resizePlanes(x.constant.data, out, plan);
        return { outputs: [{ shape, constant: floatConst(shape, out), field: null }], multiplyAdds: 0 };
      }
      // The native backend's f32-resize kernels where there are (native/kernels/f32-resize), else
      // the pure-JS loop.
      const { backend } = ctx;
      const { resizeSync, resize } = backend;
      const execution: Execution = resizeSync && resize
        ? {
          runSync: (ins, outs) => resizeSync.call(backend, ins[0], plan, outs[0]),
          run: (ins, outs) => resize.call(backend, ins[0], plan, outs[0]),
          queuesOneCall: true,
        }
        : { runSync: (ins, outs) => resizePlanes(ins[0], outs[0], plan) };
      const field = resizedReceptiveField(x.field, plan.bilinear, [inH, inW], [outH, outW]);
      return { outputs: [runtimeValue(shape, field)], multiplyAdds: 0, execution };
    },
  };
}
