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
import { BackendError, DisposedError, ParameterError, ShapeError } from '../errors.js';
import type { Activation } from '../activation.js';
import { resolveActivation } from '../activation.js';
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startWorker, WORKER_STACK_BYTES } from './wasm-threads.js';

/** The package root: this file is lib/backends/wasm-module.ts or dist/backends/wasm-module.js. */
const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where the module is looked for, first found wins: a local build, then the shipped copy. */
export const WASM_LOCATIONS: readonly string[] = [
  path.join(PACKAGE_ROOT, 'build-wasm', 'convnode.wasm'),
  path.join(PACKAGE_ROOT, 'prebuilds', 'wasm32-wasi', 'convnode.wasm'),
];

/** The threaded build's locations (scripts/build-wasm.mjs --threads): the default where the host allows it. */
export const WASM_THREADS_LOCATIONS: readonly string[] = WASM_LOCATIONS.map((f) => f.replace(/convnode\.wasm$/, 'convnode-threads.wasm'));

/**
 * The most threads the wasm backend starts by default (one per core up to this): each worker is
 * a Node isolate (a few MB) with a 1 MiB stack in the module's memory. setNumThreads goes higher.
 */
export const DEFAULT_MAX_WASM_THREADS = 16;

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
  cn_workers_failed?(): number;
  cn_threads_stop?(): void;
  cn_test_worker_trap?(count: number): void;
  cn_test_worker_exit?(count: number): void;
  cn_worker_failed?(): void;
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
  // Optional: absent from modules built before session 8 (bench --ab against an old build).
  cn_keep_activation?(): void;
  cn_squeeze_excite_create?(channels: number, hidden: number, reduceWeight: number, reduceWeightLength: number,
    reduceBias: number, reduceBiasLength: number, expandWeight: number, expandWeightLength: number, expandBias: number,
    expandBiasLength: number): number;
  cn_squeeze_excite_destroy?(block: number): void;
  cn_squeeze_excite_run?(block: number, batch: number, plane: number, input: number, inputLength: number, output: number,
    outputLength: number): void;
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
  /** The compiled module (the threaded build's workers instantiate it again). */
  private readonly module: WebAssembly.Module;
  /** The threaded build's shared memory; undefined for the one-thread build. */
  private readonly shared: WebAssembly.Memory | undefined;
  /** Bytes of each thread's TLS block (the threaded build). */
  private readonly tlsBytes: number = 0;
  /** The workers running now, with the stack and TLS block each was lent. */
  private readonly workers: Array<{ worker: Worker; stack: number; tls: number; stopped: boolean }> = [];
  /** Why a worker failed, once one did (the module then runs on its calling thread only). */
  private workerFailure: string | undefined;
  private disposed = false;
  /** setThreads' ceiling: the host's cores (options.threadLimit). */
  readonly threadLimit: number;
  /** Grow-only operand buffers: [pointer, capacity in bytes]. */
  private readonly slots: Array<[number, number]> = [];
  private readonly decoder = new TextDecoder();

  /**
   * `threads` (default 1) matters for the threaded build only: it starts threads - 1 workers on
   * the module's shared memory (lib/backends/wasm-threads.ts). `threadLimit` (default: the
   * host's cores) caps setThreads.
   */
  constructor(bytes: Uint8Array<ArrayBuffer>, options: { threads?: number; threadLimit?: number } = {}) {
    let self: WasmModule | undefined;
    const module = new WebAssembly.Module(bytes);
    this.module = module;
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
        // The threaded build's test hook (cn_test_worker_exit) ends a worker's thread; never this one.
        test_worker_exit: (): never => {
          throw new BackendError('test_worker_exit is for worker threads only');
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
    this.shared = shared;
    self = this;
    this.exports._initialize();
    this.threadLimit = Math.max(1, Math.floor(options.threadLimit ?? availableParallelism()));
    if (!shared) return;
    // This thread's thread-local block (the ops' scratch); the workers get theirs as they start.
    this.tlsBytes = Math.max(16, this.exports.__tls_size!.value as number);
    this.exports.__wasm_init_tls!(this.alloc(this.tlsBytes));
    this.setThreads(options.threads ?? 1);
  }

  /** True for the threaded build (worker_threads on one shared memory). */
  get threaded(): boolean {
    return this.shared !== undefined;
  }

  /** Threads a parallel_for may use now: 1 + the workers running (1 for the one-thread build). */
  get maxThreads(): number {
    return this.workerFailure === undefined ? 1 + this.workers.length : 1;
  }

  /**
   * Threads the next calls split their work over: min(threads, threadLimit), starting the
   * workers that takes (the threaded build; the one-thread build stays at 1). Fewer threads
   * leave the extra workers parked (asleep in memory.atomic.wait, no CPU), so benchmarks can A/B
   * 1 and 2 threads in one process; stopWorkers() ends them.
   */
  setThreads(threads: number): void {
    this.live('setThreads');
    if (this.shared === undefined || this.workerFailure !== undefined) return;
    const wanted = Math.min(this.threadLimit, Math.max(1, Math.floor(threads)));
    while (this.workers.length < wanted - 1) this.startOneWorker();
    this.exports.cn_threads_set!(wanted);
  }

  private startOneWorker(): void {
    const stack = this.alloc(WORKER_STACK_BYTES);
    const tls = this.alloc(this.tlsBytes);
    const held = { stack, tls, worker: undefined as unknown as Worker, stopped: false };
    held.worker = startWorker({ module: this.module, memory: this.shared!, stackTop: stack + WORKER_STACK_BYTES, tls }, {
      failed: (message) => {
        this.workerFailure ??= message;
      },
      // Its stack and TLS block are free once its thread is gone (never while it may run a task).
      exited: () => {
        if (this.disposed) return;
        // Gone without being stopped (terminated, out of memory, an error in its JS): the pool
        // must not count on it. Heard here between calls (this thread runs no JS during one), so
        // it claimed no task; the next calls run on this thread. (A thread that ends inside a call
        // tells the pool itself, from its exit handler: wasm-threads.ts.)
        if (!held.stopped) {
          this.workerFailure ??= 'a wasm worker thread exited';
          if (this.exports.cn_workers_failed!() === 0) this.exports.cn_worker_failed!();
        }
        this.exports.cn_free(stack);
        this.exports.cn_free(tls);
      },
    });
    this.workers.push(held);
  }

  /**
   * Ends the workers (the pool's generation ends: each returns from its loop, its thread exits)
   * and goes back to one thread; a later setThreads(n > 1) starts new ones. Never during a call:
   * calls are synchronous, so no worker is inside a task here.
   */
  stopWorkers(): void {
    if (this.shared === undefined || this.workers.length === 0) return;
    this.exports.cn_threads_stop!();
    for (const w of this.workers) w.stopped = true;
    this.workers.length = 0;
  }

  /**
   * Internal, for tests only (test/wasm-threads.test.ts): terminates worker `index` the way the
   * host would end a thread, without stopping it first. Resolves once its thread is gone.
   */
  async terminateWorkerForTest(index: number): Promise<void> {
    const held = this.workers[index];
    if (held === undefined) throw new ParameterError(`terminateWorkerForTest: no worker ${index}`);
    await held.worker.terminate();
  }

  /**
   * Ends the workers and makes the module unusable (later calls throw a DisposedError); returns
   * when every worker thread has exited. For modules the caller made (wasmBackendFromFile);
   * the backend's own module lives as long as the process (its workers are unref'd).
   */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    const workers = this.workers.map((w) => w.worker);
    this.stopWorkers();
    this.disposed = true;
    // Parked workers have returned from their loop; terminate() also ends one still booting.
    await Promise.all(workers.map((w) => w.terminate()));
  }

  private live(method: string): void {
    if (this.disposed) throw new DisposedError(`wasm module.${method}: the module was disposed`);
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
    this.live('call');
    const stack = this.exports.__stack_pointer.value as number;
    try {
      return call();
    } catch (error) {
      this.exports.__stack_pointer.value = stack;
      if (error instanceof WasmArgumentError) throw new ShapeError(error.message);
      if (error instanceof WebAssembly.RuntimeError) {
        // The pool traps the caller when a worker trapped in one of its tasks (shared memory says
        // so before the worker's message arrives): that call fails, the next ones run on this thread.
        if ((this.exports.cn_workers_failed?.() ?? 0) !== 0) {
          this.workerFailure ??= error.message;
          this.workers.length = 0;
          throw new BackendError('a wasm worker thread failed while running this call\'s tasks (the wasm module trapped on a worker, '
            + 'or the worker\'s thread ended); the call was abandoned and the wasm backend runs on one thread from now on');
        }
        throw new BackendError(`the wasm module trapped: ${error.message}`);
      }
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
/** Why the default load took the one-thread build on a host with several cores (null: it did not). */
let oneThreadReason: string | null = null;

/**
 * Whether the wasm backend takes its threaded build unasked: on (issue 17). Session 7 turned it
 * off after a CI run trapped once under load; session 8 found the cause (V8 keeps a stale view of
 * a shared memory another thread grew: native/wasm/memory_view.h; 502 runs of
 * bench/stress-wasm-threads.mjs without a failure) and session 9 turned it back on (300 more
 * runs with it on, 0 failures). CONVNODE_WASM_THREADS=1 takes the one-thread build;
 * CONVNODE_WASM_THREADS=N asks for N threads.
 */
export const WASM_THREADS_BY_DEFAULT = true;

/** Why the one-thread build is taken by default where the threaded one could run (only while WASM_THREADS_BY_DEFAULT is off). */
export const WASM_THREADS_OPT_IN = 'the threaded build is opt-in: CONVNODE_WASM_THREADS=N';

/**
 * CONVNODE_WASM_THREADS: undefined when unset (the default: one thread per core; see WASM_THREADS_BY_DEFAULT), else the
 * threads asked for (1: the one-thread build), or an Error for a value that is no such count.
 */
export function wasmThreadsFromEnv(): number | undefined | Error {
  const text = process.env.CONVNODE_WASM_THREADS;
  if (text === undefined || text === '') return undefined;
  const threads = Number(text);
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
    return new Error(`CONVNODE_WASM_THREADS must be an integer from 1 to 64, got ${JSON.stringify(text)}`);
  }
  return threads;
}

/** Threads of the threaded build when it is the default: one per core, at most DEFAULT_MAX_WASM_THREADS. */
export function defaultWasmThreads(): number {
  return Math.min(availableParallelism(), DEFAULT_MAX_WASM_THREADS);
}

/** Why this host cannot run the threaded build (no SharedArrayBuffer, no shared wasm memory), or null. */
export function wasmThreadsUnsupported(): string | null {
  if (typeof SharedArrayBuffer === 'undefined') return 'this host has no SharedArrayBuffer';
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  } catch (error) {
    return `this host cannot make a shared WebAssembly.Memory (${(error as Error).message})`;
  }
  return null;
}

