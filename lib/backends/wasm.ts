/**
 * The wasm backend: the C++ ops and kernels of native/, compiled to one WebAssembly module with
 * 128-bit SIMD (scripts/build-wasm.mjs), for wherever the native addon does not load. Order of
 * choice: native, then wasm, then js (lib/backends/index.ts).
 *
 * Weights are packed once into the module's memory at prepare and freed by dispose() (or when
 * the kernel is garbage-collected). Inputs and outputs are copied in and out on every call: wasm
 * cannot address JS memory. The module's memory grows with the model and never shrinks (freed
 * weights are reused by the next ones).
 *
 * In the module: conv (every algorithm), linear, squeeze-and-excitation, matMul, layerNorm, softmax, max / average /
 * global pooling, unary, binary and channel-affine element-wise ops. Strided copies are left to
 * the caller, as the JS backend does. Threads: the threaded build with one thread per core where
 * the host allows it (lib/backends/wasm-threads.ts), else the one-thread build, which runs on the
 * calling JS thread (wasm-module.ts's loadWasmModule; setWasmThreads below).
 */
import { readFileSync } from 'node:fs';
import { NO_ACTIVATION } from '../activation.js';
import { DisposedError, ParameterError } from '../errors.js';
import { CONV_ALGORITHMS, planConvAlgorithm, type ConvTarget } from '../planner/conv-plan.js';
import type { Backend, ConvKernel, ConvWeights, LinearKernel, LinearWeights, SqueezeExciteKernel } from './backend.js';
import { settle } from './js.js';
import { checkGroupShape, checkLayerNormParams } from '../kernels/layernorm.js';
import { checkSqueezeExciteWeights, type SqueezeExciteWeights } from '../kernels/squeeze-excite.js';
import { affineParams, checkBinary, checkFloat32, checkUnary, matMulOptions } from './native.js';
import { loadWasmModule, WasmModule, wasmOneThreadReason } from './wasm-module.js';

const BINARY_OPS = ['add', 'sub', 'mul', 'div'] as const;

/** A handle to C++ memory: freed by dispose(), or at GC if never disposed. */
class Held {
  private static readonly registry = new FinalizationRegistry<() => void>((free) => free());
  private handle: number;

  constructor(handle: number, private readonly what: string, private readonly free: (handle: number) => void) {
    this.handle = handle;
    Held.registry.register(this, () => free(handle), this);
  }

  get(method: string): number {
    if (this.handle === 0) throw new DisposedError(`${this.what}.${method}: this kernel was disposed; its packed weights are released`);
    return this.handle;
  }

  dispose(): void {
    if (this.handle === 0) return;
    Held.registry.unregister(this);
    this.free(this.handle);
    this.handle = 0;
  }
}

