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
import { resolveActivation } from '../activation.js';
import { BackendError, ParameterError } from '../errors.js';
import { jsBackend } from './js.js';
import type { ConvGeometry } from '../planner/geometry.js';
import { runHoldingArrays } from './native-memory.js';
import type {
  Activation,
  Backend,
  ConvKernel,
  ConvWeights,
  LinearKernel,
  LinearWeights,
  PoolGeometry,
  PoolKind,
} from './backend.js';

/** Instruction-set paths the addon can run. */
export type IsaName = 'avx512' | 'avx2' | 'neon' | 'scalar';

interface NativeConv {
  runSync(input: Float32Array, geometry: ConvGeometry, output: Float32Array, residual: Float32Array | null): void;
  run(input: Float32Array, geometry: ConvGeometry, output: Float32Array, residual: Float32Array | null): Promise<void>;
  describe(): { isa: IsaName; depthwise: boolean; packedBytes: number };
}

interface NativeLinear {
  runSync(input: Float32Array, batch: number, output: Float32Array): void;
  run(input: Float32Array, batch: number, output: Float32Array): Promise<void>;
}

/** Every parameter resolved (defaults filled in), so C++ holds no second copy of the defaults. */
interface NativeActivationOptions {
  activation: Activation['kind'];
  alpha: number;
  beta: number;
  min: number;
  max: number;
}

/** What the .node binary exports (see native/napi/addon.cc). */
interface NativeAddon {
  Conv2d: new (
    weight: Float32Array,
    bias: Float32Array | null,
    options: NativeActivationOptions & { inChannels: number; outChannels: number; groups: number; kernelH: number; kernelW: number },
  ) => NativeConv;
  Linear: new (
    weight: Float32Array,
    bias: Float32Array | null,
    options: NativeActivationOptions & { inFeatures: number; outFeatures: number },
  ) => NativeLinear;
  pool2dSync(input: Float32Array, geometry: PoolGeometry, output: Float32Array): void;
  pool2d(input: Float32Array, geometry: PoolGeometry, output: Float32Array): Promise<void>;
  globalPool2dSync(input: Float32Array, kind: PoolKind, planes: number, plane: number, output: Float32Array): void;
  globalPool2d(input: Float32Array, kind: PoolKind, planes: number, plane: number, output: Float32Array): Promise<void>;
  getIsa(): IsaName;
  setIsa(name: string): void;
  availableIsas(): IsaName[];
  setNumThreads(n: number): void;
  getNumThreads(): number;
  measurePeakGflops(): number;
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

function makeBackend(native: NativeAddon): Backend {
  return {
    name: 'native',
    // The addon chains a job after every earlier unfinished job it conflicts with (native/napi/async_job.h).
    ordersQueuedCalls: true,
    prepareConv2d(weights: ConvWeights): ConvKernel {
      const conv = new native.Conv2d(weights.weight, weights.bias, {
        inChannels: weights.inChannels,
        outChannels: weights.outChannels,
        groups: weights.groups,
        kernelH: weights.kernelH,
        kernelW: weights.kernelW,
        ...activationOptions(weights.activation),
      });
      return {
        runSync: (input, geometry, output, residual) => conv.runSync(input, geometry, output, residual ?? null),
        // async: argument errors thrown while queueing become rejections, like kernel errors.
        run: async (input, geometry, output, residual) =>
          runHoldingArrays({ input, output, residual }, () => conv.run(input, geometry, output, residual ?? null)),
      };
    },
    prepareLinear(weights: LinearWeights): LinearKernel {
      const linear = new native.Linear(weights.weight, weights.bias, {
        inFeatures: weights.inFeatures,
        outFeatures: weights.outFeatures,
        ...activationOptions(weights.activation),
      });
      return {
        runSync: (input, batch, output) => linear.runSync(input, batch, output),
        run: async (input, batch, output) => runHoldingArrays({ input, output }, () => linear.run(input, batch, output)),
      };
    },
    pool2dSync: (input, geometry, output) => native.pool2dSync(input, geometry, output),
    pool2d: async (input, geometry, output) => runHoldingArrays({ input, output }, () => native.pool2d(input, geometry, output)),
    globalPool2dSync: (input, kind, planes, plane, output) => native.globalPool2dSync(input, kind, planes, plane, output),
    globalPool2d: async (input, kind, planes, plane, output) =>
      runHoldingArrays({ input, output }, () => native.globalPool2d(input, kind, planes, plane, output)),
    // The element-wise engine runs the pure-JS kernels until the native ones land (issue 11).
    unarySync: jsBackend.unarySync,
    unary: jsBackend.unary,
    binarySync: jsBackend.binarySync,
    binary: jsBackend.binary,
    channelAffineSync: jsBackend.channelAffineSync,
    channelAffine: jsBackend.channelAffine,
  };
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