/** Why the wasm backend runs its one-thread build on a host with more cores, or null. */
export function wasmOneThreadReason(): string | null {
  return oneThreadReason;
}

/**
 * The module, loaded once, or an Error saying why not (never throws). By default
 * (WASM_THREADS_BY_DEFAULT) the threaded build with one thread per core where the host allows it
 * (SharedArrayBuffer, worker_threads: Node 20 does), else the one-thread build with the reason
 * kept (wasmOneThreadReason). CONVNODE_WASM_THREADS=N asks for N
 * threads (1: the one-thread build; N > 1 without a threaded build is an error);
 * CONVNODE_WASM_PATH forces a file (threaded or not, as built).
 */
export function loadWasmModule(): WasmModule | Error {
  if (loaded !== undefined) return loaded;
  const asked = wasmThreadsFromEnv();
  if (asked instanceof Error) {
    loaded = asked;
    return loaded;
  }
  const threads = asked ?? (WASM_THREADS_BY_DEFAULT ? defaultWasmThreads() : 1);
  if (asked === undefined && !WASM_THREADS_BY_DEFAULT && defaultWasmThreads() > 1) oneThreadReason = WASM_THREADS_OPT_IN;
  const forced = process.env.CONVNODE_WASM_PATH;
  if (forced) {
    loaded = loadFile(path.resolve(forced), threads);
    return loaded;
  }
  if (threads > 1) {
    const threadedFile = WASM_THREADS_LOCATIONS.find((f) => existsSync(f));
    const unsupported = wasmThreadsUnsupported();
    let why: string;
    if (unsupported !== null) {
      why = unsupported;
    } else if (threadedFile === undefined) {
      why = `no convnode-threads.wasm in ${WASM_THREADS_LOCATIONS.join(' or ')} (build it with \`node scripts/build-wasm.mjs --threads\`)`;
    } else {
      const threaded = loadFile(threadedFile, threads);
      if (!(threaded instanceof Error)) {
        loaded = threaded;
        return loaded;
      }
      why = threaded.message;
    }
    // Asked for by name: an error. By default: the one-thread build, and the reason kept.
    if (asked !== undefined) {
      loaded = new Error(`CONVNODE_WASM_THREADS=${asked} needs the threaded build: ${why}`);
      return loaded;
    }
    oneThreadReason = why;
  }
  const file = WASM_LOCATIONS.find((f) => existsSync(f));
  loaded = file === undefined
    ? new Error(`no convnode.wasm in ${WASM_LOCATIONS.join(' or ')} (build it with \`node scripts/build-wasm.mjs\`)`)
    : loadFile(file, 1);
  return loaded;
}

function loadFile(file: string, threads: number): WasmModule | Error {
  try {
    // CONVNODE_WASM_THREADS above the cores is taken as asked (benchmarks); setNumThreads stops at the cores.
    return new WasmModule(readFileSync(file), { threads, threadLimit: Math.max(availableParallelism(), threads) });
  } catch (error) {
    return new Error(`could not load ${file} (${(error as Error).message.split('\n')[0]})`);
  }
}
