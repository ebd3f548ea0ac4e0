/**
 * The lecture's first three layers on one image: a hand-crafted filter (Conv2d, no bias), ReLU,
 * then max pooling. Uses the real layer classes, so what the pictures show is what the library
 * computes on the active backend.
 */
import { ParameterError } from '../errors.js';
import { checkOptionNames } from '../options.js';
import { Conv2d } from '../layers/conv.js';
import { ReLU } from '../layers/activations.js';
import { MaxPool2d } from '../layers/pool.js';
import { Sequential } from '../layers/sequential.js';
import { expectNCHW, type PaddingSpec } from '../planner/geometry.js';
import { Tensor } from '../tensor.js';
import { resolveFilters, type FilterSpec, type ResolvedFilters } from './filters.js';

export interface ConvReluPoolOptions {
  /** A built-in filter name, a matrix of numbers, or several same-sized matrices (default 'sobel-x'). */
  filter?: FilterSpec;
  /** What captions call a filter given as numbers (default 'custom'). */
  filterLabel?: string;
  /** Convolution stride (default 1). */
  stride?: number;
  /** Convolution zero padding, as Conv2d takes it (default 0). */
  padding?: PaddingSpec;
  /** Max-pool window, also its stride (default 2). 1 leaves the map as it is. */
  pool?: number;
}

/** Every intermediate tensor, the layers that made them, and the three as one model for the planner. */
export interface ConvReluPoolStages {
  readonly filter: ResolvedFilters;
  readonly input: Tensor;
  /** The raw response, negative values included. */
  readonly conv: Tensor;
  readonly relu: Tensor;
  readonly pool: Tensor;
  /** conv, relu and pool as a Sequential (summarize(model, input.shape) gives the planner table). */
  readonly model: Sequential;
  /** The options as applied, for captions. */
  readonly stride: number;
  readonly padding: PaddingSpec;
  readonly poolSize: number;
}

/**
 * Runs image [N, 1, H, W] through Conv2d(filter) -> ReLU -> MaxPool2d, keeping every stage.
 * Bad options and too-small images throw ParameterError/ShapeError naming the option.
 */
export async function convReluPool(image: Tensor, options: ConvReluPoolOptions = {}): Promise<ConvReluPoolStages> {
  if (!(image instanceof Tensor)) {
    throw new ParameterError(`convReluPool: image must be a Tensor, got ${image === null ? 'null' : typeof image}`);
  }
  if (options === null || typeof options !== 'object') {
    throw new ParameterError(`convReluPool: options must be an object, got ${String(options)}`);
  }
  checkOptionNames(options, ['filter', 'filterLabel', 'stride', 'padding', 'pool'] satisfies Array<keyof ConvReluPoolOptions>, 'convReluPool');
  expectNCHW('convReluPool: image', image.shape, 1);
  const resolved = resolveFilters(options.filter ?? 'sobel-x', "convReluPool: option 'filter'");
  if (options.filterLabel !== undefined && typeof options.filterLabel !== 'string') {
    throw new ParameterError(`convReluPool: option 'filterLabel' must be a string, got ${typeof options.filterLabel}`);
  }
  const filter = options.filterLabel && resolved.label === 'custom' ? { ...resolved, label: options.filterLabel } : resolved;
  const pool = options.pool ?? 2;
  if (!Number.isInteger(pool) || pool < 1) {
    throw new ParameterError(`convReluPool: option 'pool' must be a positive integer (1 = no pooling), got ${JSON.stringify(options.pool)}`);
  }

  const stride = options.stride ?? 1;
  if (!Number.isInteger(stride) || stride < 1) {
    throw new ParameterError(`convReluPool: option 'stride' must be a positive integer, got ${JSON.stringify(options.stride)}`);
  }
  const padding = options.padding ?? 0;
  const conv = new Conv2d({
    name: 'conv',
    inChannels: 1,
    outChannels: filter.count,
    kernelSize: [filter.kernelH, filter.kernelW],
    stride,
    padding,
    bias: false,
  });
  conv.weight = new Tensor([filter.count, 1, filter.kernelH, filter.kernelW], filter.weights.slice());
  const relu = new ReLU({ name: 'relu' });
  const maxPool = new MaxPool2d({ name: 'pool', kernelSize: pool });
  const model = new Sequential([conv, relu, maxPool]);
  // Plan first, so a map too small for the pool fails before any work with the planner's message.
  model.outputShape(image.shape);

  // Run each layer on its own (not the fused Sequential) to keep the raw response before ReLU.
  const convOut = await conv.forward(image);
  const reluOut = await relu.forward(convOut);
  const poolOut = await maxPool.forward(reluOut);
  return { filter, input: image, conv: convOut, relu: reluOut, pool: poolOut, model, stride, padding, poolSize: pool };
}