function prepareConv(m: WasmModule, weights: ConvWeights): ConvKernel {
  checkFloat32(weights.weight, 'weight', 'Conv2d');
  if (weights.bias !== null && weights.bias !== undefined) checkFloat32(weights.bias, 'bias', 'Conv2d');
  const stride = weights.stride ?? [1, 1];
  const dilation = weights.dilation ?? [1, 1];
  const plan = planConvAlgorithm(
    { ...weights, stride, dilation },
    m.isa() as ConvTarget,
    { algorithm: weights.algorithm, maxPackedBytes: weights.maxPackedBytes },
    (weights.bias ?? null) !== null,
  );
  m.setActivation(weights.activation, 'Conv2d');
  const weight = m.copyIn(weights.weight);
  const bias = m.copyIn(weights.bias ?? null);
  let handle: number;
  try {
    handle = m.guard(() => m.api.cn_conv_create(
      weights.inChannels, weights.outChannels, weights.groups, weights.kernelH, weights.kernelW,
      stride[0], stride[1], dilation[0], dilation[1], CONV_ALGORITHMS.indexOf(plan.algorithm),
      weight, weights.weight.length, bias, weights.bias?.length ?? 0) >>> 0);
  } finally {
    m.api.cn_free(weight);
    if (bias !== 0) m.api.cn_free(bias);
  }
  const held = new Held(handle, 'Conv2d kernel', (h) => m.api.cn_conv_destroy(h));
  const runSync: ConvKernel['runSync'] = (input, geometry, output, residual) => {
    const conv = held.get('runSync');
    checkFloat32(input, 'input', 'Conv2d');
    checkFloat32(output, 'output', 'Conv2d');
    if (residual) checkFloat32(residual, 'residual', 'Conv2d');
    const window = m.writeU32(0, m.windowValues(geometry), 'Conv2d', 'geometry');
    const counts = [geometry.batch, geometry.inChannels, geometry.outChannels, geometry.groups];
    m.writeU32(1, counts, 'Conv2d', 'geometry'); // checks them; the call takes them by value
    m.run([input, residual ?? null], [output], ([inPtr, resPtr], [outPtr]) =>
      m.api.cn_conv_run(conv, counts[0], counts[1], counts[2], counts[3], window, inPtr, input.length, outPtr,
        output.length, resPtr, residual?.length ?? 0));
  };
  return {
    plan,
    runSync,
    run: (input, geometry, output, residual) => settle(() => runSync(input, geometry, output, residual)),
    dispose: () => held.dispose(),
  };
}

function prepareLinear(m: WasmModule, weights: LinearWeights): LinearKernel {
  checkFloat32(weights.weight, 'weight', 'Linear');
  if (weights.bias !== null && weights.bias !== undefined) checkFloat32(weights.bias, 'bias', 'Linear');
  m.setActivation(weights.activation, 'Linear');
  const weight = m.copyIn(weights.weight);
  const bias = m.copyIn(weights.bias ?? null);
  let handle: number;
  try {
    handle = m.guard(() => m.api.cn_linear_create(weights.inFeatures, weights.outFeatures, weight, weights.weight.length,
      bias, weights.bias?.length ?? 0) >>> 0);
  } finally {
    m.api.cn_free(weight);
    if (bias !== 0) m.api.cn_free(bias);
  }
  const held = new Held(handle, 'Linear kernel', (h) => m.api.cn_linear_destroy(h));
  const runSync: LinearKernel['runSync'] = (input, batch, output) => {
    const linear = held.get('runSync');
    checkFloat32(input, 'input', 'Linear');
    checkFloat32(output, 'output', 'Linear');
    m.writeU32(0, [batch], 'Linear', 'batch');
    m.run([input], [output], ([inPtr], [outPtr]) => m.api.cn_linear_run(linear, batch, inPtr, input.length, outPtr, output.length));
  };
  return {
    runSync,
    run: (input, batch, output) => settle(() => runSync(input, batch, output)),
    dispose: () => held.dispose(),
  };
}

/** The module's squeeze-and-excitation exports (a module built before them has none). */
type SqueezeExciteApi = Required<Pick<WasmModule['api'],
  'cn_keep_activation' | 'cn_squeeze_excite_create' | 'cn_squeeze_excite_destroy' | 'cn_squeeze_excite_run'>>;

function squeezeExciteApi(m: WasmModule): SqueezeExciteApi | null {
  const { cn_keep_activation, cn_squeeze_excite_create, cn_squeeze_excite_destroy, cn_squeeze_excite_run } = m.api;
  return cn_keep_activation && cn_squeeze_excite_create && cn_squeeze_excite_destroy && cn_squeeze_excite_run
    ? { cn_keep_activation, cn_squeeze_excite_create, cn_squeeze_excite_destroy, cn_squeeze_excite_run }
    : null;
}

/**
 * A squeeze-and-excitation block as one module call (native/ops/squeeze_excite.h): squeeze, both
 * gate layers and the channel scale inside the module, so the map is copied in and out once
 * where the ONNX step it replaces made four calls (four copies in and out). The weights are
 * checked by the pure-JS kernel's rules first, so every backend refuses the same blocks alike.
 */
