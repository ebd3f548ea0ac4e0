/**
 * One execution plan per distinct set of input shapes: every value's shape, the constants the
 * shape chains evaluate to, the steps that run, where each activation lives in the arena, and
 * the per-op rows of the summary. Plans are built on first use of a shape and cached, so a new
 * batch size costs one planning pass and no reload.
 */
import type { Backend, ImageRunSlot, RecordedCalls, StridedCopyPlan } from '../backends/backend.js';
import type { LayerSummary } from '../planner/summary-types.js';
import { constAsFloat32, type ConstTensor } from './constant.js';
import { OnnxError } from './errors.js';
import { planMemory, type BufferLifetime, type MemoryPlan } from './memory-plan.js';
import { checkActivationBytes, checkTensorElements, DEFAULT_LIMITS, type ResolvedLimits } from './limits.js';
import { inputField, numel } from './ops/shape-utils.js';
import type { CompiledOp, Execution, PlannedOp, PlanValue } from './ops/types.js';
import { planConcatsInPlace, resolvePlacement, type Placement } from './concat-in-place.js';

interface PlannedStep {
  readonly op: CompiledOp;
  readonly inputIds: readonly number[];
  readonly outputIds: readonly number[];
  readonly execution: Execution;
  readonly concat?: PlannedOp['concat'];
}

/** A graph output that is not written by a step of its own: copied from its source at the end. */
interface OutputCopy {
  readonly outputId: number;
  readonly sourceId: number;
}

/** One executed step's wall time in a profiled run. */
export interface StepTiming {
  readonly name: string;
  readonly type: string;
  readonly ms: number;
}

/** An arena and the value views into it, owned by one run at a time. */
interface Arena {
  /** Built on first use: a run that goes image-parallel never needs the whole-batch arena. */
  bindings?: Float32Array[];
  /** This arena's steps recorded once (see run); null when recording failed. */
  recorded?: RecordedRun | null;
  /** Image-parallel slots by sub-batch size: recorded runs of the sub-batch plan, each on an arena of its own. */
  images?: Map<number, RecordedRun[]>;
}

/**
 * A run recorded on one arena: the steps read the graph inputs from `inputs` and write the
 * graph outputs into `outputs`, buffers of the arena's own (a recording's arrays never change).
 */
interface RecordedRun {
  readonly calls: RecordedCalls;
  readonly buffers: Float32Array[];
  readonly inputs: Float32Array[];
  readonly outputs: Float32Array[];
}

/** The backend's batching, recording, copy and image-parallel runs, where it has them (native). */
export type PlanRuntime = Pick<Backend, 'batchCalls' | 'recordCalls' | 'stridedCopy' | 'imageRuns'>;

/** What a plan for another batch size needs: the same graph, made again (see subPlan). */
interface PlanSource {
  readonly ops: readonly CompiledOp[];
  readonly constantOf: (name: string) => ConstTensor | undefined;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly limits: ResolvedLimits;
  readonly concatInPlace: boolean;
}

export class ExecutionPlan {
  readonly outputShapes: ReadonlyArray<readonly number[]>;
  readonly memory: MemoryPlan;
  readonly rows: readonly LayerSummary[];
  private readonly values: PlanValue[] = [];
  private readonly steps: PlannedStep[] = [];
  private readonly copies: OutputCopy[] = [];
  private readonly inputIds: number[];
  private readonly outputIds: number[];
  /** The value whose data each value shares (itself unless it is a view). */
  private readonly root: number[] = [];
  private readonly arenaOffsets = new Map<number, number>();
  /** Values whose data lives in a slice of another value's buffer (a Concat written in place). */
  private placement: ReadonlyMap<number, Placement> = new Map();
  private readonly freeArenas: Arena[] = [];
  /** Async runs waiting for an arena once `maxArenas` are in use. */
  private readonly waiting: Array<(arena: Arena) => void> = [];
  private arenasCreated = 0;
  private readonly source: PlanSource;
  private readonly inputShapes: ReadonlyArray<readonly number[]>;
  /** Some step combines images in a way the shapes do not show (PlannedOp.mixesImages). */
  private mixesImages = false;
  /** Plans for sub-batches of this batch by size; null: that size cannot run image-parallel. */
  private readonly subPlans = new Map<number, ExecutionPlan | null>();

