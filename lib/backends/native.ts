/**
 * The native backend: the C++ addon (native/) behind the Backend contract. The binary is found
 * by node-gyp-build and loaded once per JS environment: a local build (build/Release, made by
 * `npm rebuild convnode` or in a checkout) wins over prebuilds/, so an explicit rebuild takes effect;
 * an installed package has no build/ and loads its prebuilt binary.
 * Every call hands the caller's Float32Arrays straight to C++ (no copies); the addon re-checks
 * every length and dimension itself and throws a TypeError / RangeError naming the argument.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { checkActivation, NO_ACTIVATION, resolveActivation } from '../activation.js';
import { planConvAlgorithm, type ConvAlgorithm } from '../planner/conv-plan.js';
import { BackendError, DisposedError, ParameterError, ShapeError } from '../errors.js';
import { BINARY_FUNCTIONS } from '../kernels/elementwise.js';
import { broadcastShapes } from '../kernels/broadcast.js';
import { expectLength } from '../kernels/checks.js';
import { planMatMul } from '../kernels/matmul.js';
import { checkSqueezeExciteWeights, type SqueezeExciteWeights } from '../kernels/squeeze-excite.js';
import { checkGroupShape, checkLayerNormParams, type GroupShape, type LayerNormParams } from '../kernels/layernorm.js';
import type { ResizePlan } from '../kernels/resize.js';
import type { Col2imPlan } from '../kernels/col2im.js';
import type { ConvGeometry } from '../planner/geometry.js';
import { runHoldingArrays } from './native-memory.js';
import type {
  Activation,
  Backend,
  BinaryOp,
  ChannelAffine,
  ConvKernel,
  ConvWeights,
  ImageRuns,
  LinearKernel,
  LinearWeights,
  PackingKernel,
  PoolGeometry,
  PoolKind,
  SqueezeExciteKernel,
  StridedCopyPlan,
} from './backend.js';

/** Instruction-set paths the addon can run. */
export type IsaName = 'avx512' | 'avx2' | 'neon' | 'scalar';

/** What Conv2d and Linear objects share: packing later (packLater), and release. */
interface NativePacked {
  /** packLater only: resolves when the packing job finished, well or not. */
  pack(): Promise<void>;
  /** Installs the packed weights, or throws the error packing met (as the constructor would). */
  finishPack(): void;
  /** Frees the packed weights now; later calls throw. */
  release(): void;
}

interface NativeConv extends NativePacked {
  runSync(input: Float32Array, geometry: ConvGeometry, output: Float32Array, residual: Float32Array | null): void;
  run(input: Float32Array, geometry: ConvGeometry, output: Float32Array, residual: Float32Array | null): Promise<void>;
  describe(): { isa: IsaName; depthwise: boolean; algorithm: ConvAlgorithm; packedBytes: number };
}

interface NativeLinear extends NativePacked {
  runSync(input: Float32Array, batch: number, output: Float32Array): void;
  run(input: Float32Array, batch: number, output: Float32Array): Promise<void>;
}

interface NativeSqueezeExcite {
  runSync(input: Float32Array, batch: number, plane: number, output: Float32Array): void;
  run(input: Float32Array, batch: number, plane: number, output: Float32Array): Promise<void>;
  /** Frees the packed gate weights now; later calls throw. */
  release(): void;
}

/** Every parameter resolved (defaults filled in), so C++ holds no second copy of the defaults. */
export interface NativeActivationOptions {
  activation: Activation['kind'];
  alpha: number;
  beta: number;
  min: number;
  max: number;
}

/** channelAffine's parameters as the addon reads them: the shape, the arrays, the resolved activation. */
export interface NativeAffineParams extends NativeActivationOptions {
  batch: number;
  channels: number;
  plane: number;
  scale: Float32Array | null;
  shift: Float32Array | null;
}

