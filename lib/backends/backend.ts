/**
 * The contract between layers and the code that runs them. A backend turns a layer's static
 * description (weights, kernel, stride, fused activation ...) into a prepared kernel once, then
 * runs it many times over caller-owned Float32Arrays: inputs are read and outputs written in
 * place, never copied. Geometry always comes from lib/planner/geometry.ts.
 */
import type { ConvGeometry, PoolGeometry, PoolKind } from '../planner/geometry.js';
import type { ConvPlan } from '../planner/conv-plan.js';

export type BackendName = 'js' | 'native' | 'wasm';

import type { Activation } from '../activation.js';
import type { BinaryOp, ChannelAffine } from '../kernels/elementwise.js';
import type { GroupShape, LayerNormParams } from '../kernels/layernorm.js';
import type { ResizePlan } from '../kernels/resize.js';
import type { Col2imPlan } from '../kernels/col2im.js';

// The activation's one definition lives at the bottom of the house; re-exported for backends.
export type { Activation, ActivationKind } from '../activation.js';
export { NO_ACTIVATION } from '../activation.js';
export type { BinaryOp, ChannelAffine } from '../kernels/elementwise.js';
export type { GroupShape, LayerNormParams } from '../kernels/layernorm.js';
export type { Col2imPlan } from '../kernels/col2im.js';

export type { ConvAlgorithm, ConvPlan } from '../planner/conv-plan.js';

// What a conv / linear kernel is prepared from: defined beside the pure-JS kernels that read them.
export type { ConvWeights, LinearWeights } from '../kernels/weights.js';
import type { ConvWeights, LinearWeights } from '../kernels/weights.js';
export type { SqueezeExciteLayer, SqueezeExciteWeights } from '../kernels/squeeze-excite.js';
import type { SqueezeExciteWeights } from '../kernels/squeeze-excite.js';

/** A prepared convolution: weights are packed once, `run` may be called concurrently. */
export interface ConvKernel {
  /** The algorithm chosen at prepare and the packed bytes it costs (absent on custom backends). */
  readonly plan?: ConvPlan;
  /**
   * input: N x Cin x H x W, output: N x Cout x outH x outW, residual (optional): same shape as
   * output, added before the activation (a ResNet shortcut).
   */
  runSync(input: Float32Array, geometry: ConvGeometry, output: Float32Array, residual?: Float32Array | null): void;
  /** The same, off the JS main thread where the backend can (native); resolves when output is written. */
  run(input: Float32Array, geometry: ConvGeometry, output: Float32Array, residual?: Float32Array | null): Promise<void>;
  /**
   * Releases the packed weights now instead of at GC (runs already started finish first); any
   * later call is a DisposedError. Idempotent. Absent on custom backends that hold nothing.
   */
  dispose?(): void;
}

export interface LinearKernel {
  /** input: batch x inFeatures, output: batch x outFeatures. */
  runSync(input: Float32Array, batch: number, output: Float32Array): void;
  run(input: Float32Array, batch: number, output: Float32Array): Promise<void>;
  /** As ConvKernel.dispose. */
  dispose?(): void;
}

/** A prepared squeeze-and-excitation block (lib/kernels/squeeze-excite.ts): squeeze, gate and scale in one call. */
export interface SqueezeExciteKernel {
  /** input, output: batch x channels x plane (H x W); output may be input itself. */
  runSync(input: Float32Array, batch: number, plane: number, output: Float32Array): void;
  run(input: Float32Array, batch: number, plane: number, output: Float32Array): Promise<void>;
  /** As ConvKernel.dispose. */
  dispose?(): void;
}

/** A kernel whose weights are being packed off the JS thread: usable once `ready` resolved. */
export interface PackingKernel<Kernel> {
  readonly kernel: Kernel;
  /** Resolves when the weights are packed; rejects with the typed error packing met. */
  readonly ready: Promise<void>;
}

// The pooling window's geometry lives with the conv window's, in the planner.
export type { PoolGeometry, PoolKind } from '../planner/geometry.js';

/**
 * A strided copy (Transpose, Slice, Gather, Split, Concat): output[dstBase + sum i_k dstStride_k]
 * = input[base + sum i_k stride_k] (or tables[k][i_k] in place of i_k stride_k) for every index.
 */
