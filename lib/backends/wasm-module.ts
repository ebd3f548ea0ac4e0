/**
 * The wasm backend's loader: finds convnode.wasm (scripts/build-wasm.mjs builds it from
 * native/), compiles and instantiates it once with the few WASI imports its libc asks for, and
 * wraps its C ABI (native/wasm/api.cc) in helpers that copy arrays in and out of its memory.
 * Wasm code cannot address JS memory, so every input is copied in and every output copied out:
 * the one place convnode copies (README: "The wasm backend").
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BackendError, ParameterError, ShapeError } from '../errors.js';
import type { Activation } from '../activation.js';
import { resolveActivation } from '../activation.js';
import { startWorker, WORKER_STACK_BYTES } from './wasm-threads.js';

/** The package root: this file is lib/backends/wasm-module.ts or dist/backends/wasm-module.js. */
const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where the module is looked for, first found wins: a local build, then the shipped copy. */
export const WASM_LOCATIONS: readonly string[] = [
  path.join(PACKAGE_ROOT, 'build-wasm', 'convnode.wasm'),
  path.join(PACKAGE_ROOT, 'prebuilds', 'wasm32-wasi', 'convnode.wasm'),
];

/** The threaded build's locations (scripts/build-wasm.mjs --threads), for CONVNODE_WASM_THREADS > 1. */
export const WASM_THREADS_LOCATIONS: readonly string[] = WASM_LOCATIONS.map((f) => f.replace(/convnode\.wasm$/, 'convnode-threads.wasm'));

/** The threaded build's first memory: its link flag --initial-memory (16 MiB), in 64 KiB pages. */
const THREADED_INITIAL_PAGES = 256;
/** wasm32's whole address space (4 GiB), the threaded build's shared memory maximum. */
const MAX_PAGES = 65536;

/** native/kernels/epilogue.h's ActivationKind, in its order. */
const ACTIVATION_KINDS: readonly string[] = [
  'none', 'relu', 'relu6', 'clip', 'leakyRelu', 'elu', 'hardSigmoid', 'hardSwish',
  'sigmoid', 'silu', 'tanh', 'gelu', 'geluTanh', 'exp', 'softplus', 'mish',
];

/** What native/wasm/api.cc exports (sizes and pointers are wasm32 i32s). */
interface WasmExports {
  /** The one-thread build's own memory (the threaded build imports a shared one instead). */
  readonly memory?: WebAssembly.Memory;
  readonly __stack_pointer: WebAssembly.Global;
  _initialize(): void;
  // The threaded build only (native/wasm/threads_api.cc, and wasm-ld's TLS set-up).
  readonly __tls_size?: WebAssembly.Global;
  __wasm_init_tls?(block: number): void;
  cn_threads_set?(threads: number): void;
  cn_threads?(): number;
  cn_worker_tasks?(): number;
  cn_threads_stop?(): void;
  cn_alloc(bytes: number): number;
  cn_free(pointer: number): void;
  cn_isa(): number;
  cn_set_isa(name: number): number;
  cn_set_activation(kind: number, alpha: number, beta: number, min: number, max: number): void;
  cn_conv_create(inChannels: number, outChannels: number, groups: number, kernelH: number, kernelW: number,
    strideH: number, strideW: number, dilationH: number, dilationW: number, algorithm: number,
    weight: number, weightLength: number, bias: number, biasLength: number): number;
  cn_conv_packed_bytes(conv: number): number;
  cn_conv_destroy(conv: number): void;
  cn_conv_run(conv: number, batch: number, inChannels: number, outChannels: number, groups: number, window: number,
    input: number, inputLength: number, output: number, outputLength: number, residual: number, residualLength: number): void;
  cn_linear_create(inFeatures: number, outFeatures: number, weight: number, weightLength: number, bias: number,
    biasLength: number): number;
  cn_linear_packed_bytes(linear: number): number;
  cn_linear_destroy(linear: number): void;
  cn_linear_run(linear: number, batch: number, input: number, inputLength: number, output: number, outputLength: number): void;
  cn_pool(batch: number, channels: number, kind: number, countIncludePad: number, window: number,
    input: number, inputLength: number, output: number, outputLength: number): void;
  cn_global_pool(kind: number, planes: number, plane: number, input: number, inputLength: number, output: number,
    outputLength: number): void;
  cn_unary(input: number, inputLength: number, output: number, outputLength: number): void;
  cn_binary(op: number, a: number, aLength: number, aShape: number, aRank: number, b: number, bLength: number,
    bShape: number, bRank: number, output: number, outputLength: number, outShape: number, outRank: number): void;
  cn_matmul(a: number, aLength: number, aShape: number, aRank: number, b: number, bLength: number, bShape: number,
    bRank: number, output: number, outputLength: number): void;
  cn_layernorm(outer: number, length: number, inner: number, x: number, xLength: number, scale: number, scaleLength: number,
    bias: number, biasLength: number, epsilon: number, y: number, yLength: number): void;
  cn_softmax(outer: number, length: number, inner: number, x: number, xLength: number, y: number, yLength: number): void;
  cn_affine(batch: number, channels: number, plane: number, input: number, inputLength: number, scale: number,
    scaleLength: number, shift: number, shiftLength: number, output: number, outputLength: number): void;
}