  constructor(
    ops: readonly CompiledOp[],
    constantOf: (name: string) => ConstTensor | undefined,
    inputNames: readonly string[],
    inputShapes: ReadonlyArray<readonly number[]>,
    outputNames: readonly string[],
    /** Async runs beyond this many at once wait for an arena instead of allocating another. */
    private readonly maxArenas = 4,
    /**
     * The backend runs queued calls in an order that respects the memory they share (a call
     * starts after every earlier call that writes what it reads, or touches what it writes):
     * then consecutive single-call steps are queued without awaiting each (see run).
     */
    private readonly backendOrdersCalls = false,
    limits: ResolvedLimits = DEFAULT_LIMITS,
    /** Let producers write their slices of a Concat's output in place (see concat-in-place.ts). */
    concatInPlace = true,
    /** What of the backend the async run uses beyond the steps' own calls (see run). */
    private readonly runtime: PlanRuntime = {},
  ) {
    this.source = { ops, constantOf, inputNames, outputNames, limits, concatInPlace };
    this.inputShapes = inputShapes;
    const ids = new Map<string, number>();
    const rows: LayerSummary[] = [];
    const define = (name: string, value: PlanValue, root?: number): number => {
      const id = this.values.length;
      this.values.push(value);
      this.root.push(root ?? id);
      ids.set(name, id);
      return id;
    };
    inputNames.forEach((name, i) => checkTensorElements(inputShapes[i], `graph input '${name}'`, 'the input', limits));
    this.inputIds = inputNames.map((name, i) => define(name, { shape: inputShapes[i], field: inputField(inputShapes[i]) }));
    /** A value by name; initializers and load-time constants are defined on first use. */
    const lookup = (name: string): number => {
      if (name === '') return -1;
      const id = ids.get(name);
      if (id !== undefined) return id;
      const constant = constantOf(name);
      return constant ? define(name, { shape: constant.dims, constant, field: null }) : -1;
    };
    for (const op of ops) {
      const inputIds = op.inputs.map(lookup);
      const planned = op.plan(inputIds.map((id) => (id < 0 ? null : this.values[id])));
      planned.outputs.forEach((value, i) => checkTensorElements(value.shape, `${op.type} '${op.name}'`, `output '${op.outputs[i]}'`, limits));
      if (planned.outputs.length < op.outputs.length) {
        throw new OnnxError(`${op.type} '${op.name}': produces ${planned.outputs.length} outputs, the graph expects ${op.outputs.length}`);
      }
      const aliasOf = planned.aliasOfInput;
      const outputIds = op.outputs.map((name, i) =>
        define(name, planned.outputs[i], i === 0 && aliasOf !== undefined ? this.root[inputIds[aliasOf]] : undefined),
      );
      if (planned.mixesImages) this.mixesImages = true;
      if (planned.execution) {
        this.steps.push({ op, inputIds: inputIds.filter((id) => id >= 0), outputIds, execution: planned.execution, concat: planned.concat });
      }
      const out = planned.outputs[0];
      if (!out.constant) {
        rows.push({
          name: op.name,
          type: op.type,
          outputShape: out.shape,
          params: op.params,
          multiplyAdds: planned.multiplyAdds,
          receptiveField: out.field ? [out.field.size[0], out.field.size[1]] : null,
          jump: out.field ? [out.field.jump[0], out.field.jump[1]] : null,
          activationBytes: numel(out.shape) * 4,
        });
      }
    }
    this.rows = rows;
    this.outputIds = outputNames.map((name) => {
      const id = lookup(name);
      if (id < 0) throw new OnnxError(`graph output '${name}' is not produced by any node`);
      return id;
    });
    // Outputs get fresh per-run buffers. One that is a view, a constant or a graph input is
    // copied from its source at the end; give it an id of its own so nothing else shares it.
    this.outputIds = this.outputIds.map((id) => {
      const writtenByStep = this.root[id] === id && !this.values[id].constant && !this.inputIds.includes(id);
      if (writtenByStep) return id;
      const copyId = this.values.length;
      this.values.push(this.values[id]);
      this.root.push(copyId);
      this.copies.push({ outputId: copyId, sourceId: id });
      return copyId;
    });
    this.outputShapes = this.outputIds.map((id) => this.values[id].shape);
    if (concatInPlace) this.placeConcats();
    this.memory = this.planArena();
    checkActivationBytes(this.memory.peakBytes, inputShapes.map((s) => `[${s.join(', ')}]`).join(', '), limits);
  }