export interface StridedCopyPlan {
  readonly base: number;
  readonly dstBase: number;
  readonly axes: ReadonlyArray<{ readonly extent: number; readonly stride: number; readonly dstStride: number }>;
  readonly tables: ReadonlyArray<Int32Array | undefined>;
}

/** Calls recorded by Backend.recordCalls. */
export interface RecordedCalls {
  readonly recorded: Promise<void>;
  run(): Promise<void>;
  /** The backend's handle of the recording (native: what ImageRuns.replay takes). */
  readonly handle?: object;
}

/** One recorded run of a sub-batch plan: its calls and the buffers they read inputs from / write outputs into. */
export interface ImageRunSlot {
  readonly calls: RecordedCalls;
  readonly inputs: readonly Float32Array[];
  readonly outputs: readonly Float32Array[];
}

/**
 * Image-parallel runs (native; native/napi/image_runs.h): a batch as `runs` sub-batches spread
 * over the pool's threads, each slot's recording replayed whole on one thread, no per-op join.
 */
export interface ImageRuns {
  /** The pool's threads now (setNumThreads). */
  threads(): number;
  /** 0: off (CONVNODE_IMAGE_PARALLEL=0), 1: one image per sub-batch, 2: batch / threads images. */
  mode(): number;
  /** One job: sub-batch j of every input is copied into a slot, its recording replayed, its outputs copied out. */
  replay(slots: readonly ImageRunSlot[], inputs: readonly Float32Array[], outputs: readonly Float32Array[], runs: number): Promise<void>;
}

export interface Backend {
  readonly name: BackendName;
  /**
   * True when calls started without awaiting the previous ones still take effect in call order
   * wherever they share memory (a later call that reads an earlier call's output waits for it).
   * Graph runtimes then queue consecutive kernels and await once, instead of once per kernel.
   */
  readonly ordersQueuedCalls: boolean;
  /**
   * Runs `enqueue`, which starts async calls without awaiting them; the backend may then run
   * those calls as one job (native: one hop off the JS thread and one back for all of them,
   * instead of one per call that finds its predecessor already done). Absent: calls run as started.
   */
  batchCalls?(enqueue: () => void): void;
  /**
   * Records the async calls `enqueue` starts (it returns their promises) without running them;
   * `run()` then runs them all, in order, as one call, as often as wanted, on the same arrays.
   * `recorded` settles once every call was recorded, rejecting like the call that failed to be.
   * Absent: the backend cannot record (the JS backend).
   */
  recordCalls?(enqueue: () => Promise<void>[]): RecordedCalls;
  /** Absent: batches run op by op (every backend but native). */
  readonly imageRuns?: ImageRuns;
  prepareConv2d(weights: ConvWeights): ConvKernel;
  prepareLinear(weights: LinearWeights): LinearKernel;
  /**
   * Optional: a squeeze-and-excitation block as one kernel call (absent: the ONNX step runs the
   * global pool, both gate layers and the channel scale as separate calls).
   */
  prepareSqueezeExcite?(weights: SqueezeExciteWeights): SqueezeExciteKernel;
  /**
   * Optional: the same kernels, their weights packed on another thread while the event loop
   * runs (loadOnnx uses them). The kernel refuses calls until `ready` resolved.
   */
  prepareConv2dOffThread?(weights: ConvWeights): PackingKernel<ConvKernel>;
  prepareLinearOffThread?(weights: LinearWeights): PackingKernel<LinearKernel>;
  /**
   * Frees an array's memory now, leaving it empty (its ArrayBuffer detached), and returns true;
   * false, freeing nothing, when the array shares its buffer with other data or the buffer cannot
   * be detached. Only a backend whose kernels pack their own copy of the weights has it (native):
   * the loader gives it the file bytes it read and the weight copies no one reads once packed.
   */
  freeArray?(array: ArrayBufferView): boolean;
  /** input: N x C x H x W, output: N x C x outH x outW. */
  pool2dSync(input: Float32Array, geometry: PoolGeometry, output: Float32Array): void;
  pool2d(input: Float32Array, geometry: PoolGeometry, output: Float32Array): Promise<void>;
  /** Reduces each of batch*channels planes of `plane` values to one value. */
  globalPool2dSync(input: Float32Array, kind: PoolKind, planes: number, plane: number, output: Float32Array): void;
  globalPool2d(input: Float32Array, kind: PoolKind, planes: number, plane: number, output: Float32Array): Promise<void>;

