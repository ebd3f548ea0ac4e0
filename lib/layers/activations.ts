/**
 * Element-wise activations. Inside a Sequential, one that follows a Conv2d or Linear is fused
 * into that layer's kernel epilogue instead of running as a separate pass.
 */
import type { Activation } from '../backends/backend.js';
import { ParameterError } from '../errors.js';
import { applyActivation } from '../activation.js';
import { softmax } from '../kernels/softmax.js';
import { Tensor } from '../tensor.js';
import { Layer } from './layer.js';
import { checkOptionNames } from '../options.js';

export abstract class ActivationLayer extends Layer {
  /** The activation this layer applies, as kernels take it. */
  abstract readonly activation: Activation;

  outputShape(inputShape: readonly number[]): number[] {
    return [...inputShape];
  }

  forwardSync(x: Tensor): Tensor {
    this.checkInput(x);
    const out = new Tensor(x.shape, x.data.slice());
    applyActivation(out.data, this.activation);
    return out;
  }

  // Element-wise work is memory-bound and short: it runs inline on both backends.
  async forward(x: Tensor): Promise<Tensor> {
    return this.forwardSync(x);
  }
}

/** max(0, x) */
export class ReLU extends ActivationLayer {
  readonly type = 'ReLU';
  readonly activation: Activation = { kind: 'relu' };
  constructor(options: { name?: string } = {}) {
    super(options.name);
    checkOptionNames(options, ['name'], 'ReLU', this.label);
  }
}

/** min(max(0, x), 6), as in MobileNetV2. */
export class ReLU6 extends ActivationLayer {
  readonly type = 'ReLU6';
  readonly activation: Activation = { kind: 'relu6' };
  constructor(options: { name?: string } = {}) {
    super(options.name);
    checkOptionNames(options, ['name'], 'ReLU6', this.label);
  }
}

/** x for x >= 0, negativeSlope * x otherwise. */
export class LeakyReLU extends ActivationLayer {
  readonly type = 'LeakyReLU';
  readonly activation: Activation;
  constructor(options: { negativeSlope?: number; name?: string } = {}) {
    super(options.name);
    checkOptionNames(options, ['negativeSlope', 'name'], 'LeakyReLU', this.label);
    const slope = options.negativeSlope ?? 0.01;
    if (!Number.isFinite(slope)) {
      throw new ParameterError(`LeakyReLU: negativeSlope must be a finite number, got ${String(slope)}`);
    }
    this.activation = { kind: 'leakyRelu', alpha: slope };
  }
}

/** 1 / (1 + e^-x) */
export class Sigmoid extends ActivationLayer {
  readonly type = 'Sigmoid';
  readonly activation: Activation = { kind: 'sigmoid' };
  constructor(options: { name?: string } = {}) {
    super(options.name);
    checkOptionNames(options, ['name'], 'Sigmoid', this.label);
  }
}

/** x * ReLU6(x + 3) / 6, as in MobileNetV3. */
export class HardSwish extends ActivationLayer {
  readonly type = 'HardSwish';
  readonly activation: Activation = { kind: 'hardSwish' };
  constructor(options: { name?: string } = {}) {
    super(options.name);
    checkOptionNames(options, ['name'], 'HardSwish', this.label);
  }
}

/**
 * Softmax along `dim` (default 1: the classes of an N x K batch, or the channels of N x C x H x W).
 * Subtracts the maximum first so large logits do not overflow.
 */
export class Softmax extends Layer {
  readonly type = 'Softmax';
  readonly dim: number;

  constructor(options: { dim?: number; name?: string } = {}) {
    super(options.name);
    checkOptionNames(options, ['dim', 'name'], 'Softmax', this.label);
    this.dim = options.dim ?? 1;
    if (!Number.isInteger(this.dim)) {
      throw new ParameterError(`Softmax: dim must be an integer, got ${String(options.dim)}`);
    }
  }

  outputShape(inputShape: readonly number[]): number[] {
    this.axis(inputShape);
    return [...inputShape];
  }

  private axis(shape: readonly number[]): number {
    const axis = this.dim < 0 ? shape.length + this.dim : this.dim;
    if (axis < 0 || axis >= shape.length) {
      throw new ParameterError(`${this.label}: dim ${this.dim} is out of range for an input of rank ${shape.length}`);
    }
    return axis;
  }

  forwardSync(x: Tensor): Tensor {
    this.checkInput(x);
    const axis = this.axis(x.shape);
    const size = x.shape[axis];
    const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    const outer = x.size / Math.max(size * inner, 1);
    const out = new Tensor(x.shape);
    softmax(x.data, out.data, outer, size, inner);
    return out;
  }

  async forward(x: Tensor): Promise<Tensor> {
    return this.forwardSync(x);
  }
}