  /** The value whose buffer holds a value's data, and where in it. */
  private storageOf(id: number): Placement {
    return resolvePlacement(this.placement, this.root[id]);
  }

  /**
   * Gives the inputs of contiguous Concats slices of the concatenated buffer; drops the Concat
   * steps left with nothing to copy and trims the others to the inputs that could not be placed.
   */
  private placeConcats(): void {
    const outputs = new Set(this.outputIds);
    const written = new Set(this.steps.flatMap((step) => step.outputIds));
    const canPlace = (id: number) =>
      this.root[id] === id && written.has(id) && !outputs.has(id) && !this.inputIds.includes(id) && !this.values[id].constant;
    const numelOf = (id: number) => numel(this.values[id].shape);
    const { placement, remainingCopies } = planConcatsInPlace(this.steps, numelOf, canPlace);
    this.placement = placement;
    const kept = this.steps.flatMap((step, index): PlannedStep[] => {
      const copies = remainingCopies.get(index);
      if (!copies) return [step];
      if (copies.length === 0) return [];
      const offsets = step.inputIds.map((_, i) => step.inputIds.slice(0, i).reduce((sum, id) => sum + numelOf(id), 0));
      const execution: Execution = {
        runSync(ins, outs) {
          for (const i of copies) outs[0].set(ins[i], offsets[i]);
        },
      };
      return [{ ...step, execution }];
    });
    this.steps.splice(0, this.steps.length, ...kept);
  }

  /** Lifetimes of every arena buffer (a step-written value, not a graph output, holding its own data), then their offsets. */
  private planArena(): MemoryPlan {
    const first = new Map<number, number>();
    const last = new Map<number, number>();
    const outputs = new Set(this.outputIds);
    const inArena = (id: number) => !outputs.has(id) && !this.inputIds.includes(id) && !this.values[id].constant;
    this.steps.forEach((step, index) => {
      for (const id of step.outputIds) {
        const buffer = this.storageOf(id).into;
        if (inArena(buffer) && !first.has(buffer)) first.set(buffer, index);
      }
      for (const id of [...step.inputIds, ...step.outputIds]) {
        const buffer = this.storageOf(id).into;
        last.set(buffer, Math.max(last.get(buffer) ?? index, index));
      }
    });
    for (const copy of this.copies) last.set(this.storageOf(copy.sourceId).into, this.steps.length);
    const ids = [...first.keys()];
    const lifetimes: BufferLifetime[] = ids.map((id) => ({
      length: numel(this.values[id].shape),
      first: first.get(id)!,
      last: last.get(id) ?? first.get(id)!,
    }));
    const memory = planMemory(lifetimes);
    ids.forEach((id, i) => this.arenaOffsets.set(id, memory.offsets[i]));
    return memory;
  }

  /** A pooled arena: counted against maxArenas and returned to the pool after each run. */
  private createArena(): Arena {
    this.arenasCreated++;
    return {};  // its buffers come with its first whole-batch run (bind)
  }

  private buildArena(): Arena & { bindings: Float32Array[] } {
    const arena = new Float32Array(this.memory.arenaLength);
    const bindings = this.values.map((value, id) => {
      if (value.constant) return constAsFloat32(value.constant);
      const { into, offset } = this.storageOf(id);
      const base = this.arenaOffsets.get(into);
      return base === undefined ? new Float32Array(0) : arena.subarray(base + offset, base + offset + numel(value.shape));
    });
    return { bindings };
  }

