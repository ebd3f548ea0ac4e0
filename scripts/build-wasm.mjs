#!/usr/bin/env node
// Builds the wasm backend's module: the portable C++ ops and kernels (native/sources.cmake's
// CONVNODE_CORE_SOURCES) and the wasm-simd128 tier (below) compiled by clang for wasm32-wasi,
// linked by wasm-ld into one reactor module with the C ABI of native/wasm/api.cc. No Emscripten:
// Debian's WASI toolchain (clang, lld, wasi-libc, libc++-dev-wasm32, libclang-rt-dev-wasm32).
//
// Usage: node scripts/build-wasm.mjs [--threads [--heap-check] | --kernels-test] [--out file.wasm] [--jobs N] [--incremental]
// --incremental reuses an object (build-wasm/obj*) newer than every file its last compile read
// (clang's dependency list: the source, its headers; and this script, which holds the flags).
// Default output: build-wasm/convnode.wasm (the loader prefers it to the shipped copy, as a local
// native build wins over prebuilds/). scripts/prebuild.mjs copies it to prebuilds/wasm32-wasi/.
// --threads builds the threaded variant instead, build-wasm/convnode-threads.wasm: atomics, one
// shared imported memory, the worker_threads pool of native/wasm/thread_pool_shared.cc (the loader
// uses it when CONVNODE_WASM_THREADS > 1; see lib/backends/wasm-threads.ts).
// --kernels-test builds native/tests' kernels_test (the C++ kernel checks, wasmsimd against
// scalar) as a WASI command instead, build-wasm/kernels_test.wasm; scripts/test-wasm-kernels.mjs
// runs it under node:wasi.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The wasm-simd128 tier and the C ABI: the files only this build compiles. */
export const WASM_SOURCES = [
  'native/wasm/api.cc',
  'native/kernels/f32-gemm/f32-gemm-4x8-wasmsimd.cc',
  'native/kernels/f32-gemm/f32-gemv-4x1-wasmsimd.cc',
  'native/kernels/f32-im2col/f32-im2col-wasmsimd.cc',
  'native/kernels/f32-dwconv/f32-dwconv-3x3s1-wasmsimd.cc',
  'native/kernels/f32-dwconv/f32-dwconv-3x3s2-wasmsimd.cc',
  'native/kernels/f32-dwconv/f32-dwconv-5x5s1-wasmsimd.cc',
  'native/kernels/f32-dwconv/f32-dwconv-5x5s2-wasmsimd.cc',
  'native/kernels/f32-dwconv/f32-dwconv-7x7s1-wasmsimd.cc',
  'native/kernels/f32-dwconv/f32-dwconv-7x7s2-wasmsimd.cc',
  'native/kernels/f32-maxpool/f32-maxpool-3x3s2-wasmsimd.cc',
];

/** What only the threaded variant compiles: its pool, its C ABI and the allocator lock. */
export const THREAD_SOURCES = [
  'native/wasm/thread_pool_shared.cc',
  'native/wasm/threads_api.cc',
  'native/wasm/malloc_lock.cc',
];

// The threaded pool needs <thread>, which WASI libc++ lacks; native/wasm/thread_pool_single.h
// takes its place (runtime/thread_pool.h includes it under __wasi__).
const NOT_IN_WASM = new Set(['native/runtime/thread_pool.cc']);

/** A set(NAME ...) group's .cc files from a CMake list file. */
function cmakeSources(file, group) {
  const text = readFileSync(join(root, file), 'utf8');
  const match = new RegExp(`set\\(${group}([^)]*)\\)`).exec(text);
  if (!match) throw new Error(`${file} has no ${group} group`);
  return match[1].split(/\s+/).filter((f) => f.endsWith('.cc') && !NOT_IN_WASM.has(f));
}

/** CONVNODE_CORE_SOURCES from native/sources.cmake (the one list), minus what wasm replaces. */
export function coreSources() {
  return cmakeSources('native/sources.cmake', 'CONVNODE_CORE_SOURCES');
}

/** kernels_test's sources (native/tests/sources.cmake), for --kernels-test. */
export function kernelsTestSources() {
  // Not the native pool's checks: they start std::threads, which WASI libc++ has not.
  return cmakeSources('native/tests/sources.cmake', 'CONVNODE_KERNELS_TEST_SOURCES')
    .filter((f) => f !== 'native/tests/thread_pool_checks.cc');
}

// -msimd128 on every file: the portable kernels are auto-vectorised too, and the module needs
// SIMD anyway (Node 20 runs it without flags). No exceptions (WASI clang 14 has no wasm EH):
// argument errors leave through the loader's range_error import instead.
const COMPILE_FLAGS = [
  '--target=wasm32-wasi', '-std=c++17', '-O3', '-msimd128', '-mbulk-memory', '-mnontrapping-fptoint',
  '-msign-ext', '-mmutable-globals', '-fno-exceptions', '-ffp-contract=off', '-DNDEBUG', '-DCONVNODE_HAVE_WASMSIMD', '-Wall',
];
// Atomics make the memory shareable; WASI clang 14 lowers thread_local (the ops' per-thread
// scratch) only in the local-exec model, one block per instance set up by __wasm_init_tls.
const THREAD_COMPILE_FLAGS = ['-matomics', '-ftls-model=local-exec', '-DCONVNODE_WASM_THREADS'];

// A reactor (no main): _initialize runs the constructors once; 1 MiB of stack for the ops'
// local tiles; memory grows with the model (up to 4 GiB).
const LINK_FLAGS = [
  '--target=wasm32-wasi', '-mexec-model=reactor', '-Wl,-z,stack-size=1048576', '-Wl,--max-memory=4294967296',
  '-Wl,--strip-debug', '-Wl,--export=__stack_pointer', '-O3',
];

