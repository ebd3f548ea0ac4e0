/**
 * What every operator implementation provides. At load an op is built once from its node
 * (weights packed, attributes checked); for each distinct input shape it is planned once:
 * output shapes, constants it can compute without data, and the kernel closure that runs it.
 */
import type { Backend } from '../../backends/backend.js';
import type { ReceptiveField } from '../../planner/geometry.js';
import type { ConstTensor } from '../constant.js';
import type { OnnxNode } from '../decode.js';
import type { ResolvedLimits } from '../limits.js';

/** Receptive field of one value on the network input, where spatial structure survives. */
export type FieldInfo = ReceptiveField;

/** A value as the planner sees it for one input shape. */
export interface PlanValue {
  readonly shape: readonly number[];
  /** Present when the value is known without running the model. */
  readonly constant?: ConstTensor;
  readonly field: FieldInfo | null;
}

/** The runnable part of a planned op: reads its inputs' data, writes its outputs' data. */
export interface Execution {
  runSync(inputs: readonly Float32Array[], outputs: readonly Float32Array[]): void;
  /** Off the main thread where the backend can; defaults to runSync. */
  run?(inputs: readonly Float32Array[], outputs: readonly Float32Array[]): Promise<void>;
  /**
   * True when run() only queues backend kernel calls on these inputs and outputs (one, or a
   * few whose order the backend keeps by the memory they share: a squeeze-and-excitation gate,
   * the copies of a Split) and does nothing after them. On a backend that orders queued calls
   * by the memory they touch (see ExecutionPlan), the plan queues the next such step without
   * awaiting this one.
   */
  readonly queuesOneCall?: boolean;
}

export interface PlannedOp {
  readonly outputs: readonly PlanValue[];
  /** Absent when every output is a constant. */
  readonly execution?: Execution;
  /** Output 0 shares input 0's data (Reshape, Flatten ...): no kernel, no new buffer. */
  readonly aliasOfInput?: number;
  /** Multiply-adds for the whole batch (0 for ops that only move or compare data). */
  readonly multiplyAdds: number;
  /**
   * A Concat's layout: its output is `outer` runs, each holding `blocks[i]` floats of input i in
   * turn. With outer 1 every input is one contiguous slice, which the plan can have its producer
   * write in place (lib/onnx/concat-in-place.ts).
   */
  readonly concat?: { readonly outer: number; readonly blocks: readonly number[] };
  /**
   * The op combines values of different images (indices of axis 0) in a way the shapes do not
   * show (a Softmax over axis 0, a ScatterND at constant indices): the plan then never runs the
   * batch as separate sub-batches (lib/onnx/plan.ts, image-parallel runs).
   */
  readonly mixesImages?: boolean;
}

/** An op built from one (possibly fused) node. */
export interface CompiledOp {
  /** The node name rows and errors use. */
  readonly name: string;
  /** The op type, with fused ops joined: 'Conv+BatchNormalization+Relu'. */
  readonly type: string;
  /** Names of the values it reads ('' for an omitted optional input) and writes. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Learnable parameters it holds. */
  readonly params: number;
  plan(inputs: ReadonlyArray<PlanValue | null>): PlannedOp;
}

/**
 * The name, type, inputs, outputs and parameter count most CompiledOps start from: the node's
 * first `runtimeInputs` inputs (the rest were read as constants at build time) and first
 * `outputs` outputs.
 */
export function nodeBasics(node: OnnxNode, runtimeInputs = node.inputs.length, outputs = node.outputs.length, params = 0) {
  return { name: node.name, type: node.opType, inputs: node.inputs.slice(0, runtimeInputs), outputs: node.outputs.slice(0, outputs), params };
}

/** What an op builder may use at load. */
export interface BuildContext {
  readonly node: OnnxNode;
  readonly opset: number;
  readonly backend: Backend;
  /** Constants known at load (initializers and folded values). */
  constantOf(name: string): ConstTensor | undefined;
  /** Size limits checked before an op allocates anything (default DEFAULT_LIMITS). */
  readonly limits?: ResolvedLimits;
  /**
   * loadOnnx's maxPackedWeightBytes, as the bytes still free beyond every conv's compact form;
   * a conv that takes a larger form subtracts its extra bytes. Absent: no limit.
   */
  readonly weightBudget?: { extraBytes: number };
  /**
   * Tells the loader the op will not read these weight arrays again (a kernel packed its own
   * copy), so their memory can be freed (lib/onnx/model-kernels.ts). Absent outside a load.
   */
  unreadWeights?(...arrays: ReadonlyArray<Float32Array | null | undefined>): void;
  /**
   * Names initializers the op read into a prepared kernel and never reads again: the loader drops
   * those no other node reads from the model's constants (a conv's are dropped by its fusion item).
   */
  packedInitializers?(...names: ReadonlyArray<string | undefined>): void;
  /** Names arrays the op reads again after its kernel is prepared: never freed (see unreadWeights). */
  keepsWeights?(...arrays: ReadonlyArray<Float32Array | null | undefined>): void;
}