  /** A free arena, a new one below the limit, or (async runs only) the next one released. */
  private acquireArena(): Arena | Promise<Arena> {
    const reused = this.freeArenas.pop();
    if (reused) return reused;
    if (this.arenasCreated < this.maxArenas) return this.createArena();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private releaseArena(arena: Arena): void {
    const next = this.waiting.shift();
    if (next) next(arena);
    else this.freeArenas.push(arena);
  }

  /** Per-run bindings: the arena's views, the caller's inputs, fresh outputs, views resolved. */
  private bind(arena: Arena, inputs: readonly Float32Array[]): { buffers: Float32Array[]; outputs: Float32Array[] } {
    arena.bindings ??= this.buildArena().bindings;
    const buffers = arena.bindings.slice();
    this.inputIds.forEach((id, i) => (buffers[id] = inputs[i]));
    const outputs = this.outputIds.map((id) => (buffers[id] = new Float32Array(numel(this.values[id].shape))));
    for (let id = 0; id < buffers.length; id++) {
      if (this.root[id] !== id) buffers[id] = buffers[this.root[id]];
    }
    return { buffers, outputs };
  }

  private finish(buffers: Float32Array[]): void {
    for (const copy of this.copies) buffers[copy.outputId].set(buffers[copy.sourceId]);
  }

  runSync(inputs: readonly Float32Array[]): Float32Array[] {
    // A synchronous run cannot wait: over the limit it takes a short-lived arena of its own.
    const pooled = this.freeArenas.pop() ?? (this.arenasCreated < this.maxArenas ? this.createArena() : undefined);
    const arena = pooled ?? {};
    try {
      const { buffers, outputs } = this.bind(arena, inputs);
      for (const step of this.steps) {
        step.execution.runSync(step.inputIds.map((id) => buffers[id]), step.outputIds.map((id) => buffers[id]));
      }
      this.finish(buffers);
      return outputs;
    } finally {
      if (pooled) this.releaseArena(pooled);
    }
  }

  /**
   * One run like `run`, timing every step (its kernel plus its async hop, as a run sees it).
   * Returns the outputs and one timing per executed step, in execution order.
   */
  async profile(inputs: readonly Float32Array[]): Promise<{ outputs: Float32Array[]; steps: StepTiming[] }> {
    const arena = await this.acquireArena();
    try {
      const { buffers, outputs } = this.bind(arena, inputs);
      const steps: StepTiming[] = [];
      for (const step of this.steps) {
        const ins = step.inputIds.map((id) => buffers[id]);
        const outs = step.outputIds.map((id) => buffers[id]);
        const start = performance.now();
        if (step.execution.run) await step.execution.run(ins, outs);
        else step.execution.runSync(ins, outs);
        steps.push({ name: step.op.name, type: step.op.type, ms: performance.now() - start });
      }
      this.finish(buffers);
      return { outputs, steps };
    } finally {
      this.releaseArena(arena);
    }
  }

  /**
   * Whether runs can replay a recording: every step queues backend calls only, the backend
   * records and copies (native), and no input is empty (a recording copies them in).
   */
  private recordable(inputs: readonly Float32Array[]): boolean {
    const { recordCalls, stridedCopy } = this.runtime;
    return recordCalls !== undefined && stridedCopy !== undefined && this.backendOrdersCalls && inputs.every((x) => x.length > 0) &&
      this.steps.every((step) => step.execution.queuesOneCall === true && step.execution.run !== undefined);
  }

  /**
   * Records every step of a run on this arena, with buffers of its own for the graph inputs and
   * outputs; null when a step could not be recorded (the run then goes the step-by-step way,
   * where the same call fails again and reports its error).
   */
  private async record(arena: Arena): Promise<RecordedRun | null> {
    const inputs = this.inputIds.map((id) => new Float32Array(numel(this.values[id].shape)));
    const { buffers, outputs } = this.bind(arena, inputs);
    let calls: RecordedCalls;
    try {
      calls = this.runtime.recordCalls!(() =>
        this.steps.map((step) => step.execution.run!(step.inputIds.map((id) => buffers[id]), step.outputIds.map((id) => buffers[id]))));
      await calls.recorded;
    } catch {
      return null;
    }
    return { calls, buffers, inputs, outputs };
  }

  /**
   * One replay of the recorded steps, between a copy of each input into the arena and of each
   * output out of it: three native calls, queued as one job, whatever the number of steps.
   */
  private async runRecorded(recorded: RecordedRun, inputs: readonly Float32Array[], queued: Promise<void>[]): Promise<Float32Array[]> {
    const copy = this.runtime.stridedCopy!;
    this.runtime.batchCalls!(() => {
      inputs.forEach((input, i) => queued.push(copy(input, densePlan(input.length), recorded.inputs[i])));
      queued.push(recorded.calls.run());
    });
    await settleAll(queued);
    this.finish(recorded.buffers);
    // Fresh arrays for the caller: the arena's are overwritten by the next run.
    return recorded.outputs.map((output) => output.slice());
  }

  /**
   * Image-parallel runs (native/napi/image_runs.h): at a batch of b >= 2 images on T >= 2
   * threads, the batch runs as sub-batches of `size` images (1, or b / T with
   * CONVNODE_IMAGE_PARALLEL=share), each thread replaying a recorded sub-batch plan whole, with
   * no join between layers: what the per-op split loses at batch 8 is its ~100 joins and
   * wake-ups per run. Null (the op-by-op path) when the backend has no image runs, they are off,
   * one thread, one image, the run cannot be recorded, or the graph mixes images (subPlan).
   */
  private imageRunsFor(inputs: readonly Float32Array[]): ImageRunCut | null {
    const images = this.runtime.imageRuns;
    if (!images || !this.recordable(inputs)) return null;
    const mode = images.mode();
    const threads = images.threads();
    const batch = this.inputShapes[0]?.[0] ?? 0;
    if (mode === 0 || threads < 2 || batch < 2) return null;
    // Whole images cannot be cut: b = 3 on 2 threads would take 2 image-times where the op split
    // takes ~1.5, and b < threads leaves threads idle. Only when the busiest thread's share is
    // within 1/8 of an even one (b a multiple of the threads, or b = 9 on 2, 8 on 3 ...).
    if (batch / threads / Math.ceil(batch / threads) < MIN_IMAGE_BALANCE) return null;
    if (this.weightBound()) return null;
    const size = mode === 2 && batch % threads === 0 ? batch / threads : 1;
    const sub = this.subPlan(size);
    if (!sub) return null;
    const runs = batch / size;
    return { sub, size, runs, slots: Math.min(threads, runs) };
  }

  /**
   * Whether the weights, not the arithmetic, set this model's pace: each sub-batch run reads
   * every weight once, so image runs stream them batch / size times where the op split streams
   * them once. That matters only where the weights do not stay in cache and are many per
   * multiply-add: AlexNet (233 MiB, 0.34 bytes per multiply-add, most in its Linear layers) ran
   * 2x slower at 2 threads batch 8 as image runs (Zen 4); ResNet-50 (97 MiB, 0.025) and
   * MobileNetV3-small (10 MiB, 0.18, cached) gain.
   */
  private weightBound(): boolean {
    // A property of the plan (its rows and batch): summed on the first batched run, not each.
    this.weightBoundMemo ??= (() => {
      const weightBytes = this.rows.reduce((sum, row) => sum + row.params, 0) * 4;
      const multiplyAddsPerImage = this.rows.reduce((sum, row) => sum + row.multiplyAdds, 0) / this.inputShapes[0][0];
      return weightBytes > IMAGE_RUN_CACHED_WEIGHT_BYTES && weightBytes > IMAGE_RUN_WEIGHT_BYTES_PER_MULTIPLY_ADD * multiplyAddsPerImage;
    })();
    return this.weightBoundMemo;
  }
  private weightBoundMemo: boolean | undefined;

  /**
   * The plan of a sub-batch of `size` images, or null when this batch cannot be cut into such
   * sub-batches with the same result: every graph input must hold the batch on axis 0; in the
   * sub-batch plan every constant a step reads must be the same, every value that is not a
   * constant must have this plan's shape with axis 0
   * scaled by size / batch (so each image's values are a contiguous slice, and no op reduces,
   * broadcasts or indexes across images: a Flatten to [1, n], a Transpose moving the batch, a
   * Gather or Slice on axis 0 all fail this), the graph outputs must hold the batch on axis 0, no
   * op may mix images in a way shapes do not show (PlannedOp.mixesImages: a Softmax over axis 0),
   * and no output may be a copy made after the steps (the native job copies outputs itself).
   */
  private subPlan(size: number): ExecutionPlan | null {
    const known = this.subPlans.get(size);
    if (known !== undefined) return known;
    let sub: ExecutionPlan | null = null;
    try {
      const batch = this.inputShapes[0][0];
      const scaled = (shape: readonly number[]) => [shape[0] * size / batch, ...shape.slice(1)];
      if (this.inputShapes.every((shape) => shape.length >= 1 && shape[0] === batch) && batch % size === 0 && !this.mixesImages &&
        this.copies.length === 0) {
        const { ops, constantOf, inputNames, outputNames, limits, concatInPlace } = this.source;
        const candidate = new ExecutionPlan(ops, constantOf, inputNames, this.inputShapes.map(scaled), outputNames, this.maxArenas,
          this.backendOrdersCalls, limits, concatInPlace, this.runtime);
        const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
        // Constants a step reads must be the same in both plans: one computed from the batch
        // size (Shape -> Mod -> Cast -> Add) would differ. Those only shape chains and views read
        // may differ (a Reshape to [batch, -1]): their effect is in the shapes checked below.
        const readBySteps = new Set([...this.steps, ...candidate.steps].flatMap((step) => step.inputIds));
        const sameConstant = (a: ConstTensor, b: ConstTensor) => a.data === b.data ||
          (a.kind === b.kind && sameShape(a.dims, b.dims) && a.data.length === b.data.length &&
            Array.prototype.every.call(a.data, (v: number, i: number) => Object.is(v, b.data[i])));
        // Values, not steps: the sub-batch plan may have fewer (a Concat on axis 1 of one image is
        // contiguous, so its producers write in place and its step goes: concat-in-place.ts).
        const aligned = candidate.values.length === this.values.length && !candidate.mixesImages && candidate.copies.length === 0 &&
          // Every step of the smaller plan recordable too (a Concat it could place only in part copies in JS).
          candidate.steps.every((step) => step.execution.queuesOneCall === true && step.execution.run !== undefined) &&
          this.values.every((value, id) => {
            const other = candidate.values[id];
            if (value.constant && other.constant) return !readBySteps.has(id) || sameConstant(value.constant, other.constant);
            if (value.constant || other.constant) return false;
            return value.shape.length >= 1 && sameShape(other.shape, scaled(value.shape));
          }) &&
          this.outputShapes.every((shape) => shape[0] === batch);
        if (aligned) sub = candidate;
      }
    } catch {
      sub = null;  // the graph does not plan at the smaller batch (a Reshape to a fixed batch ...)
    }
    this.subPlans.set(size, sub);
    return sub;
  }

  /** Bytes the image-parallel slots of this plan hold now, over every arena (0: none made yet). */
  get imageRunBytes(): number {
    let bytes = 0;
    for (const arena of this.freeArenas) {
      for (const [size, slots] of arena.images ?? []) bytes += slots.length * (this.subPlans.get(size)?.memory.peakBytes ?? 0);
    }
    return bytes;
  }

  /**
   * One image-parallel run on `arena`'s slots (recorded on first use, one per thread); null
   * when a slot cannot be recorded (the plan then keeps the op-by-op path for this size).
   */
  private async runImages(arena: Arena, cut: ImageRunCut, inputs: readonly Float32Array[], queued: Promise<void>[]): Promise<Float32Array[] | null> {
    arena.images ??= new Map();
    const slots = arena.images.get(cut.size) ?? [];
    arena.images.set(cut.size, slots);
    while (slots.length < cut.slots) {
      const recorded = await cut.sub.record(cut.sub.buildArena());
      if (!recorded) {
        this.subPlans.set(cut.size, null);
        arena.images.delete(cut.size);
        return null;
      }
      slots.push(recorded);
    }
    const outputs = this.outputIds.map((id) => new Float32Array(numel(this.values[id].shape)));
    const chosen: ImageRunSlot[] = slots.slice(0, cut.slots).map((slot) => ({ calls: slot.calls, inputs: slot.inputs, outputs: slot.outputs }));
    queued.push(this.runtime.imageRuns!.replay(chosen, inputs, outputs, cut.runs));
    await settleAll(queued);
    return outputs;
  }

  /**
   * Steps run one after another; each backend kernel may do its work off the main thread. On a
   * backend that orders calls by memory, a run of queueable steps (convs, pools, linears,
   * element-wise ops, squeeze-and-excitation gates, strided copies) is queued at once and the
   * backend chains them: no round trip through this thread per layer. Where the backend batches
   * (native), each such run of steps is one backend job: one hop to a worker thread and one back
   * per run of the model, not per step (see native/napi/async_job.h). Any other step is a
   * barrier: it waits for the queued ones first.
   */
  async run(inputs: readonly Float32Array[]): Promise<Float32Array[]> {
    const images = this.imageRunsFor(inputs);
    const arena = await this.acquireArena();
    const queued: Promise<void>[] = [];
    try {
      if (images) {
        const outputs = await this.runImages(arena, images, inputs, queued);
        if (outputs) return outputs;
      }
      if (arena.recorded === undefined && this.recordable(inputs)) arena.recorded = await this.record(arena);
      if (arena.recorded) return await this.runRecorded(arena.recorded, inputs, queued);
      const { buffers, outputs } = this.bind(arena, inputs);
      const steps = this.steps;
      const args = (step: PlannedStep) => [step.inputIds.map((id) => buffers[id]), step.outputIds.map((id) => buffers[id])] as const;
      const queueable = (step: PlannedStep) => this.backendOrdersCalls && step.execution.queuesOneCall === true && step.execution.run !== undefined;
      let index = 0;
      while (index < steps.length) {
        if (queueable(steps[index])) {
          let end = index + 1;
          while (end < steps.length && queueable(steps[end])) end++;
          // No await until the next barrier, which attaches handlers to every queued call: a
          // failure cannot go unhandled in between.
          const enqueue = () => {
            for (let i = index; i < end; i++) queued.push(steps[i].execution.run!(...args(steps[i])));
          };
          if (this.runtime.batchCalls) this.runtime.batchCalls(enqueue);
          else enqueue();
          index = end;
          continue;
        }
        await settleAll(queued);
        const { execution } = steps[index];
        if (execution.run) await execution.run(...args(steps[index]));
        else execution.runSync(...args(steps[index]));
        index++;
      }
      await settleAll(queued);
      this.finish(buffers);
      return outputs;
    } finally {
      // After a failure, calls still queued may be writing into the arena: let them finish.
      await Promise.allSettled(queued);
      this.releaseArena(arena);
    }
  }
}

/** The least (batch / threads) / ceil(batch / threads) an image-parallel run accepts (see imageRunsFor). */
const MIN_IMAGE_BALANCE = 0.875;
/** Weights up to this size stay in cache between a thread's image runs (weightBound). */
const IMAGE_RUN_CACHED_WEIGHT_BYTES = 32 * 2 ** 20;
/** Beyond the cache, more weight bytes per multiply-add than this keep the op split (weightBound). */
const IMAGE_RUN_WEIGHT_BYTES_PER_MULTIPLY_ADD = 0.1;

/** How an image-parallel run cuts the batch: `runs` sub-batches of the sub-plan's size over `slots` threads. */
interface ImageRunCut {
  readonly sub: ExecutionPlan;
  readonly size: number;
  readonly runs: number;
  readonly slots: number;
}

/** Waits for every queued call (emptying the list) and throws the first failure among them. */
async function settleAll(queued: Promise<void>[]): Promise<void> {
  if (queued.length === 0) return;
  const results = await Promise.allSettled(queued.splice(0));
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
}

/** A plain copy of `length` floats. */
function densePlan(length: number): StridedCopyPlan {
  return { base: 0, dstBase: 0, axes: [{ extent: length, stride: 1, dstStride: 1 }], tables: [] };
}