/** What the .node binary exports (see native/napi/addon.cc). */
interface NativeAddon {
  Conv2d: new (
    weight: Float32Array,
    bias: Float32Array | null,
    options: NativeActivationOptions & {
      inChannels: number; outChannels: number; groups: number; kernelH: number; kernelW: number;
      strideH: number; strideW: number; dilationH: number; dilationW: number; algorithm: ConvAlgorithm;
      packLater?: boolean;
    },
  ) => NativeConv;
  Linear: new (
    weight: Float32Array,
    bias: Float32Array | null,
    options: NativeActivationOptions & { inFeatures: number; outFeatures: number; packLater?: boolean },
  ) => NativeLinear;
  SqueezeExcite?: new (
    reduceWeight: Float32Array,
    reduceBias: Float32Array | null,
    expandWeight: Float32Array,
    expandBias: Float32Array | null,
    options: { channels: number; hidden: number; reduce: NativeActivationOptions; expand: NativeActivationOptions },
  ) => NativeSqueezeExcite;
  pool2dSync(input: Float32Array, geometry: PoolGeometry, output: Float32Array): void;
  pool2d(input: Float32Array, geometry: PoolGeometry, output: Float32Array): Promise<void>;
  globalPool2dSync(input: Float32Array, kind: PoolKind, planes: number, plane: number, output: Float32Array): void;
  globalPool2d(input: Float32Array, kind: PoolKind, planes: number, plane: number, output: Float32Array): Promise<void>;
  unarySync(input: Float32Array, output: Float32Array, options: NativeActivationOptions): void;
  unary(input: Float32Array, output: Float32Array, options: NativeActivationOptions): Promise<void>;
  binarySync(op: BinaryOp, a: Float32Array, aShape: readonly number[], b: Float32Array, bShape: readonly number[],
    output: Float32Array, outShape: readonly number[], options: NativeActivationOptions): void;
  binary(op: BinaryOp, a: Float32Array, aShape: readonly number[], b: Float32Array, bShape: readonly number[],
    output: Float32Array, outShape: readonly number[], options: NativeActivationOptions): Promise<void>;
  channelAffineSync(input: Float32Array, params: NativeAffineParams, output: Float32Array): void;
  channelAffine(input: Float32Array, params: NativeAffineParams, output: Float32Array): Promise<void>;
  stridedCopySync(input: Float32Array, output: Float32Array, plan: StridedCopyPlan): void;
  stridedCopy(input: Float32Array, output: Float32Array, plan: StridedCopyPlan): Promise<void>;
  beginBatch(): void;
  endBatch(): void;
  beginRecord(): void;
  endRecord(): object;
  replay(recording: object): Promise<void>;
  /** Absent from addons built before image-parallel runs (session 9). */
  replayImages?(slots: ReadonlyArray<{ recording: object; inputs: readonly Float32Array[]; outputs: readonly Float32Array[] }>,
    inputs: readonly Float32Array[], outputs: readonly Float32Array[], runs: number): Promise<void>;
  imageRunsMode?(): number;
  setImageRunsMode?(mode: number): void;
  failImageRunForTest?(index: number): void;
  matMulSync(a: Float32Array, aShape: readonly number[], b: Float32Array, bShape: readonly number[],
    output: Float32Array, options: NativeActivationOptions): void;
  matMul(a: Float32Array, aShape: readonly number[], b: Float32Array, bShape: readonly number[],
    output: Float32Array, options: NativeActivationOptions): Promise<void>;
  layerNormSync(input: Float32Array, output: Float32Array, params: LayerNormParams): void;
  layerNorm(input: Float32Array, output: Float32Array, params: LayerNormParams): Promise<void>;
  softmaxSync(input: Float32Array, output: Float32Array, groups: GroupShape): void;
  softmax(input: Float32Array, output: Float32Array, groups: GroupShape): Promise<void>;
  resizeSync(input: Float32Array, output: Float32Array, plan: ResizePlan): void;
  resize(input: Float32Array, output: Float32Array, plan: ResizePlan): Promise<void>;
  col2imSync(cols: Float32Array, bias: Float32Array | null, output: Float32Array, plan: Col2imPlan): void;
  col2im(cols: Float32Array, bias: Float32Array | null, output: Float32Array, plan: Col2imPlan): Promise<void>;
  getIsa(): IsaName;
  setIsa(name: string): void;
  availableIsas(): IsaName[];
  setNumThreads(n: number): void;
  getNumThreads(): number;
  measurePeakGflops(): number;
  freeArrayBuffer(buffer: ArrayBuffer): boolean;
}

