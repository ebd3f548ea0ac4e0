/**
 * Sequential: layers applied one after another. It names unnamed layers the way the lecture
 * does (conv1, pool1, fc1 ...), fuses an activation that follows a Conv2d or Linear into that
 * layer's kernel epilogue, and plans the whole stack for the summary.
 */
import { ParameterError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { ActivationLayer } from './activations.js';
import { Conv2d } from './conv.js';
import { Layer, type FieldState, type LayerPlan } from './layer.js';
import { Linear } from './linear.js';

const NAME_PREFIX: Record<string, string> = {
  Conv2d: 'conv',
  DepthwiseConv2d: 'dwconv',
  SeparableConv2d: 'sepconv',
  MaxPool2d: 'pool',
  AvgPool2d: 'pool',
  GlobalAvgPool2d: 'gap',
  GlobalMaxPool2d: 'gmp',
  Linear: 'fc',
  Flatten: 'flatten',
  Softmax: 'softmax',
  ReLU: 'relu',
  ReLU6: 'relu',
  LeakyReLU: 'relu',
  Sigmoid: 'sigmoid',
  HardSwish: 'hswish',
  BatchNorm2d: 'bn',
};

/** One step of a forward pass: a layer, possibly with the activation after it fused in. */
type Step = { layer: Layer; fused: ActivationLayer | null };

export class Sequential extends Layer {
  readonly type: string = 'Sequential';
  readonly layers: readonly Layer[];
  private readonly steps: Step[];

  constructor(layers: Layer[], options: { name?: string } = {}) {
    super(options.name);
    if (!Array.isArray(layers) || layers.length === 0) {
      throw new ParameterError('Sequential: layers must be a non-empty array of layers');
    }
    layers.forEach((layer, i) => {
      if (!(layer instanceof Layer)) {
        throw new ParameterError(`Sequential: layers[${i}] is not a Layer (got ${layer === null ? 'null' : typeof layer})`);
      }
    });
    this.layers = Object.freeze([...layers]);
    nameLayers(this.layers);
    this.steps = fuseSteps(this.layers);
  }

  /** Disposes every layer (their packed weights are released; see Layer.dispose). */
  override dispose(): void {
    for (const layer of this.layers) layer.dispose();
  }

  override get params(): number {
    return this.layers.reduce((sum, layer) => sum + layer.params, 0);
  }

  outputShape(inputShape: readonly number[]): number[] {
    return this.layers.reduce<number[]>((shape, layer) => layer.outputShape(shape), [...inputShape]);
  }

  override multiplyAdds(inputShape: readonly number[]): number {
    return this.plan(inputShape, null).rows.reduce((sum, row) => sum + row.multiplyAdds, 0);
  }

  override plan(inputShape: readonly number[], field: FieldState | null): LayerPlan {
    const rows: LayerPlan['rows'] = [];
    const warnings: string[] = [];
    let shape: readonly number[] = inputShape;
    let state = field;
    for (const layer of this.layers) {
      const step = layer.plan(shape, state);
      // Rows of a nested block read 'block1.conv1'.
      const prefix = layer instanceof Sequential ? `${layer.name}.` : '';
      rows.push(...step.rows.map((row) => (prefix ? { ...row, name: prefix + row.name } : row)));
      warnings.push(...step.warnings);
      shape = step.outputShape;
      state = step.field;
    }
    return { outputShape: [...shape], field: state, rows, warnings };
  }

  forwardSync(x: Tensor): Tensor {
    this.checkInput(x);
    let y = x;
    for (const { layer, fused } of this.steps) {
      if (fused && layer instanceof Conv2d) y = layer.forwardFusedSync(y, fused.activation, null);
      else if (fused && layer instanceof Linear) y = layer.forwardFusedSync(y, fused.activation);
      else y = layer.forwardSync(y);
    }
    return y;
  }

  async forward(x: Tensor): Promise<Tensor> {
    this.checkInput(x);
    let y = x;
    for (const { layer, fused } of this.steps) {
      if (fused && layer instanceof Conv2d) y = await layer.forwardFused(y, fused.activation, null);
      else if (fused && layer instanceof Linear) y = await layer.forwardFused(y, fused.activation);
      else y = await layer.forward(y);
    }
    return y;
  }
}

function nameLayers(layers: readonly Layer[]): void {
  const taken = new Set(layers.map((l) => l.name).filter(Boolean));
  const counters = new Map<string, number>();
  for (const layer of layers) {
    if (layer.name) continue;
    const prefix = NAME_PREFIX[layer.type] ?? layer.type.toLowerCase();
    let n = counters.get(prefix) ?? 0;
    do n++;
    while (taken.has(`${prefix}${n}`));
    counters.set(prefix, n);
    layer.name = `${prefix}${n}`;
    taken.add(layer.name);
  }
}

/** Pairs a Conv2d / Linear without its own activation with the activation layer that follows it. */
function fuseSteps(layers: readonly Layer[]): Step[] {
  const steps: Step[] = [];
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i];
    const next = layers[i + 1];
    const fusable = (layer instanceof Conv2d || layer instanceof Linear) && layer.activation.kind === 'none';
    if (fusable && next instanceof ActivationLayer) {
      steps.push({ layer, fused: next });
      i++;
    } else {
      steps.push({ layer, fused: null });
    }
  }
  return steps;
}
