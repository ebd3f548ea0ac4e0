/**
 * The base of every layer. A layer knows its output shape (through the shared geometry in
 * lib/planner/geometry.ts), its parameter count and cost, how it grows the receptive field,
 * and how to run on the active backend, synchronously or off the main thread.
 */
import { ParameterError, ShapeError } from '../errors.js';
import { INPUT_FIELD, type ReceptiveField } from '../planner/geometry.js';
import type { LayerSummary } from '../planner/summary-types.js';
import { Tensor, formatShape, shapeSize } from '../tensor.js';

/** A layer's receptive-field state: see ReceptiveField in lib/planner/geometry.ts. */
export type FieldState = ReceptiveField;
export { INPUT_FIELD };

/** What a layer (or a block of layers) does to a given input: shapes, rows for the summary, warnings. */
export interface LayerPlan {
  readonly outputShape: readonly number[];
  readonly field: FieldState | null;
  readonly rows: LayerSummary[];
  readonly warnings: string[];
}

export const FLOAT32_BYTES = 4;

export abstract class Layer {
  /** Set by the user, or by Sequential ('conv1', 'pool2', ...) when left empty. */
  name: string;
  /** The layer's class, as shown in summaries ('Conv2d', 'MaxPool2d' ...). */
  abstract readonly type: string;

  constructor(name?: string) {
    if (name !== undefined && typeof name !== 'string') {
      throw new ParameterError(`layer name must be a string, got ${typeof name}`);
    }
    this.name = name ?? '';
  }

  /** How the layer is named in messages: "Conv2d 'conv1'". */
  get label(): string {
    return layerLabel(this.type, this.name);
  }

  /** The output shape for an input shape; throws a ShapeError naming the layer when it cannot take it. */
  abstract outputShape(inputShape: readonly number[]): number[];

  /** Runs the layer inline on the calling thread. */
  abstract forwardSync(x: Tensor): Tensor;

  /** Runs the layer; on the native backend the work happens off the JS main thread. */
  abstract forward(x: Tensor): Promise<Tensor>;

  /**
   * Releases what the layer holds outside the JS heap (a Conv2d's or Linear's packed weights)
   * now instead of at GC. A layer with weights refuses forward() afterwards with a
   * DisposedError; one without is unaffected. Idempotent. A block disposes its layers.
   */
  dispose(): void {}

  /** `using layer = new Conv2d(...)` disposes it at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Learnable parameters. */
  get params(): number {
    return 0;
  }

  /** Multiply-adds for a whole batch of this input shape. */
  multiplyAdds(_inputShape: readonly number[]): number {
    return 0;
  }

  /** How this layer changes the receptive field; element-wise layers leave it as it is. */
  nextField(field: FieldState | null, _inputShape: readonly number[]): FieldState | null {
    return field;
  }

  /** Hyper-parameter advice for this input (e.g. a stride that does not divide exactly). */
  warnings(_inputShape: readonly number[]): string[] {
    return [];
  }

  /** Everything the planner needs, for one input shape. Blocks of layers override this. */
  plan(inputShape: readonly number[], field: FieldState | null): LayerPlan {
    const outputShape = this.outputShape(inputShape);
    const next = this.nextField(field, inputShape);
    const row: LayerSummary = {
      name: this.name || this.type,
      type: this.type,
      outputShape,
      params: this.params,
      multiplyAdds: this.multiplyAdds(inputShape),
      receptiveField: next ? next.size : null,
      jump: next ? next.jump : null,
      activationBytes: shapeSize(outputShape) * FLOAT32_BYTES,
    };
    const warnings = this.warnings(inputShape).map((w) => `${this.label}: ${w}`);
    return { outputShape, field: next, rows: [row], warnings };
  }

  /** The summary rows for this layer alone (Summarizable). */
  summaryRows(inputShape: readonly number[]): LayerSummary[] {
    return this.plan(inputShape, INPUT_FIELD).rows;
  }

  /** Checks that x is a well-formed Tensor (right type, data length matching its shape). */
  protected checkInput(x: Tensor): void {
    if (!(x instanceof Tensor)) {
      throw new ParameterError(`${this.label}: input must be a Tensor, got ${x === null ? 'null' : typeof x}`);
    }
    if (!(x.data instanceof Float32Array)) {
      throw new ParameterError(`${this.label}: input data must be a Float32Array`);
    }
    const expected = shapeSize(x.shape, 'input shape');
    if (x.data.length !== expected) {
      throw new ShapeError(
        `${this.label}: input data holds ${x.data.length} elements but its shape ${formatShape(x.shape)} needs ${expected}` +
          (x.data.buffer.byteLength === 0 ? ' (its ArrayBuffer is detached)' : ''),
      );
    }
  }
}

/**
 * How a layer is named in messages, "Conv2d 'conv1'" or just "Conv2d". Constructors that must
 * check options before super() (when `label` is not yet usable) call it with the option's name.
 */
export function layerLabel(type: string, name: string | undefined): string {
  return name ? `${type} '${name}'` : type;
}

/** Reads a positive-integer option. */
export function positiveInt(value: unknown, name: string, owner: string): number {
  if (!Number.isInteger(value) || (value as number) < 1) {
    throw new ParameterError(`${owner}: ${name} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value as number;
}