/** The package root: this file is lib/backends/native.ts or dist/backends/native.js. */
const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

let addon: NativeAddon | Error | undefined;
let backend: Backend | undefined;

function loadAddon(): NativeAddon | Error {
  if (addon !== undefined) return addon;
  try {
    const require = createRequire(import.meta.url);
    // CONVNODE_ADDON_PATH loads one given binary instead (the fuzzer's sanitizer build).
    const forced = process.env.CONVNODE_ADDON_PATH;
    if (forced) {
      addon = require(path.resolve(forced)) as NativeAddon;
    } else {
      const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;
      addon = nodeGypBuild(PACKAGE_ROOT) as NativeAddon;
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    // A refused CONVNODE_ISA comes from a binary that did load: rebuilding would not help.
    const advice = reason.startsWith('CONVNODE_ISA') ? '' : '; to get the native kernels, install with install scripts allowed or run `npm rebuild convnode` (`npm run build:native` in a checkout)';
    addon = new Error(`could not load the convnode addon from ${PACKAGE_ROOT} (${reason})${advice}`);
  }
  return addon;
}

function requireAddon(what: string): NativeAddon {
  const loaded = loadAddon();
  if (loaded instanceof Error) throw new BackendError(`${what}: ${loaded.message}`);
  return loaded;
}

function activationOptions(activation: Activation): NativeActivationOptions {
  const { kind, alpha, beta, min, max } = resolveActivation(activation);
  return { activation: kind, alpha, beta, min, max };
}

/** unary's argument rules (the pure-JS kernel's): arrays, a known activation, room in output. */
export function checkUnary(input: Float32Array, output: Float32Array, activation: Activation): void {
  checkFloat32(input, 'input', 'unary');
  checkFloat32(output, 'output', 'unary');
  checkActivation(activation, 'unary');
  if (output.length < input.length) throw new ShapeError(`unary: output holds ${output.length} values, needs ${input.length}`);
}

export function checkBinary(
  op: BinaryOp, a: Float32Array, aShape: readonly number[], b: Float32Array, bShape: readonly number[],
  output: Float32Array, outShape: readonly number[], activation: Activation | undefined,
): void {
  if (!Object.hasOwn(BINARY_FUNCTIONS, op)) {
    throw new ParameterError(`binary: op must be one of ${Object.keys(BINARY_FUNCTIONS).join(', ')}, got ${JSON.stringify(op)}`);
  }
  const owner = `binary ${op}`;
  checkFloat32(a, 'a', owner);
  checkFloat32(b, 'b', owner);
  checkFloat32(output, 'output', owner);
  if (activation !== undefined) checkActivation(activation, owner);
  const expected = broadcastShapes(aShape, bShape, owner);
  if (expected.length !== outShape.length || expected.some((d, i) => d !== outShape[i])) {
    throw new ShapeError(`${owner}: outShape [${outShape.join(', ')}] must be the broadcast of aShape [${aShape.join(', ')}] and bShape [${bShape.join(', ')}], which is [${expected.join(', ')}]`);
  }
  const needs = (shape: readonly number[]) => shape.reduce((x, y) => x * y, 1);
  for (const [name, array, shape] of [['a', a, aShape], ['b', b, bShape], ['output', output, outShape]] as const) {
    if (array.length < needs(shape)) throw new ShapeError(`${owner}: ${name} holds ${array.length} values, needs ${needs(shape)}`);
  }
}

export function affineParams(input: Float32Array, affine: ChannelAffine, output: Float32Array): NativeAffineParams {
  checkFloat32(input, 'input', 'channelAffine');
  checkFloat32(output, 'output', 'channelAffine');
  for (const [name, value] of [['scale', affine.scale], ['shift', affine.shift]] as const) {
    if (value !== null && !(value instanceof Float32Array)) throw new ParameterError(`channelAffine: ${name} must be a Float32Array or null`);
  }
  for (const [name, value] of [['batch', affine.batch], ['channels', affine.channels], ['plane', affine.plane]] as const) {
    if (!Number.isInteger(value) || value < 0) throw new ParameterError(`channelAffine: ${name} must be a non-negative integer, got ${value}`);
  }
  checkActivation(affine.activation, 'channelAffine');
  return {
    batch: affine.batch,
    channels: affine.channels,
    plane: affine.plane,
    scale: affine.scale,
    shift: affine.shift,
    ...activationOptions(affine.activation),
  };
}

export function checkFloat32(array: unknown, name: string, owner: string): void {
  if (!(array instanceof Float32Array)) throw new ParameterError(`${owner}: ${name} must be a Float32Array`);
}

/** The addon's TypeError / RangeError (bad lengths, overlapping arrays) as our typed errors. */
function nativeErrors<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    if (error instanceof RangeError) throw new ShapeError(error.message);
    if (error instanceof TypeError) throw new ParameterError(error.message);
    throw error;
  }
}