/** run()'s operand buffers are slots 0 .. SMALL_SLOTS - 1; writeU32's come after them. */
const SMALL_SLOTS = 64;

/** An argument the module refused (its range_error import): becomes a ShapeError. */
class WasmArgumentError extends RangeError {}

/** A window as api.cc's window_of reads it (14 values). */
export interface WindowFields {
  readonly inH: number; readonly inW: number; readonly kernelH: number; readonly kernelW: number;
  readonly strideH: number; readonly strideW: number; readonly dilationH: number; readonly dilationW: number;
  readonly pads: { readonly top: number; readonly left: number; readonly bottom: number; readonly right: number };
  readonly outH: number; readonly outW: number;
}

/** A float array to copy into the module for one call; null passes a null pointer. */
type Operand = Float32Array | null;

/**
 * The instantiated module. Calls are synchronous and never re-entered (the module has one
 * thread: JS's), so one set of grow-only buffers serves every call's operands.
 */
export class WasmModule {
  private readonly exports: WasmExports;
  private readonly memory: WebAssembly.Memory;
  /** Threads a parallel_for may use (1 + workers started); 1 for the one-thread build. */
  readonly maxThreads: number;
  /** Grow-only operand buffers: [pointer, capacity in bytes]. */
  private readonly slots: Array<[number, number]> = [];
  private readonly decoder = new TextDecoder();

  /**
   * `threads` (default 1) matters for the threaded build only: it starts threads - 1 workers on
   * the module's shared memory (lib/backends/wasm-threads.ts).
   */
  constructor(bytes: Uint8Array<ArrayBuffer>, options: { threads?: number } = {}) {
    let self: WasmModule | undefined;
    const module = new WebAssembly.Module(bytes);
    const threaded = WebAssembly.Module.imports(module).some((i) => i.module === 'env' && i.name === 'memory');
    const shared = threaded
      ? new WebAssembly.Memory({ initial: THREADED_INITIAL_PAGES, maximum: MAX_PAGES, shared: true })
      : undefined;
    const memoryBytes = (): Uint8Array => new Uint8Array(self!.memory.buffer);
    const imports = {
      convnode: {
        range_error: (pointer: number, length: number): never => {
          throw new WasmArgumentError(self!.decoder.decode(memoryBytes().subarray(pointer >>> 0, (pointer >>> 0) + (length >>> 0))));
        },
      },
      // What wasi-libc's startup and getenv / clock ask for: no environment (CONVNODE_ISA is read
      // in JS), a monotonic clock, and exit as an error (the module never calls it on purpose).
      wasi_snapshot_preview1: {
        environ_sizes_get: (count: number, size: number): number => {
          const view = new DataView(self!.memory.buffer);
          view.setUint32(count >>> 0, 0, true);
          view.setUint32(size >>> 0, 0, true);
          return 0;
        },
        environ_get: (): number => 0,
        clock_time_get: (_id: number, _precision: bigint, time: number): number => {
          new DataView(self!.memory.buffer).setBigUint64(time >>> 0, process.hrtime.bigint(), true);
          return 0;
        },
        // The threaded build links stdio in (unused): every file call fails with ENOSYS.
        fd_write: (): number => 52,
        fd_close: (): number => 52,
        fd_seek: (): number => 52,
        proc_exit: (code: number): never => {
          throw new BackendError(`the wasm module exited with code ${code}`);
        },
      },
    };
    const instance = new WebAssembly.Instance(module, shared ? { ...imports, env: { memory: shared } } : imports);
    this.exports = instance.exports as unknown as WasmExports;
    this.memory = shared ?? this.exports.memory!;
    self = this;
    this.exports._initialize();
    this.maxThreads = 1;
    if (!shared) return;
    // This thread's thread-local block (the ops' scratch), then the workers' stacks and blocks.
    const tlsBytes = Math.max(16, this.exports.__tls_size!.value as number);
    this.exports.__wasm_init_tls!(this.alloc(tlsBytes));
    const workers = Math.max(0, Math.floor(options.threads ?? 1) - 1);
    for (let i = 0; i < workers; i++) {
      const stack = this.alloc(WORKER_STACK_BYTES);
      startWorker({ module, memory: shared, stackTop: stack + WORKER_STACK_BYTES, tls: this.alloc(tlsBytes) });
    }
    this.maxThreads = workers + 1;
    this.exports.cn_threads_set!(this.maxThreads);
  }

