/**
 * Inference-mode batch normalisation: y = (x - runningMean) / sqrt(runningVar + eps) * weight + bias,
 * per channel. The ONNX importer folds it into the preceding convolution; here it runs as a
 * per-channel scale and shift.
 */
import { ParameterError } from '../errors.js';
import { expectNCHW } from '../planner/geometry.js';
import { Tensor } from '../tensor.js';
import { Layer, positiveInt } from './layer.js';
import { checkOptionNames } from '../options.js';

export class BatchNorm2d extends Layer {
  readonly type = 'BatchNorm2d';
  readonly numFeatures: number;
  readonly eps: number;
  /** gamma, beta (learned) and the running statistics, each [C]; fill them from a trained model. */
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;

  constructor(options: { numFeatures: number; eps?: number; name?: string }) {
    super(options?.name);
    checkOptionNames(options, ['numFeatures', 'eps', 'name'], 'BatchNorm2d', this.label);
    this.numFeatures = positiveInt(options?.numFeatures, 'numFeatures', this.label);
    this.eps = options.eps ?? 1e-5;
    if (!(this.eps > 0)) throw new ParameterError(`${this.label}: eps must be positive, got ${String(options.eps)}`);
    this.weight = Tensor.full([this.numFeatures], 1);
    this.bias = Tensor.zeros([this.numFeatures]);
    this.runningMean = Tensor.zeros([this.numFeatures]);
    this.runningVar = Tensor.full([this.numFeatures], 1);
  }

  /** gamma and beta; running statistics are buffers, not parameters (as PyTorch counts them). */
  override get params(): number {
    return 2 * this.numFeatures;
  }

  outputShape(inputShape: readonly number[]): number[] {
    expectNCHW(this.label, inputShape, this.numFeatures);
    return [...inputShape];
  }

  forwardSync(x: Tensor): Tensor {
    this.checkInput(x);
    const [n, c, h, w] = expectNCHW(this.label, x.shape, this.numFeatures);
    const out = new Tensor(x.shape);
    const plane = h * w;
    for (let ch = 0; ch < c; ch++) {
      const scale = this.weight.data[ch] / Math.sqrt(this.runningVar.data[ch] + this.eps);
      const shift = this.bias.data[ch] - this.runningMean.data[ch] * scale;
      for (let b = 0; b < n; b++) {
        const base = (b * c + ch) * plane;
        for (let i = base; i < base + plane; i++) out.data[i] = x.data[i] * scale + shift;
      }
    }
    return out;
  }

  async forward(x: Tensor): Promise<Tensor> {
    return this.forwardSync(x);
  }
}