// kernels_test: a command (main), 8 MiB of stack for its sweeps' local buffers.
const KERNELS_TEST_LINK_FLAGS = ['--target=wasm32-wasi', '-Wl,-z,stack-size=8388608', '-Wl,--max-memory=4294967296', '-O3'];

// Debian's wasi-libc (2022) is built without atomics, so wasm-ld refuses --shared-memory unless
// told not to check features; its malloc keeps no lock, so every allocation function is wrapped
// by native/wasm/malloc_lock.cc. The memory is imported (the loader creates one shared memory for
// every thread's instance), 16 MiB at first; TLS set-up is exported for the workers.
const ALLOCATORS = ['malloc', 'free', 'calloc', 'realloc', 'aligned_alloc', 'posix_memalign'];
const THREAD_LINK_FLAGS = [
  '-Wl,--shared-memory', '-Wl,--import-memory', '-Wl,--no-check-features', '-Wl,--initial-memory=16777216',
  ...ALLOCATORS.map((name) => `-Wl,--wrap=${name}`),
  ...['__wasm_init_tls', '__tls_size', '__tls_align', '__tls_base'].map((name) => `-Wl,--export=${name}`),
];

/**
 * The files an object's last compile read (clang's -MD list beside it: the source and every
 * header), and this script (its flags); null when there is no list.
 */
export function inputsOf(depfile) {
  let text;
  try {
    text = readFileSync(depfile, 'utf8');
  } catch {
    return null;
  }
  // "obj.o: a.cc \<newline> b.h ...", a space inside a path escaped as "\ ".
  const list = text.slice(text.indexOf(': ') + 2).replace(/\\\n/g, ' ');
  const files = list.split(/(?<!\\)\s+/).filter(Boolean).map((f) => resolve(root, f.replace(/\\ /g, ' ')));
  return [...files, fileURLToPath(import.meta.url)];
}

/** Whether an object is newer than every file its last compile read (--incremental reuses it then). */
export function reusable(object, depfile) {
  const inputs = inputsOf(depfile);
  if (!inputs) return false;
  try {
    const built = statSync(object).mtimeMs;
    return inputs.every((file) => statSync(file).mtimeMs < built);
  } catch {
    return false; // no object yet, or a header gone
  }
}

async function compile(source, objectDir, extraFlags) {
  const object = join(objectDir, source.replace(/^native\//, '').replaceAll('/', '__').replace(/\.cc$/, '.o'));
  const depfile = object.replace(/\.o$/, '.d');
  if (!(process.argv.includes('--incremental') && reusable(object, depfile))) {
    await run('clang++', [...COMPILE_FLAGS, ...extraFlags, '-MD', '-MF', depfile, '-c', join(root, source), '-o', object], { cwd: root, maxBuffer: 1 << 24 });
  }
  return object;
}

async function main() {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf('--out');
  const threads = args.includes('--threads');
  // --threads --heap-check: a debugging build with red zones around every allocation and
  // cn_debug_heap_check() (native/wasm/malloc_lock.cc; bench/stress-wasm-threads.mjs). Never shipped.
  const heapCheck = threads && args.includes('--heap-check');
  const kernelsTest = args.includes('--kernels-test');
  const defaultOut = kernelsTest ? 'build-wasm/kernels_test.wasm'
    : heapCheck ? 'build-wasm/convnode-threads-heapcheck.wasm' : threads ? 'build-wasm/convnode-threads.wasm' : 'build-wasm/convnode.wasm';
  const out = resolve(root, outIndex >= 0 ? args[outIndex + 1] : defaultOut);
  const jobsIndex = args.indexOf('--jobs');
  const jobs = jobsIndex >= 0 ? Number(args[jobsIndex + 1]) : Math.min(2, availableParallelism());
  const objectDir = join(root, 'build-wasm', heapCheck ? 'obj-threads-heapcheck' : threads ? 'obj-threads' : 'obj');
  mkdirSync(objectDir, { recursive: true });
  mkdirSync(dirname(out), { recursive: true });

  // kernels_test is a command (its own main) with the module's kernels but not its C ABI.
  const sources = kernelsTest
    ? [...coreSources(), ...WASM_SOURCES.filter((f) => f !== 'native/wasm/api.cc'), ...kernelsTestSources()]
    : [...coreSources(), ...WASM_SOURCES, ...(threads ? THREAD_SOURCES : [])];
  const extraFlags = threads ? [...THREAD_COMPILE_FLAGS, ...(heapCheck ? ['-DCONVNODE_WASM_HEAP_CHECK'] : [])] : [];
  const objects = new Array(sources.length);
  let next = 0;
  const worker = async () => {
    while (next < sources.length) {
      const i = next++;
      objects[i] = await compile(sources[i], objectDir, extraFlags);
    }
  };
  try {
    await Promise.all(Array.from({ length: jobs }, worker));
    const linkFlags = kernelsTest ? KERNELS_TEST_LINK_FLAGS : [...LINK_FLAGS, ...(threads ? THREAD_LINK_FLAGS : [])];
    await run('clang++', [...linkFlags, ...objects, '-o', out], { cwd: root, maxBuffer: 1 << 24 });
  } catch (error) {
    const stderr = error.stderr ? `\n${error.stderr}` : '';
    const hint = error.code === 'ENOENT'
      ? ' (clang++ not found: install clang lld wasi-libc libc++-dev-wasm32 libclang-rt-dev-wasm32)' : '';
    console.error(`build-wasm: ${error.message.split('\n')[0]}${hint}${stderr}`);
    process.exit(1);
  }
  console.log(`build-wasm: ${basename(out)} ${(statSync(out).size / 1024).toFixed(0)} KiB, ${sources.length} sources -> ${out}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