  /** Threads the next calls split their work over: 1 .. maxThreads (benchmarks A/B 1 and 2 in one process). */
  setThreads(threads: number): void {
    if (this.maxThreads === 1) return;
    this.exports.cn_threads_set!(Math.min(this.maxThreads, Math.max(1, Math.floor(threads))));
  }

  /** Threads the next calls split their work over. */
  threads(): number {
    return this.exports.cn_threads?.() ?? 1;
  }

  /** Tasks the worker threads have run so far (0 for the one-thread build). */
  workerTasks(): number {
    return (this.exports.cn_worker_tasks?.() ?? 0) >>> 0;
  }

  /** The ISA tier new kernels are prepared for: 'wasmsimd' (or 'scalar' when forced). */
  isa(): string {
    return this.string(this.exports.cn_isa() >>> 0);
  }

  /** Forces a tier ('wasmsimd' or 'scalar'); false when the module has no such tier. */
  setIsa(name: string): boolean {
    const bytes = new TextEncoder().encode(`${name}\0`);
    const pointer = this.alloc(bytes.length);
    try {
      new Uint8Array(this.memory.buffer).set(bytes, pointer);
      return this.exports.cn_set_isa(pointer) === 0;
    } finally {
      this.exports.cn_free(pointer);
    }
  }

  /** The shadow stack's top: the same between calls, whatever they threw (tests check it). */
  stackPointer(): number {
    return this.exports.__stack_pointer.value as number;
  }

  /** Bytes of memory the module holds (it grows with the model and never shrinks). */
  memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /**
   * Runs one call of the module: copies `inputs` in (each to its own buffer), runs `call` with
   * their pointers and the output buffers' (`outputs` floats each), then copies each output
   * buffer into its array. The module's refusals become ShapeErrors; a trap a BackendError.
   */
  run(inputs: readonly Operand[], outputs: readonly Float32Array[], call: (inputPointers: number[], outputPointers: number[]) => void): void {
    const inputPointers = inputs.map((array, i) => (array === null ? 0 : this.slot(i, array.length * 4 + 4)));
    const outputPointers = outputs.map((array, i) => this.slot(inputs.length + i, array.length * 4 + 4));
    // Views after every allocation: growing the memory detaches the old buffer.
    const heap = new Float32Array(this.memory.buffer);
    inputs.forEach((array, i) => {
      if (array !== null) heap.set(array, inputPointers[i] >>> 2);
    });
    this.guard(() => call(inputPointers, outputPointers));
    const after = new Float32Array(this.memory.buffer);
    outputs.forEach((array, i) => array.set(after.subarray(outputPointers[i] >>> 2, (outputPointers[i] >>> 2) + array.length)));
  }

  /** Copies `array` into a fresh allocation of the module (weights, before packing); free it after. */
  copyIn(array: Float32Array | null): number {
    if (array === null) return 0;
    const pointer = this.alloc(array.length * 4 + 4);
    new Float32Array(this.memory.buffer).set(array, pointer >>> 2);
    return pointer;
  }

