/**
 * The threaded wasm build's workers (scripts/build-wasm.mjs --threads; the default wherever the
 * host has SharedArrayBuffer and more than one core). Each worker_thread instantiates the same compiled module on the
 * same shared WebAssembly.Memory, so the packed weights, inputs and outputs are in memory every
 * thread addresses: nothing is duplicated or copied between threads. A worker gets its own shadow
 * stack and thread-local block (allocated here by the JS thread's instance), skips the module's
 * constructors (the first instance ran them on the shared memory) and parks in cn_worker_loop,
 * where native/wasm/thread_pool_shared.cc hands it the tasks of each parallel_for.
 *
 * The workers are unref'd: they never keep the process alive, and sleep in memory.atomic.wait
 * (no CPU) between jobs.
 */
import { Worker } from 'node:worker_threads';

/** Each worker's shadow stack: the size scripts/build-wasm.mjs gives the JS thread's. */
export const WORKER_STACK_BYTES = 1 << 20;

/** What the JS thread's instance lends a worker: all in the shared memory. */
export interface WorkerMemory {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  /** The top of the worker's own stack (stacks grow down). */
  readonly stackTop: number;
  /** The worker's thread-local block (__tls_size bytes, __tls_align aligned). */
  readonly tls: number;
}

// Plain CommonJS run with eval: no file to resolve, from lib/ under vitest or dist/ in a package.
// The imports are the loader's (wasm-module.ts), minus what only the JS thread does.
const WORKER_SOURCE = `(() => {
const { workerData } = require('node:worker_threads');
const { module, memory, stackTop, tls } = workerData;
const refused = () => { throw new Error('the module refused an argument on a worker thread'); };
// 'running' while this thread is in the pool's loop: ending then (process.exit, an error thrown
// outside the loop's catch) must tell the pool, or the caller would wait forever for a task this
// thread claimed. A trap is caught below and reported there ('failed'); a normal return is 'returned'.
let state = 'booting';
let instance;
try {
  instance = new WebAssembly.Instance(module, {
  env: { memory },
  // test_worker_exit: cn_test_worker_exit's way to make this thread die without a trap.
  convnode: { range_error: refused, test_worker_exit: () => process.exit(70) },
  wasi_snapshot_preview1: {
    environ_sizes_get: (count, size) => {
      const view = new DataView(memory.buffer);
      view.setUint32(count >>> 0, 0, true);
      view.setUint32(size >>> 0, 0, true);
      return 0;
    },
    environ_get: () => 0,
    clock_time_get: (_id, _precision, time) => {
      new DataView(memory.buffer).setBigUint64(time >>> 0, process.hrtime.bigint(), true);
      return 0;
    },
    fd_write: () => 52, fd_close: () => 52, fd_seek: () => 52,
    proc_exit: (code) => { throw new Error('the wasm module exited with code ' + code); },
  },
  });
} catch (error) {
  // No instance, so no task of this worker's: the others (and the calling thread) take them all.
  require('node:worker_threads').parentPort.postMessage({ failed: String(error && error.message) });
  return;
}
const api = instance.exports;
process.on('exit', () => {
  if (state !== 'running') return;
  // The thread ends inside the loop, maybe inside a task: the pool's caller must stop waiting.
  // (Only JS still runs here; the wasm frames below are abandoned, so this call goes under them.)
  api.cn_worker_failed();
});
api.__stack_pointer.value = stackTop;
api.__wasm_init_tls(tls);
try {
  state = 'running';
  api.cn_worker_loop();
  state = 'returned';
} catch (error) {
  // A trap in a task: tell the pool (the JS thread's parallel_for then traps instead of waiting).
  state = 'failed';
  api.__stack_pointer.value = stackTop;
  api.cn_worker_failed();
  require('node:worker_threads').parentPort.postMessage({ failed: String(error && error.message) });
}
})();
`;

/**
 * Starts one worker on `memory`; it runs until cn_threads_stop. `failed` hears of a worker whose
 * instance could not start or trapped (the pool has already been told, in shared memory);
 * `exited` when its thread is gone (its stack and TLS block may then be reused).
 */
export function startWorker(lent: WorkerMemory, events: { failed(message: string): void; exited(): void }): Worker {
  // execArgv: [] rather than the parent's flags: the source is CommonJS, and a parent run with
  // --input-type=module (node -e scripts) made every worker an ES module that threw at require(),
  // so no worker ever ran a task (the calls still worked, on the calling thread alone).
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: lent, execArgv: [] });
  worker.on('message', (message: { failed?: string }) => {
    if (message.failed !== undefined) events.failed(message.failed);
  });
  // After the 'message' listener, which refs the worker's port again: the process must not wait for it.
  worker.unref();
  // Without a listener an 'error' event (a worker that threw outside its try) would be thrown
  // in the main thread and end the process.
  worker.on('error', (error) => events.failed(error.message));
  worker.on('exit', () => events.exited());
  return worker;
}
