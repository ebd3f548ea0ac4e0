/** Flatten and the fully connected layer (a GEMM: y = x W^T + b). */
import { activeBackend } from '../backends/index.js';
import type { Activation, ActivationKind, Backend, LinearKernel } from '../backends/backend.js';
import { ParameterError, ShapeError } from '../errors.js';
import { Tensor, formatShape } from '../tensor.js';
import { toActivation } from '../activation.js';
import { Layer, type FieldState, positiveInt, layerLabel } from './layer.js';
import { checkOptionNames, optionalBoolean } from '../options.js';
import { WeightedLayer } from './weighted.js';

/** Collapses every dimension from startDim on into one: N x C x H x W -> N x (C*H*W). A view, no copy. */
export class Flatten extends Layer {
  readonly type = 'Flatten';
  readonly startDim: number;

  constructor(options: { startDim?: number; name?: string } = {}) {
    super(options.name);
    checkOptionNames(options, ['startDim', 'name'], 'Flatten', this.label);
    this.startDim = options.startDim ?? 1;
    if (!Number.isInteger(this.startDim) || this.startDim < 0) {
      throw new ParameterError(`Flatten: startDim must be a non-negative integer, got ${String(options.startDim)}`);
    }
  }

  outputShape(inputShape: readonly number[]): number[] {
    if (inputShape.length <= this.startDim) {
      throw new ShapeError(`${this.label}: startDim ${this.startDim} needs an input of rank > ${this.startDim}, got ${formatShape(inputShape)}`);
    }
    const kept = inputShape.slice(0, this.startDim);
    return [...kept, inputShape.slice(this.startDim).reduce((a, b) => a * b, 1)];
  }

  override nextField(): FieldState | null {
    return null;
  }

  forwardSync(x: Tensor): Tensor {
    this.checkInput(x);
    return x.reshape(this.outputShape(x.shape));
  }

  async forward(x: Tensor): Promise<Tensor> {
    return this.forwardSync(x);
  }
}

export interface LinearOptions {
  inFeatures: number;
  outFeatures: number;
  /** Add a learned bias (default true). */
  bias?: boolean;
  /** Activation fused into the GEMM epilogue (default 'none'). */
  activation?: ActivationKind | Activation;
  name?: string;
}

const LINEAR_OPTIONS = ['inFeatures', 'outFeatures', 'bias', 'activation', 'name'] as const satisfies ReadonlyArray<keyof LinearOptions>;

/** Fully connected: every output is a weighted sum of every input. Weight is [outFeatures, inFeatures]. */
export class Linear extends WeightedLayer<LinearKernel> {
  readonly type = 'Linear';
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly activation: Activation;

  constructor(options: LinearOptions) {
    super(options?.name);
    const owner = layerLabel('Linear', options?.name);
    if (options === null || typeof options !== 'object') throw new ParameterError(`${owner}: options must be an object`);
    checkOptionNames(options, LINEAR_OPTIONS, 'Linear', owner);
    this.inFeatures = positiveInt(options.inFeatures, 'inFeatures', owner);
    this.outFeatures = positiveInt(options.outFeatures, 'outFeatures', owner);
    this.activation = toActivation(options.activation, owner);
    const bias = optionalBoolean(options.bias, true, 'bias', owner);
    this.initParameters([this.outFeatures, this.inFeatures], bias ? this.outFeatures : null, this.inFeatures);
  }

  private batchOf(inputShape: readonly number[]): number {
    if (inputShape.length !== 2 || inputShape[1] !== this.inFeatures) {
      const hint = inputShape.length > 2 ? ' (add a Flatten before it)' : '';
      throw new ShapeError(
        `${this.label}: expected input of shape N x ${this.inFeatures}, got [${inputShape.join(', ')}]${hint}`,
      );
    }
    return inputShape[0];
  }

  outputShape(inputShape: readonly number[]): number[] {
    return [this.batchOf(inputShape), this.outFeatures];
  }

  override multiplyAdds(inputShape: readonly number[]): number {
    return this.batchOf(inputShape) * this.inFeatures * this.outFeatures;
  }

  override nextField(): FieldState | null {
    return null;
  }

  forwardSync(x: Tensor): Tensor {
    return this.forwardFusedSync(x, this.activation);
  }

  forward(x: Tensor): Promise<Tensor> {
    return this.forwardFused(x, this.activation);
  }

  forwardFusedSync(x: Tensor, activation: Activation): Tensor {
    this.checkInput(x);
    const batch = this.batchOf(x.shape);
    const out = new Tensor([batch, this.outFeatures]);
    // An empty batch has nothing to compute, and the native addon refuses a batch of 0.
    if (batch > 0) this.kernelFor(activeBackend(), activation).runSync(x.data, batch, out.data);
    return out;
  }

  async forwardFused(x: Tensor, activation: Activation): Promise<Tensor> {
    this.checkInput(x);
    const batch = this.batchOf(x.shape);
    const out = new Tensor([batch, this.outFeatures]);
    if (batch > 0) await this.kernelFor(activeBackend(), activation).run(x.data, batch, out.data);
    return out;
  }

  protected prepare(backend: Backend, activation: Activation): LinearKernel {
    return backend.prepareLinear({
      inFeatures: this.inFeatures,
      outFeatures: this.outFeatures,
      weight: this.weight.data,
      bias: this.bias?.data ?? null,
      activation,
    });
  }
}