  /**
   * Writes uint32 values (a window, a shape) into small buffer `slot` (apart from run()'s
   * operand buffers) and returns its pointer; refuses values that are not uint32s.
   */
  writeU32(slot: number, values: readonly number[], owner: string, what: string): number {
    for (const v of values) {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
        throw new ParameterError(`${owner}: ${what} must hold non-negative integers, got ${v}`);
      }
    }
    const pointer = this.slot(SMALL_SLOTS + slot, values.length * 4 + 4);
    new Uint32Array(this.memory.buffer).set(values, pointer >>> 2);
    return pointer;
  }

  windowValues(w: WindowFields): number[] {
    return [w.inH, w.inW, w.kernelH, w.kernelW, w.strideH, w.strideW, w.dilationH, w.dilationW,
      w.pads.top, w.pads.left, w.pads.bottom, w.pads.right, w.outH, w.outW];
  }

  /** Stages the activation the next prepare / element-wise call applies. */
  setActivation(activation: Activation, owner: string): void {
    const { kind, alpha, beta, min, max } = resolveActivation(activation);
    const index = ACTIVATION_KINDS.indexOf(kind);
    if (index < 0) throw new ParameterError(`${owner}: unknown activation ${JSON.stringify(kind)}`);
    this.exports.cn_set_activation(index, alpha, beta, min, max);
  }

  /**
   * Calls into the module. A refusal (range_error) or a trap unwinds the wasm frames without
   * their epilogues, so the shadow stack pointer is put back here; C++ temporaries of the
   * refused call (its message string) stay allocated, a few bytes per refusal.
   */
  guard<T>(call: () => T): T {
    const stack = this.exports.__stack_pointer.value as number;
    try {
      return call();
    } catch (error) {
      this.exports.__stack_pointer.value = stack;
      if (error instanceof WasmArgumentError) throw new ShapeError(error.message);
      if (error instanceof WebAssembly.RuntimeError) throw new BackendError(`the wasm module trapped: ${error.message}`);
      throw error;
    }
  }

  get api(): WasmExports {
    return this.exports;
  }

  alloc(bytes: number): number {
    const pointer = this.exports.cn_alloc(bytes) >>> 0;
    if (pointer === 0) throw new BackendError(`the wasm module could not allocate ${bytes} bytes (its memory is at most 4 GiB)`);
    return pointer;
  }

  private slot(index: number, bytes: number): number {
    const held = this.slots[index];
    if (held !== undefined && held[1] >= bytes) return held[0];
    if (held !== undefined) this.exports.cn_free(held[0]);
    // Room to grow by half again before the next reallocation.
    const capacity = Math.max(bytes, Math.ceil(((held?.[1] ?? 0) * 3) / 2));
    this.slots[index] = [this.alloc(capacity), capacity];
    return this.slots[index][0];
  }

  private string(pointer: number): string {
    const bytes = new Uint8Array(this.memory.buffer);
    let end = pointer;
    while (bytes[end] !== 0) end++;
    return this.decoder.decode(bytes.subarray(pointer, end));
  }
}

let loaded: WasmModule | Error | undefined;

/**
 * Threads the wasm backend runs on: CONVNODE_WASM_THREADS (default 1: the one-thread build; see
 * README "The wasm backend" for why). Above 1, the threaded build with that many threads.
 */
export function wasmThreadsFromEnv(): number | Error {
  const text = process.env.CONVNODE_WASM_THREADS;
  if (text === undefined || text === '') return 1;
  const threads = Number(text);
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
    return new Error(`CONVNODE_WASM_THREADS must be an integer from 1 to 64, got ${JSON.stringify(text)}`);
  }
  return threads;
}

/**
 * The module, loaded once (CONVNODE_WASM_PATH forces a file; CONVNODE_WASM_THREADS > 1 picks
 * the threaded build), or an Error saying why not (never throws).
 */
export function loadWasmModule(): WasmModule | Error {
  if (loaded !== undefined) return loaded;
  const threads = wasmThreadsFromEnv();
  if (threads instanceof Error) {
    loaded = threads;
    return loaded;
  }
  const locations = threads > 1 ? WASM_THREADS_LOCATIONS : WASM_LOCATIONS;
  const forced = process.env.CONVNODE_WASM_PATH;
  const file = forced ? path.resolve(forced) : locations.find((f) => existsSync(f));
  if (file === undefined) {
    const how = threads > 1 ? 'node scripts/build-wasm.mjs --threads' : 'node scripts/build-wasm.mjs';
    loaded = new Error(`no ${path.basename(locations[0])} in ${locations.join(' or ')} (build it with \`${how}\`)`);
    return loaded;
  }
  try {
    loaded = new WasmModule(readFileSync(file), { threads });
  } catch (error) {
    loaded = new Error(`could not load ${file} (${(error as Error).message.split('\n')[0]})`);
  }
  return loaded;
}