/**
 * A prepared native object's life: 'packing' (packLater, until its job finished), 'ready',
 * 'disposed'. Calls outside 'ready' are typed errors here, before the addon sees them.
 */
class KernelLife {
  state: 'packing' | 'ready' | 'disposed';
  constructor(
    private readonly what: string,
    private readonly object: NativePacked,
    packLater: boolean,
  ) {
    this.state = packLater ? 'packing' : 'ready';
  }

  /** Throws unless the kernel may run. */
  check(method: string): void {
    if (this.state === 'ready') return;
    if (this.state === 'disposed') throw new DisposedError(`${this.what}.${method}: this kernel was disposed; its packed weights are released`);
    throw new BackendError(`${this.what}.${method}: its weights are still being packed (await the kernel's ready promise first)`);
  }

  /** packLater: waits for the packing job, then installs its result on this thread. */
  async finish(): Promise<void> {
    try {
      await this.object.pack();
    } catch (error) {
      // The job was cancelled (its environment is being torn down): nothing was packed.
      this.dispose();
      throw new BackendError(`${this.what}: packing did not run (${(error as Error).message})`);
    }
    if (this.state === 'disposed') return; // released while packing: the job's result is dropped
    try {
      nativeErrors(() => this.object.finishPack());
    } catch (error) {
      this.dispose();
      throw error instanceof Error && 'code' in error ? error : new BackendError(`${this.what}: ${(error as Error).message}`);
    }
    this.state = 'ready';
  }

  dispose(): void {
    if (this.state === 'disposed') return;
    this.state = 'disposed';
    this.object.release();
  }
}

function prepareConv(native: NativeAddon, weights: ConvWeights, packLater: boolean): PackingKernel<ConvKernel> {
  // The one rule (lib/planner/conv-plan.ts) picks the algorithm for the ISA new convs are
  // prepared for; the addon checks it computes this conv and packs that form only.
  const stride = weights.stride ?? [1, 1];
  const dilation = weights.dilation ?? [1, 1];
  const plan = planConvAlgorithm(
    { ...weights, stride, dilation },
    native.getIsa(),
    { algorithm: weights.algorithm, maxPackedBytes: weights.maxPackedBytes },
    (weights.bias ?? null) !== null,
  );
  const conv = new native.Conv2d(weights.weight, weights.bias, {
    inChannels: weights.inChannels,
    outChannels: weights.outChannels,
    groups: weights.groups,
    kernelH: weights.kernelH,
    kernelW: weights.kernelW,
    strideH: stride[0],
    strideW: stride[1],
    dilationH: dilation[0],
    dilationW: dilation[1],
    algorithm: plan.algorithm,
    packLater,
    ...activationOptions(weights.activation),
  });
  const life = new KernelLife('Conv2d kernel', conv, packLater);
  const kernel: ConvKernel = {
    plan,
    runSync: (input, geometry, output, residual) => {
      life.check('runSync');
      conv.runSync(input, geometry, output, residual ?? null);
    },
    // async: argument errors thrown while queueing become rejections, like kernel errors.
    run: async (input, geometry, output, residual) => {
      life.check('run');
      return runHoldingArrays({ input, output, residual }, () => conv.run(input, geometry, output, residual ?? null));
    },
    dispose: () => life.dispose(),
  };
  return { kernel, ready: packLater ? life.finish() : Promise.resolve() };
}