  // The element-wise engine: what is not fused into a conv / Gemm epilogue runs here.
  /** output = act(input), element by element; output may be input. */
  unarySync(input: Float32Array, output: Float32Array, activation: Activation): void;
  unary(input: Float32Array, output: Float32Array, activation: Activation): Promise<void>;
  /** output = act(a op b) under numpy broadcasting; outShape is the broadcast of aShape and bShape. */
  binarySync(op: BinaryOp, a: Float32Array, aShape: readonly number[], b: Float32Array, bShape: readonly number[],
    output: Float32Array, outShape: readonly number[], activation?: Activation): void;
  binary(op: BinaryOp, a: Float32Array, aShape: readonly number[], b: Float32Array, bShape: readonly number[],
    output: Float32Array, outShape: readonly number[], activation?: Activation): Promise<void>;
  /** Per-channel (or per image and channel) scale and shift, then the activation: see ChannelAffine. */
  channelAffineSync(input: Float32Array, affine: ChannelAffine, output: Float32Array): void;
  channelAffine(input: Float32Array, affine: ChannelAffine, output: Float32Array): Promise<void>;

  /**
   * A planned strided copy (absent: the caller copies in JS). Native: the async form is one more
   * queued call, so data movement does not stop a model's chain of kernels.
   */
  stridedCopySync?(input: Float32Array, plan: StridedCopyPlan, output: Float32Array): void;
  stridedCopy?(input: Float32Array, plan: StridedCopyPlan, output: Float32Array): Promise<void>;
  /**
   * Resize / Upsample of NCHW planes from per-axis tables (lib/kernels/resize.ts; absent: the
   * caller runs the pure-JS kernel). output must not overlap input.
   */
  resizeSync?(input: Float32Array, plan: ResizePlan, output: Float32Array): void;
  resize?(input: Float32Array, plan: ResizePlan, output: Float32Array): Promise<void>;
  /**
   * ConvTranspose's col2im: the GEMM's footprint planes (N x C x KH x KW x inH x inW) added into
   * the output planes, bias first (lib/kernels/col2im.ts; absent: the caller runs that kernel).
   * output must not overlap cols or bias.
   */
  col2imSync?(cols: Float32Array, bias: Float32Array | null, output: Float32Array, plan: Col2imPlan): void;
  col2im?(cols: Float32Array, bias: Float32Array | null, output: Float32Array, plan: Col2imPlan): Promise<void>;

  /**
   * Batched MatMul, both operands at run time: output[t] = act(a[t] x b[t]) for every index t of
   * the broadcast leading dimensions (numpy.matmul). aShape [..., m, k] and bShape [..., k, n]
   * have rank 2 or more; output holds [...broadcast batch, m, n] and must not overlap a or b.
   */
  matMulSync(a: Float32Array, aShape: readonly number[], b: Float32Array, bShape: readonly number[],
    output: Float32Array, activation?: Activation): void;
  matMul(a: Float32Array, aShape: readonly number[], b: Float32Array, bShape: readonly number[],
    output: Float32Array, activation?: Activation): Promise<void>;

  /**
   * Normalisations over the outer x inner groups of `length` values, `inner` floats apart, of a
   * dense [outer, length, inner] view (lib/kernels/layernorm.ts). output may be input.
   */
  layerNormSync(input: Float32Array, output: Float32Array, params: LayerNormParams): void;
  layerNorm(input: Float32Array, output: Float32Array, params: LayerNormParams): Promise<void>;
  /** Softmax of each group: exp(x - max) / sum. */
  softmaxSync(input: Float32Array, output: Float32Array, groups: GroupShape): void;
  softmax(input: Float32Array, output: Float32Array, groups: GroupShape): Promise<void>;
}
