#!/usr/bin/env node
// Runs the C++ kernel checks (native/tests' kernels_test) compiled to WASI
// (`node scripts/build-wasm.mjs --kernels-test`) inside V8, as the wasm backend runs its kernels:
// the wasmsimd tier against the scalar one, and scalar against the naive definitions. Exits with
// kernels_test's status. One thread (the module has one); fewer ULP samples than native (the
// activations' accuracy sweep is the slowest part under wasm).
//
// The few WASI calls a C++ command makes (stdio writes, environment, clock, exit) are provided
// here rather than by node:wasi: Node 20's WASI object aborted or segfaulted the process while
// freeing its fd table (inside fd_write after a GC, and at exit), after kernels_test had passed.
//
// Usage: node scripts/test-wasm-kernels.mjs [build-wasm/kernels_test.wasm]
import { readFileSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';

const file = resolve(process.argv[2] ?? 'build-wasm/kernels_test.wasm');
let bytes;
try {
  bytes = readFileSync(file);
} catch (error) {
  console.error(`test-wasm-kernels: ${error.message} (build it with \`node scripts/build-wasm.mjs --kernels-test\`)`);
  process.exit(1);
}

const environment = [
  'CONVNODE_KERNELS_TEST_THREADS=1',
  `CONVNODE_ULP_SAMPLES=${process.env.CONVNODE_ULP_SAMPLES ?? '200000'}`,
].map((entry) => new TextEncoder().encode(`${entry}\0`));

/** proc_exit's way out of the module. */
class Exit {
  constructor(code) {
    this.code = code;
  }
}

let memory;
const view = () => new DataView(memory.buffer);
const ERRNO_BADF = 8, ERRNO_SPIPE = 70, FILETYPE_CHARACTER_DEVICE = 2, RIGHTS_FD_WRITE = 1n << 6n;
const wasi = {
  environ_sizes_get: (count, size) => {
    view().setUint32(count, environment.length, true);
    view().setUint32(size, environment.reduce((n, e) => n + e.length, 0), true);
    return 0;
  },
  environ_get: (pointers, buffer) => {
    let at = buffer;
    environment.forEach((entry, i) => {
      view().setUint32(pointers + 4 * i, at, true);
      new Uint8Array(memory.buffer).set(entry, at);
      at += entry.length;
    });
    return 0;
  },
  clock_time_get: (_id, _precision, time) => {
    view().setBigUint64(time, process.hrtime.bigint(), true);
    return 0;
  },
  // stdout / stderr as terminals, so the C library flushes each line as it is printed.
  fd_fdstat_get: (fd, stat) => {
    if (fd !== 1 && fd !== 2) return ERRNO_BADF;
    new Uint8Array(memory.buffer, stat, 24).fill(0);
    view().setUint8(stat, FILETYPE_CHARACTER_DEVICE);
    view().setBigUint64(stat + 8, RIGHTS_FD_WRITE, true);
    return 0;
  },
  fd_write: (fd, iovs, count, written) => {
    if (fd !== 1 && fd !== 2) return ERRNO_BADF;
    let total = 0;
    for (let i = 0; i < count; i++) {
      const base = view().getUint32(iovs + 8 * i, true);
      const length = view().getUint32(iovs + 8 * i + 4, true);
      writeSync(fd, new Uint8Array(memory.buffer, base, length));
      total += length;
    }
    view().setUint32(written, total, true);
    return 0;
  },
  fd_seek: () => ERRNO_SPIPE,
  fd_close: () => 0,
  proc_exit: (code) => {
    throw new Exit(code);
  },
};

const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
  wasi_snapshot_preview1: wasi,
  // An op refused arguments the checks meant to be good (no exceptions in the wasm build).
  convnode: {
    range_error: (pointer, length) => {
      const message = new TextDecoder().decode(new Uint8Array(memory.buffer, pointer >>> 0, length >>> 0));
      throw new Error(`kernels_test: an op refused its arguments: ${message}`);
    },
  },
});
memory = instance.exports.memory;
let status = 0;
try {
  instance.exports._start();
} catch (error) {
  if (!(error instanceof Exit)) throw error;
  status = error.code;
}
process.exit(status);