function prepareLinear(native: NativeAddon, weights: LinearWeights, packLater: boolean): PackingKernel<LinearKernel> {
  const linear = new native.Linear(weights.weight, weights.bias, {
    inFeatures: weights.inFeatures,
    outFeatures: weights.outFeatures,
    packLater,
    ...activationOptions(weights.activation),
  });
  const life = new KernelLife('Linear kernel', linear, packLater);
  const kernel: LinearKernel = {
    runSync: (input, batch, output) => {
      life.check('runSync');
      linear.runSync(input, batch, output);
    },
    run: async (input, batch, output) => {
      life.check('run');
      return runHoldingArrays({ input, output }, () => linear.run(input, batch, output));
    },
    dispose: () => life.dispose(),
  };
  return { kernel, ready: packLater ? life.finish() : Promise.resolve() };
}

/**
 * A squeeze-and-excitation block as one addon call (native/ops/squeeze_excite.h). The weights
 * are checked by the pure-JS kernel's rules first, so both backends refuse the same blocks alike.
 */
function prepareSqueezeExcite(native: NativeAddon, SqueezeExcite: NonNullable<NativeAddon['SqueezeExcite']>,
  weights: SqueezeExciteWeights): SqueezeExciteKernel {
  checkSqueezeExciteWeights(weights);
  const block = nativeErrors(() => new SqueezeExcite(weights.reduce.weight, weights.reduce.bias, weights.expand.weight, weights.expand.bias, {
    channels: weights.channels,
    hidden: weights.hidden,
    reduce: activationOptions(weights.reduce.activation),
    expand: activationOptions(weights.expand.activation),
  }));
  let disposed = false;
  const check = (method: string): void => {
    if (disposed) throw new DisposedError(`SqueezeExcite kernel.${method}: this kernel was disposed; its packed weights are released`);
  };
  return {
    runSync: (input, batch, plane, output) => {
      check('runSync');
      checkFloat32(input, 'input', 'squeezeExcite');
      checkFloat32(output, 'output', 'squeezeExcite');
      nativeErrors(() => block.runSync(input, batch, plane, output));
    },
    run: async (input, batch, plane, output) => {
      check('run');
      checkFloat32(input, 'input', 'squeezeExcite');
      checkFloat32(output, 'output', 'squeezeExcite');
      return runHoldingArrays({ input, output }, () => nativeErrors(() => block.run(input, batch, plane, output)));
    },
    dispose: () => {
      if (disposed) return;
      disposed = true;
      block.release();
    },
  };
}

function nativeImageRuns(native: NativeAddon): ImageRuns {
  return {
    threads: () => native.getNumThreads(),
    mode: () => native.imageRunsMode!(),
    // A sub-batch's failure fails the whole run, as a BackendError naming it.
    replay: (slots, inputs, outputs, runs) =>
      native.replayImages!(slots.map((slot) => ({ recording: slot.calls.handle!, inputs: slot.inputs, outputs: slot.outputs })), inputs, outputs, runs)
        .catch((error: unknown) => {
          throw new BackendError(`image-parallel run (${runs} sub-batches over ${slots.length} threads): ${error instanceof Error ? error.message : String(error)}`);
        }),
  };
}

