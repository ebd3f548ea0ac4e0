/**
 * A loaded ONNX model: the fused, weight-packed ops built once at load, and a small cache of
 * execution plans keyed by input shapes (so a new batch size needs no reload).
 */
import type { Backend, BackendName } from '../backends/backend.js';
import { DisposedError, ParameterError, ShapeError } from '../errors.js';
import type { LayerSummary, Summarizable } from '../planner/summary-types.js';
import { Tensor } from '../tensor.js';
import type { ConstTensor } from './constant.js';
import type { DeclaredDim, ValueDeclaration } from './decode.js';
import type { ResolvedLimits } from './limits.js';
import type { ModelKernels } from './model-kernels.js';
import { ExecutionPlan, type PlanRuntime, type StepTiming } from './plan.js';
import type { CompiledOp } from './ops/types.js';

/** How many distinct input shapes keep their plan (and arena) cached. */
const PLAN_CACHE_SIZE = 8;

/** An input shape for planning: one shape for a single-input model, or shapes by input name. */
export type InputShapes = readonly number[] | Readonly<Record<string, readonly number[]>>;

export interface OnnxModelInfo {
  readonly opset: number;
  readonly producer: string;
  readonly backend: Backend;
  /** Every kernel the ops prepared: dispose() releases them. */
  readonly kernels?: ModelKernels;
  readonly ops: readonly CompiledOp[];
  /** Initializers and values folded at load. */
  readonly constants: ReadonlyMap<string, ConstTensor>;
  readonly maxConcurrentRuns: number;
  readonly limits: ResolvedLimits;
  /** Producers write their Concat slices in place (off with loadOnnx's fuse: false, for comparison). */
  readonly concatInPlace: boolean;
  readonly inputs: readonly ValueDeclaration[];
  readonly outputs: readonly ValueDeclaration[];
}

/** Options of run / runSync. */
export interface RunOptions {
  /**
   * Names of the values to return instead of the graph outputs: any graph input, initializer or
   * node output the loaded model still computes. A value fusion absorbed (a conv's output whose
   * BatchNormalization was folded in) is gone: list it in loadOnnx's `keep` to keep it.
   */
  readonly outputs?: readonly string[];
}

export class OnnxModel implements Summarizable {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Declared input shapes, aligned with inputNames: symbolic dims as their names ('batch'), unknown ones as -1. */
  readonly inputShapes: ReadonlyArray<readonly DeclaredDim[] | null>;
  readonly opset: number;
  readonly producer: string;
  readonly backendName: BackendName;
  private readonly backendOrdersCalls: boolean;
  private readonly runtime: PlanRuntime;
  private readonly ops: readonly CompiledOp[];
  private readonly constants: ReadonlyMap<string, ConstTensor>;
  private readonly maxConcurrentRuns: number;
  private readonly limits: ResolvedLimits;
  private readonly concatInPlace: boolean;
  private readonly plans = new Map<string, ExecutionPlan>();
  private readonly kernels: ModelKernels | undefined;
  private disposed = false;

  constructor(info: OnnxModelInfo) {
    this.kernels = info.kernels;
    this.inputNames = Object.freeze(info.inputs.map((v) => v.name));
    this.outputNames = Object.freeze(info.outputs.map((v) => v.name));
    this.inputShapes = Object.freeze(info.inputs.map((v) => (v.shape ? Object.freeze([...v.shape]) : null)));
    this.opset = info.opset;
    this.producer = info.producer;
    this.backendName = info.backend.name;
    this.backendOrdersCalls = info.backend.ordersQueuedCalls;
    const { backend } = info;
    this.runtime = {
      batchCalls: backend.batchCalls?.bind(backend),
      recordCalls: backend.recordCalls?.bind(backend),
      stridedCopy: backend.stridedCopy?.bind(backend),
      imageRuns: backend.imageRuns,
    };
    this.ops = info.ops;
    this.constants = info.constants;
    this.maxConcurrentRuns = info.maxConcurrentRuns;
    this.limits = info.limits;
    this.concatInPlace = info.concatInPlace;
  }

