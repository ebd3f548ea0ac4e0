/**
 * One execution plan per distinct set of input shapes: every value's shape, the constants the
 * shape chains evaluate to, the steps that run, where each activation lives in the arena, and
 * the per-op rows of the summary. Plans are built on first use of a shape and cached, so a new
 * batch size costs one planning pass and no reload.
 */
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
  readonly bindings: Float32Array[];
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
  ) {
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
    return this.buildArena();
  }

  private buildArena(): Arena {
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
    const arena = pooled ?? this.buildArena();
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
   * Steps run one after another; each backend kernel may do its work off the main thread. On a
   * backend that orders calls by memory, a run of single-call steps (convs, pools, linears) is
   * queued at once and the backend chains them: no round trip through this thread per layer
   * (MobileNetV2 has 54 steps; each await cost ~35 us). Any other step waits for them first.
   */
  async run(inputs: readonly Float32Array[]): Promise<Float32Array[]> {
    const arena = await this.acquireArena();
    const queued: Promise<void>[] = [];
    try {
      const { buffers, outputs } = this.bind(arena, inputs);
      for (const step of this.steps) {
        const ins = step.inputIds.map((id) => buffers[id]);
        const outs = step.outputIds.map((id) => buffers[id]);
        const { execution } = step;
        if (this.backendOrdersCalls && execution.queuesOneCall && execution.run) {
          // No await until the next barrier, which attaches handlers to every queued call: a
          // failure cannot go unhandled in between.
          queued.push(execution.run(ins, outs));
          continue;
        }
        await settleAll(queued);
        if (execution.run) await execution.run(ins, outs);
        else execution.runSync(ins, outs);
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

/** Waits for every queued call (emptying the list) and throws the first failure among them. */
async function settleAll(queued: Promise<void>[]): Promise<void> {
  if (queued.length === 0) return;
  const results = await Promise.allSettled(queued.splice(0));
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
}