function makeBackend(native: NativeAddon): Backend {
  const SqueezeExcite = native.SqueezeExcite;
  return {
    name: 'native',
    // The addon chains a job after every earlier unfinished job it conflicts with (native/napi/async_job.h).
    ordersQueuedCalls: true,
    batchCalls(enqueue) {
      native.beginBatch();
      try {
        enqueue();
      } finally {
        native.endBatch();
      }
    },
    recordCalls(enqueue) {
      native.beginRecord();
      let promises: Promise<void>[] = [];
      let recording: object;
      try {
        promises = enqueue();
      } finally {
        recording = native.endRecord();
      }
      const recorded = Promise.allSettled(promises).then((results) => {
        const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failure) throw failure.reason;
      });
      return { recorded, run: () => native.replay(recording), handle: recording };
    },
    ...(native.replayImages ? { imageRuns: nativeImageRuns(native) } : {}),
    prepareConv2d: (weights) => prepareConv(native, weights, false).kernel,
    prepareLinear: (weights) => prepareLinear(native, weights, false).kernel,
    prepareConv2dOffThread: (weights) => prepareConv(native, weights, true),
    prepareLinearOffThread: (weights) => prepareLinear(native, weights, true),
    // An addon built before the op existed has no class: the ONNX step then makes separate calls.
    ...(SqueezeExcite ? { prepareSqueezeExcite: (weights: SqueezeExciteWeights) => prepareSqueezeExcite(native, SqueezeExcite, weights) } : {}),
    // Whole buffers only: a view's neighbours in the same buffer may still be read.
    freeArray: (array) =>
      array.buffer instanceof ArrayBuffer && array.byteOffset === 0 && array.byteLength === array.buffer.byteLength && array.byteLength > 0 &&
      native.freeArrayBuffer(array.buffer),
    pool2dSync: (input, geometry, output) => native.pool2dSync(input, geometry, output),
    pool2d: async (input, geometry, output) => runHoldingArrays({ input, output }, () => native.pool2d(input, geometry, output)),
    globalPool2dSync: (input, kind, planes, plane, output) => native.globalPool2dSync(input, kind, planes, plane, output),
    globalPool2d: async (input, kind, planes, plane, output) =>
      runHoldingArrays({ input, output }, () => native.globalPool2d(input, kind, planes, plane, output)),
    // The element-wise engine (native/ops/elementwise.cc). Arguments are checked in JS first (the
    // pure-JS kernels' rules and messages, so both backends refuse the same calls alike); the
    // addon checks them again and converts nothing itself.
    unarySync: (input, output, activation) => {
      checkUnary(input, output, activation);
      nativeErrors(() => native.unarySync(input, output, activationOptions(activation)));
    },
    unary: async (input, output, activation) => {
      checkUnary(input, output, activation);
      return runHoldingArrays({ input, output }, () => nativeErrors(() => native.unary(input, output, activationOptions(activation))));
    },
    binarySync: (op, a, aShape, b, bShape, output, outShape, activation) => {
      checkBinary(op, a, aShape, b, bShape, output, outShape, activation);
      nativeErrors(() => native.binarySync(op, a, aShape, b, bShape, output, outShape, activationOptions(activation ?? NO_ACTIVATION)));
    },
    binary: async (op, a, aShape, b, bShape, output, outShape, activation) => {
      checkBinary(op, a, aShape, b, bShape, output, outShape, activation);
      const options = activationOptions(activation ?? NO_ACTIVATION);
      return runHoldingArrays({ a, b, output }, () => nativeErrors(() => native.binary(op, a, aShape, b, bShape, output, outShape, options)));
    },
    channelAffineSync: (input, affine, output) => {
      const params = affineParams(input, affine, output);
      nativeErrors(() => native.channelAffineSync(input, params, output));
    },
    channelAffine: async (input, affine, output) => {
      const params = affineParams(input, affine, output);
      return runHoldingArrays({ input, output, scale: affine.scale, shift: affine.shift }, () =>
        nativeErrors(() => native.channelAffine(input, params, output)));
    },
    // The addon checks every offset the plan can reach against both arrays' lengths.
    stridedCopySync: (input, plan, output) => nativeErrors(() => native.stridedCopySync(input, output, plan)),
    stridedCopy: async (input, plan, output) =>
      runHoldingArrays({ input, output }, () => nativeErrors(() => native.stridedCopy(input, output, plan))),
    // Batched MatMul on the GEMM driver (native/ops/matmul.cc); shapes are checked in JS first
    // with the pure-JS kernel's rules and messages.
    matMulSync: (a, aShape, b, bShape, output, activation) => {
      const options = matMulOptions(a, aShape, b, bShape, output, activation);
      nativeErrors(() => native.matMulSync(a, aShape, b, bShape, output, options));
    },
    // Normalisations (native/ops/normalize.cc), checked in JS first with the pure-JS rules.
    layerNormSync: (input, output, params) => {
      checkLayerNormParams(input, output, params);
      nativeErrors(() => native.layerNormSync(input, output, params));
    },
    layerNorm: async (input, output, params) => {
      checkLayerNormParams(input, output, params);
      return runHoldingArrays({ input, output, scale: params.scale, bias: params.bias }, () =>
        nativeErrors(() => native.layerNorm(input, output, params)));
    },
    softmaxSync: (input, output, groups) => {
      checkGroupShape('softmax', input, output, groups);
      nativeErrors(() => native.softmaxSync(input, output, groups));
    },
    softmax: async (input, output, groups) => {
      checkGroupShape('softmax', input, output, groups);
      return runHoldingArrays({ input, output }, () => nativeErrors(() => native.softmax(input, output, groups)));
    },
    // Resize (native/ops/resize.cc): the addon checks every table index against its axis.
    resizeSync: (input, plan, output) => nativeErrors(() => native.resizeSync(input, output, plan)),
    resize: async (input, plan, output) =>
      runHoldingArrays({ input, output }, () => nativeErrors(() => native.resize(input, output, plan))),
    // ConvTranspose's col2im (native/ops/col2im.cc): the addon checks every size against the arrays.
    col2imSync: (cols, bias, output, plan) => nativeErrors(() => native.col2imSync(cols, bias, output, plan)),
    col2im: async (cols, bias, output, plan) =>
      runHoldingArrays({ cols, bias, output }, () => nativeErrors(() => native.col2im(cols, bias, output, plan))),
    matMul: async (a, aShape, b, bShape, output, activation) => {
      const options = matMulOptions(a, aShape, b, bShape, output, activation);
      return runHoldingArrays({ a, b, output }, () => nativeErrors(() => native.matMul(a, aShape, b, bShape, output, options)));
    },
  };
}