function prepareSqueezeExcite(m: WasmModule, api: SqueezeExciteApi, weights: SqueezeExciteWeights): SqueezeExciteKernel {
  checkSqueezeExciteWeights(weights);
  const { reduce, expand } = weights;
  // The reduce layer's activation is staged and kept, then the gate's staged (api.cc).
  m.setActivation(reduce.activation, 'SqueezeExcite');
  api.cn_keep_activation();
  m.setActivation(expand.activation, 'SqueezeExcite');
  const arrays = [reduce.weight, reduce.bias ?? null, expand.weight, expand.bias ?? null];
  const pointers: number[] = [];
  let handle: number;
  try {
    for (const array of arrays) pointers.push(m.copyIn(array));
    const [rw, rb, ew, eb] = pointers;
    handle = m.guard(() => api.cn_squeeze_excite_create(weights.channels, weights.hidden, rw, reduce.weight.length,
      rb, reduce.bias?.length ?? 0, ew, expand.weight.length, eb, expand.bias?.length ?? 0) >>> 0);
  } finally {
    for (const pointer of pointers) if (pointer !== 0) m.api.cn_free(pointer);
  }
  const held = new Held(handle, 'SqueezeExcite kernel', (h) => api.cn_squeeze_excite_destroy(h));
  const runSync: SqueezeExciteKernel['runSync'] = (input, batch, plane, output) => {
    const block = held.get('runSync');
    checkFloat32(input, 'input', 'squeezeExcite');
    checkFloat32(output, 'output', 'squeezeExcite');
    // The pure-JS kernel's rule: in place or apart (copies in and out would hide a partial overlap).
    const same = input.buffer === output.buffer && input.byteOffset === output.byteOffset;
    if (!same && input.buffer === output.buffer && input.byteOffset < output.byteOffset + output.byteLength &&
      output.byteOffset < input.byteOffset + input.byteLength) {
      throw new ParameterError('squeezeExcite: output must be input itself or not share memory with it');
    }
    m.writeU32(0, [batch, plane], 'squeezeExcite', 'batch and plane');
    m.run([input], [output], ([inPtr], [outPtr]) =>
      api.cn_squeeze_excite_run(block, batch, plane, inPtr, input.length, outPtr, output.length));
  };
  return {
    runSync,
    run: (input, batch, plane, output) => settle(() => runSync(input, batch, plane, output)),
    dispose: () => held.dispose(),
  };
}

