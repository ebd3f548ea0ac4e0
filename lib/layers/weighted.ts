/**
 * What Conv2d and Linear share: a weight and an optional bias that users can replace, and the
 * kernels a backend prepared from them (packed once per backend and fused activation), which
 * are dropped whenever the weights change.
 */
import type { Activation, Backend } from '../backends/backend.js';
import { DisposedError, ParameterError, ShapeError } from '../errors.js';
import { Tensor, formatShape } from '../tensor.js';
import { activationKey } from '../activation.js';
import { uniformInit } from './init.js';
import { Layer } from './layer.js';

export abstract class WeightedLayer<Kernel> extends Layer {
  /** The activation fused into this layer's own kernel. */
  abstract readonly activation: Activation;
  private weightTensor!: Tensor;
  private biasTensor: Tensor | null = null;
  private kernels = new Map<string, Kernel>();
  private disposed = false;

  /** Sets the initial (random) weight and bias; called once by the subclass constructor. */
  protected initParameters(weightShape: readonly number[], biasSize: number | null, fanIn: number): void {
    this.weightTensor = uniformInit(weightShape, fanIn);
    this.biasTensor = biasSize === null ? null : uniformInit([biasSize], fanIn);
  }

  /** The weight tensor. Writing into weight.data after a forward needs reloadWeights(). */
  get weight(): Tensor {
    return this.weightTensor;
  }

  set weight(value: Tensor) {
    this.weightTensor = checkParamTensor(value, this.weightTensor.shape, `${this.label}: weight`);
    this.reloadWeights();
  }

  /** One bias per output channel / feature, or null. */
  get bias(): Tensor | null {
    return this.biasTensor;
  }

  set bias(value: Tensor | null) {
    this.biasTensor = value === null ? null : checkParamTensor(value, [this.weightTensor.shape[0]], `${this.label}: bias`);
    this.reloadWeights();
  }

  /** Forgets packed weights, so the next forward packs weight/bias again (after editing them in place). */
  reloadWeights(): void {
    this.releaseKernels();
  }

  /**
   * Releases the packed weights of every backend now (native memory is freed at once, not at
   * GC; runs already started finish first). Any later forward is a DisposedError.
   */
  override dispose(): void {
    this.disposed = true;
    this.releaseKernels();
  }

  private releaseKernels(): void {
    // Replaced weights are not used again: their native memory goes now, as on dispose.
    for (const kernel of this.kernels.values()) (kernel as { dispose?: () => void }).dispose?.();
    this.kernels.clear();
  }

  override get params(): number {
    return this.weightTensor.size + (this.biasTensor ? this.biasTensor.size : 0);
  }

  private prepareTyped(backend: Backend, activation: Activation): Kernel {
    // A weight or bias whose ArrayBuffer was transferred away holds 0 values; the native addon
    // would take such a bias for none at all. Refused here, alike on every backend.
    for (const [name, tensor] of [['weight', this.weightTensor], ['bias', this.biasTensor]] as const) {
      const needed = tensor ? tensor.shape.reduce((a, b) => a * b, 1) : 0;
      if (tensor && tensor.data.length !== needed) {
        throw new ShapeError(
          `${this.label}: ${name} holds ${tensor.data.length} values but its shape ${formatShape(tensor.shape)} needs ${needed}` +
            (tensor.data.buffer.byteLength === 0 ? ' (its ArrayBuffer is detached: transferred to another thread?)' : ''),
        );
      }
    }
    try {
      return this.prepare(backend, activation);
    } catch (error) {
      throw typedPrepareError(error, this.label);
    }
  }

  /** Packs this layer's weights for a backend, with an activation fused into the epilogue. */
  protected abstract prepare(backend: Backend, activation: Activation): Kernel;

  /** The prepared kernel for a backend and activation, packed on first use. */
  /** Every forward starts here: a disposed layer refuses it, whatever the batch. */
  protected override checkInput(x: Tensor): void {
    this.checkNotDisposed();
    super.checkInput(x);
  }

  private checkNotDisposed(): void {
    if (this.disposed) throw new DisposedError(`${this.label}: the layer was disposed; its packed weights are released`);
  }

  protected kernelFor(backend: Backend, activation: Activation): Kernel {
    this.checkNotDisposed();
    const key = `${backend.name}/${activationKey(activation)}`;
    let kernel = this.kernels.get(key);
    if (!kernel) {
      kernel = this.prepareTyped(backend, activation);
      this.kernels.set(key, kernel);
    }
    return kernel;
  }
}

/**
 * The native backend's own argument checks throw a plain TypeError / RangeError (a weight whose
 * ArrayBuffer was transferred away has 0 elements): the layer's callers get a typed error
 * naming the layer instead.
 */
function typedPrepareError(error: unknown, label: string): unknown {
  if (error instanceof RangeError) return new ShapeError(`${label}: ${error.message}`);
  if (error instanceof TypeError) return new ParameterError(`${label}: ${error.message}`);
  return error;
}

function checkParamTensor(value: Tensor, shape: readonly number[], what: string): Tensor {
  if (!(value instanceof Tensor)) {
    throw new ParameterError(`${what} must be a Tensor, got ${value === null ? 'null' : typeof value}`);
  }
  if (formatShape(value.shape) !== formatShape(shape)) {
    throw new ShapeError(`${what} must have shape ${formatShape(shape)}, got ${formatShape(value.shape)}`);
  }
  return value;
}