/** matMul's argument rules (the pure-JS kernel's), then the activation as the addon takes it. */
export function matMulOptions(a: Float32Array, aShape: readonly number[], b: Float32Array, bShape: readonly number[],
  output: Float32Array, activation: Activation | undefined): NativeActivationOptions {
  const plan = planMatMul('matMul', aShape, bShape);
  expectLength('matMul', 'a', a, plan.aMatrices * plan.m * plan.k, `aShape [${aShape.join(', ')}]`);
  expectLength('matMul', 'b', b, plan.bMatrices * plan.k * plan.n, `bShape [${bShape.join(', ')}]`);
  expectLength('matMul', 'output', output, plan.aIndex.length * plan.m * plan.n, `the broadcast batch x ${plan.m} x ${plan.n}`);
  checkActivation(activation ?? NO_ACTIVATION, 'matMul');
  return activationOptions(activation ?? NO_ACTIVATION);
}

/** The native backend, or an Error saying why the binary did not load (never throws). */
export function loadNativeBackend(): Backend | Error {
  if (backend !== undefined) return backend;
  const loaded = loadAddon();
  if (loaded instanceof Error) return loaded;
  backend = makeBackend(loaded);
  return backend;
}

/** The instruction-set path new layers are prepared for (prepared layers keep theirs). */
export function getIsa(): IsaName {
  return requireAddon('getIsa').getIsa();
}

/**
 * Forces an instruction-set path for layers prepared from now on (tests use it to cover every
 * path on one machine; CONVNODE_ISA does the same at load). Throws when the CPU lacks it.
 */
export function setIsa(name: IsaName): void {
  const addon = requireAddon('setIsa');
  asParameterError(() => addon.setIsa(name));
}

/** The paths this CPU and build can run, e.g. ['scalar', 'avx2']. */
export function availableIsas(): IsaName[] {
  return requireAddon('availableIsas').availableIsas();
}

/** Threads the native kernels use (process-wide; default: os.availableParallelism()). */
export function setNumThreads(n: number): void {
  const addon = requireAddon('setNumThreads');
  asParameterError(() => addon.setNumThreads(n));
}

/** The addon checks its arguments and throws a plain RangeError; users get our typed error with a code. */
function asParameterError(call: () => void): void {
  try {
    call();
  } catch (error) {
    if (error instanceof RangeError || error instanceof TypeError) throw new ParameterError(error.message);
    throw error;
  }
}

export function getNumThreads(): number {
  return requireAddon('getNumThreads').getNumThreads();
}

/** Single-thread FMA throughput of this CPU's best path in GFLOP/s (blocks ~0.3 s; for benchmarks). */
export function measurePeakGflops(): number {
  return requireAddon('measurePeakGflops').measurePeakGflops();
}