function makeBackend(m: WasmModule): Backend {
  const seApi = squeezeExciteApi(m);
  const pool2dSync: Backend['pool2dSync'] = (input, geometry, output) => {
    checkFloat32(input, 'input', 'pool2d');
    checkFloat32(output, 'output', 'pool2d');
    const window = m.writeU32(0, m.windowValues(geometry), 'pool2d', 'geometry');
    m.writeU32(1, [geometry.batch, geometry.channels], 'pool2d', 'geometry');
    m.run([input], [output], ([inPtr], [outPtr]) => m.api.cn_pool(geometry.batch, geometry.channels,
      geometry.kind === 'max' ? 0 : 1, geometry.countIncludePad ? 1 : 0, window, inPtr, input.length, outPtr, output.length));
  };
  const globalPool2dSync: Backend['globalPool2dSync'] = (input, kind, planes, plane, output) => {
    checkFloat32(input, 'input', 'globalPool2d');
    checkFloat32(output, 'output', 'globalPool2d');
    m.writeU32(0, [planes, plane], 'globalPool2d', 'planes and plane');
    m.run([input], [output], ([inPtr], [outPtr]) =>
      m.api.cn_global_pool(kind === 'max' ? 0 : 1, planes, plane, inPtr, input.length, outPtr, output.length));
  };
  const unarySync: Backend['unarySync'] = (input, output, activation) => {
    checkUnary(input, output, activation);
    m.setActivation(activation, 'unary');
    // output may be longer than input: only input.length values are written.
    const written = output.subarray(0, input.length);
    m.run([input], [written], ([inPtr], [outPtr]) => m.api.cn_unary(inPtr, input.length, outPtr, written.length));
  };
  const binarySync: Backend['binarySync'] = (op, a, aShape, b, bShape, output, outShape, activation) => {
    checkBinary(op, a, aShape, b, bShape, output, outShape, activation);
    m.setActivation(activation ?? NO_ACTIVATION, `binary ${op}`);
    const aDims = m.writeU32(0, aShape, `binary ${op}`, 'aShape');
    const bDims = m.writeU32(1, bShape, `binary ${op}`, 'bShape');
    const outDims = m.writeU32(2, outShape, `binary ${op}`, 'outShape');
    const count = outShape.reduce((x, y) => x * y, 1);
    const written = output.subarray(0, count);
    m.run([a, b], [written], ([aPtr, bPtr], [outPtr]) =>
      m.api.cn_binary(BINARY_OPS.indexOf(op), aPtr, a.length, aDims, aShape.length, bPtr, b.length, bDims, bShape.length,
        outPtr, written.length, outDims, outShape.length));
  };
  const channelAffineSync: Backend['channelAffineSync'] = (input, affine, output) => {
    const p = affineParams(input, affine, output);
    m.setActivation(affine.activation, 'channelAffine');
    m.run([input, p.scale, p.shift], [output], ([inPtr, scalePtr, shiftPtr], [outPtr]) =>
      m.api.cn_affine(p.batch, p.channels, p.plane, inPtr, input.length, scalePtr, p.scale?.length ?? 0, shiftPtr,
        p.shift?.length ?? 0, outPtr, output.length));
  };
  const matMulSync: Backend['matMulSync'] = (a, aShape, b, bShape, output, activation) => {
    matMulOptions(a, aShape, b, bShape, output, activation); // the native backend's checks and messages
    m.setActivation(activation ?? NO_ACTIVATION, 'matMul');
    const aDims = m.writeU32(0, aShape, 'matMul', 'aShape');
    const bDims = m.writeU32(1, bShape, 'matMul', 'bShape');
    m.run([a, b], [output], ([aPtr, bPtr], [outPtr]) =>
      m.api.cn_matmul(aPtr, a.length, aDims, aShape.length, bPtr, b.length, bDims, bShape.length, outPtr, output.length));
  };
  const layerNormSync: Backend['layerNormSync'] = (input, output, params) => {
    checkLayerNormParams(input, output, params);
    const { outer, length, inner, scale, bias, epsilon } = params;
    m.writeU32(0, [outer, length, inner], 'layerNorm', 'outer, length and inner');
    const written = output.subarray(0, outer * length * inner);
    m.run([input, scale, bias], [written], ([inPtr, scalePtr, biasPtr], [outPtr]) =>
      m.api.cn_layernorm(outer, length, inner, inPtr, input.length, scalePtr, scale.length, biasPtr, bias?.length ?? 0,
        epsilon, outPtr, written.length));
  };
  const softmaxSync: Backend['softmaxSync'] = (input, output, groups) => {
    checkGroupShape('softmax', input, output, groups);
    const { outer, length, inner } = groups;
    m.writeU32(0, [outer, length, inner], 'softmax', 'outer, length and inner');
    const written = output.subarray(0, outer * length * inner);
    m.run([input], [written], ([inPtr], [outPtr]) => m.api.cn_softmax(outer, length, inner, inPtr, input.length, outPtr, written.length));
  };
  return {
    name: 'wasm',
    // Every call finishes before it returns, so calls can never overtake each other.
    ordersQueuedCalls: true,
    prepareConv2d: (weights) => prepareConv(m, weights),
    prepareLinear: (weights) => prepareLinear(m, weights),
    ...(seApi ? { prepareSqueezeExcite: (weights: SqueezeExciteWeights) => prepareSqueezeExcite(m, seApi, weights) } : {}),
    pool2dSync,
    pool2d: (input, geometry, output) => settle(() => pool2dSync(input, geometry, output)),
    globalPool2dSync,
    globalPool2d: (input, kind, planes, plane, output) => settle(() => globalPool2dSync(input, kind, planes, plane, output)),
    unarySync,
    unary: (input, output, activation) => settle(() => unarySync(input, output, activation)),
    binarySync,
    binary: (op, a, aShape, b, bShape, output, outShape, activation) =>
      settle(() => binarySync(op, a, aShape, b, bShape, output, outShape, activation)),
    channelAffineSync,
    channelAffine: (input, affine, output) => settle(() => channelAffineSync(input, affine, output)),
    matMulSync,
    matMul: (a, aShape, b, bShape, output, activation) => settle(() => matMulSync(a, aShape, b, bShape, output, activation)),
    layerNormSync,
    layerNorm: (input, output, params) => settle(() => layerNormSync(input, output, params)),
    softmaxSync,
    softmax: (input, output, groups) => settle(() => softmaxSync(input, output, groups)),
  };
}