  /**
   * Releases the model's packed weights (native memory, freed now rather than at GC) and its
   * cached plans. Runs already started finish or reject with a DisposedError; any later call
   * is a DisposedError. Idempotent; `using model = await loadOnnx(...)` calls it.
   */
  dispose(): void {
    this.disposed = true;
    this.plans.clear();
    this.kernels?.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  private checkLive(method: string): void {
    if (this.disposed) throw new DisposedError(`OnnxModel.${method}: the model was disposed; its packed weights are released`);
  }

  /** Runs the model; heavy kernels run off the main thread where the backend allows (native). */
  async run(feeds: Record<string, Tensor>, options: RunOptions = {}): Promise<Record<string, Tensor>> {
    this.checkLive('run');
    const inputs = this.checkFeeds(feeds);
    const names = this.requestedOutputs(options, 'run');
    const plan = this.planFor(inputs.map((t) => t.shape), names);
    const outputs = await plan.run(inputs.map((t) => t.data));
    return this.wrapOutputs(plan, outputs, names);
  }

  /**
   * Runs the model `runs` times (default 1) and reports each executed op's wall time: the
   * median over the runs, in execution order, plus the outputs of the last run. For finding
   * where a model's time goes. Each op is awaited on its own (run() queues consecutive native
   * ops instead), so on the native backend every time includes one round trip to the JS
   * thread, ~35 us on a loaded 2-core VM: the sum exceeds a run() by about that per op.
   */
  async profile(feeds: Record<string, Tensor>, options: { runs?: number } = {}): Promise<{ outputs: Record<string, Tensor>; steps: StepTiming[]; totalMs: number }> {
    this.checkLive('profile');
    const runs = options.runs ?? 1;
    if (!Number.isInteger(runs) || runs < 1) throw new ParameterError(`profile: runs must be a positive integer, got ${runs}`);
    const inputs = this.checkFeeds(feeds);
    const plan = this.planFor(inputs.map((t) => t.shape));
    const perRun: StepTiming[][] = [];
    let outputs: Float32Array[] = [];
    for (let r = 0; r < runs; r++) {
      const result = await plan.profile(inputs.map((t) => t.data));
      perRun.push(result.steps);
      outputs = result.outputs;
    }
    const steps = perRun[0].map((step, i) => ({ ...step, ms: median(perRun.map((run) => run[i].ms)) }));
    return { outputs: this.wrapOutputs(plan, outputs), steps, totalMs: steps.reduce((sum, s) => sum + s.ms, 0) };
  }

  runSync(feeds: Record<string, Tensor>, options: RunOptions = {}): Record<string, Tensor> {
    this.checkLive('runSync');
    const inputs = this.checkFeeds(feeds);
    const names = this.requestedOutputs(options, 'runSync');
    const plan = this.planFor(inputs.map((t) => t.shape), names);
    return this.wrapOutputs(plan, plan.runSync(inputs.map((t) => t.data)), names);
  }

  /** The value names a run returns: options.outputs, checked against what the model computes, or the graph outputs. */
  private requestedOutputs(options: RunOptions, method: string): readonly string[] {
    if (options === null || typeof options !== 'object') throw new ParameterError(`${method}: options must be an object, got ${String(options)}`);
    const names = options.outputs;
    if (names === undefined) return this.outputNames;
    if (!Array.isArray(names) || names.length === 0 || names.some((n) => typeof n !== 'string' || n === '')) {
      throw new ParameterError(`${method}: options.outputs must be a non-empty array of value names, got ${JSON.stringify(names)}`);
    }
    const known = new Set([...this.inputNames, ...this.constants.keys(), ...this.ops.flatMap((op) => op.outputs)]);
    const unknown = names.filter((n) => !known.has(n));
    if (unknown.length > 0) {
      throw new ParameterError(
        `${method}: options.outputs names ${unknown.map((n) => `'${n}'`).join(', ')}, which this loaded model does not compute ` +
          `(not in the graph, or absorbed by fusion: load with { keep: [...] } or { fuse: false } to keep it)`,
      );
    }
    return [...names];
  }

  /** Bytes of the activation arena a run with this input shape uses (the static memory plan's peak). */
  peakActivationBytes(inputShape: InputShapes): number {
    return this.planFor(this.shapesFrom(inputShape)).memory.peakBytes;
  }

  /**
   * Bytes of the sub-batch arenas image-parallel runs of this input shape hold now (one per
   * thread that ran a share; CONVNODE_IMAGE_PARALLEL, see README): 0 when its runs went op by op.
   * They come beside the whole-batch arena only if runs of this shape also went op by op.
   */
  imageRunBytes(inputShape: InputShapes): number {
    return this.planFor(this.shapesFrom(inputShape)).imageRunBytes;
  }

  /** Bytes the same activations would take with one buffer each (no reuse). */
  naiveActivationBytes(inputShape: InputShapes): number {
    return this.planFor(this.shapesFrom(inputShape)).memory.naiveBytes;
  }

  /** Per-op rows (after fusion: 'Conv+BatchNormalization+Relu' is one row) for `summarize`. */
  summaryRows(inputShape: InputShapes): LayerSummary[] {
    return [...this.planFor(this.shapesFrom(inputShape)).rows];
  }

  /** Output shapes for an input shape, without running. */
  outputShapes(inputShape: InputShapes): Record<string, readonly number[]> {
    const plan = this.planFor(this.shapesFrom(inputShape));
    return Object.fromEntries(this.outputNames.map((name, i) => [name, plan.outputShapes[i]]));
  }

  private wrapOutputs(plan: ExecutionPlan, outputs: Float32Array[], names: readonly string[] = this.outputNames): Record<string, Tensor> {
    return Object.fromEntries(names.map((name, i) => [name, new Tensor(plan.outputShapes[i], outputs[i])]));
  }

  private shapesFrom(inputShape: InputShapes): number[][] {
    if (Array.isArray(inputShape)) {
      if (this.inputNames.length !== 1) {
        throw new ParameterError(`inputShape: this model has ${this.inputNames.length} inputs (${this.inputNames.join(', ')}); pass shapes by input name`);
      }
      const shape = [...(inputShape as readonly number[])];
      this.checkShape(this.inputNames[0], 0, shape);
      return [shape];
    }
    const byName = inputShape as Readonly<Record<string, readonly number[]>>;
    return this.inputNames.map((name, i) => {
      const shape = byName[name];
      if (!shape) throw new ParameterError(`inputShape: missing a shape for input '${name}'`);
      this.checkShape(name, i, [...shape]);
      return [...shape];
    });
  }

  private checkFeeds(feeds: Record<string, Tensor>): Tensor[] {
    if (feeds === null || typeof feeds !== 'object' || feeds instanceof Tensor) {
      throw new ParameterError(`run: feeds must be an object mapping input names (${this.inputNames.join(', ')}) to Tensors`);
    }
    for (const name of Object.keys(feeds)) {
      if (!this.inputNames.includes(name)) {
        throw new ParameterError(`run: feeds has an input named '${name}', but the model's inputs are: ${this.inputNames.join(', ')}`);
      }
    }
    return this.inputNames.map((name, i) => {
      const tensor = feeds[name];
      if (tensor === undefined) {
        throw new ParameterError(`run: feeds is missing input '${name}' (the model's inputs are: ${this.inputNames.join(', ')})`);
      }
      if (!(tensor instanceof Tensor)) {
        throw new ParameterError(`run: feeds['${name}'] must be a Tensor, got ${tensor === null ? 'null' : typeof tensor}`);
      }
      this.checkShape(name, i, tensor.shape);
      // The data is checked here too: a Tensor's array can be detached (transferred) after it was made.
      const needed = tensor.shape.reduce((a, b) => a * b, 1);
      if (!(tensor.data instanceof Float32Array) || tensor.data.length !== needed) {
        const detached = tensor.data instanceof Float32Array && tensor.data.buffer.byteLength === 0;
        throw new ShapeError(
          `run: feeds['${name}'] holds ${tensor.data?.length ?? 0} elements but its shape [${tensor.shape.join(', ')}] needs ${needed}` +
            (detached ? ' (its ArrayBuffer is detached: transferred to another thread?)' : ''),
        );
      }
      return tensor;
    });
  }

  /** The declared shape is the contract: same rank, same fixed dims, any positive size for symbolic ones. */
  private checkShape(name: string, index: number, shape: readonly number[]): void {
    const declared = this.inputShapes[index];
    const expected = declared ? declared.map((d) => (typeof d === 'number' && d > 0 ? String(d) : String(d === -1 ? '?' : d))).join(' x ') : '';
    if (declared && shape.length !== declared.length) {
      throw new ShapeError(`input '${name}': expected rank ${declared.length} (${expected}), got [${shape.join(', ')}] (rank ${shape.length})`);
    }
    shape.forEach((dim, axis) => {
      if (!Number.isInteger(dim) || dim < 1) {
        throw new ShapeError(`input '${name}': dimension ${axis} must be a positive integer, got ${dim} in [${shape.join(', ')}]`);
      }
      const want = declared?.[axis];
      if (typeof want === 'number' && want > 0 && want !== dim) {
        throw new ShapeError(`input '${name}': dimension ${axis} must be ${want} (expected ${expected}), got [${shape.join(', ')}]`);
      }
    });
  }

  private planFor(shapes: ReadonlyArray<readonly number[]>, outputNames: readonly string[] = this.outputNames): ExecutionPlan {
    this.checkLive('plan');
    const key = shapes.map((s) => s.join('x')).join(';') + (outputNames === this.outputNames ? '' : `->${JSON.stringify(outputNames)}`);
    let plan = this.plans.get(key);
    if (plan) {
      // Refresh its place in the least-recently-used order.
      this.plans.delete(key);
    } else {
      plan = new ExecutionPlan(
        this.ops, (name) => this.constants.get(name), this.inputNames, shapes, outputNames, this.maxConcurrentRuns,
        this.backendOrdersCalls, this.limits, this.concatInPlace, this.runtime,
      );
      if (this.plans.size >= PLAN_CACHE_SIZE) this.plans.delete(this.plans.keys().next().value!);
    }
    this.plans.set(key, plan);
    return plan;
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