let backend: Backend | undefined;

/** The wasm backend, or an Error saying why its module did not load (never throws). */
export function loadWasmBackend(): Backend | Error {
  if (backend !== undefined) return backend;
  const loaded = loadWasmModule();
  if (loaded instanceof Error) return loaded;
  backend = makeBackend(loaded);
  return backend;
}

/**
 * A second, separate wasm backend on another build of the module (benchmarks A/B two builds in
 * one process, as bench/ab-addons.mjs does with addons). Not the one backend selection uses.
 */
export function wasmBackendFromFile(file: string, options: { threads?: number; threadLimit?: number } = {}):
  Backend & { module: WasmModule; dispose(): Promise<void> } {
  const m = new WasmModule(readFileSync(file), options);
  return Object.assign(makeBackend(m), { module: m, dispose: () => m.dispose() });
}

/**
 * The wasm module's ISA tier ('wasmsimd', or 'scalar' once forced), memory, stack top, threads,
 * whether it is the threaded build and, if it is not on a host with several cores, why.
 */
export function wasmModuleInfo(): {
  isa: string; memoryBytes: number; stackPointer: number; threads: number; threaded: boolean; oneThreadReason: string | null;
} {
  const loaded = loadWasmModule();
  if (loaded instanceof Error) throw loaded;
  return {
    isa: loaded.isa(), memoryBytes: loaded.memoryBytes(), stackPointer: loaded.stackPointer(), threads: loaded.threads(),
    threaded: loaded.threaded, oneThreadReason: wasmOneThreadReason(),
  };
}

/**
 * setNumThreads on the wasm backend: min(n, the host's cores) threads, starting the workers that
 * takes; 1 ends the workers (a later n > 1 starts new ones). The one-thread build stays at 1.
 */
export function setWasmThreads(n: number): void {
  const loaded = loadWasmModule();
  if (loaded instanceof Error) throw loaded;
  if (n === 1) loaded.stopWorkers();
  loaded.setThreads(n);
}

/** getNumThreads on the wasm backend: the threads its calls split their work over. */
export function getWasmThreads(): number {
  const loaded = loadWasmModule();
  if (loaded instanceof Error) throw loaded;
  return loaded.threads();
}

/** Forces the wasm module's tier for kernels prepared from now on ('wasmsimd' or 'scalar'); false if it has none such. */
export function setWasmIsa(name: 'wasmsimd' | 'scalar'): boolean {
  const loaded = loadWasmModule();
  if (loaded instanceof Error) throw loaded;
  return loaded.setIsa(name);
}
