#!/usr/bin/env node
// Checks a built convnode.wasm before it ships (scripts/prebuild.mjs, prebuild-verify.mjs):
//   - it is a valid module this Node compiles without flags (so: only standard SIMD);
//   - it imports only what lib/backends/wasm-module.ts provides (one convnode import and four
//     WASI functions): any other import would make every user's instantiate fail;
//   - it exports the C ABI the loader calls, its memory and __stack_pointer;
//   - loaded through the real loader (dist/, CONVNODE_WASM_PATH), its module runs the wasmsimd
//     tier by default, and a conv, a max pool, a refused argument and a disposed kernel give the hand-worked
//     answers on both of its tiers (wasmsimd and scalar).
// The threaded build (convnode-threads.wasm: it imports its shared memory instead of exporting
// one, links stdio, exports the pool's calls) is loaded at 2 threads: the same checks, and a
// 3x3 conv over a batch of 4 that its worker takes tasks of, equal to the one-thread answer.
// Usage: node scripts/check-wasm-module.mjs <convnode.wasm | convnode-threads.wasm>   (after `npm run build`)
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export const ALLOWED_IMPORTS = [
  'convnode.range_error',
  'wasi_snapshot_preview1.environ_get',
  'wasi_snapshot_preview1.environ_sizes_get',
  'wasi_snapshot_preview1.clock_time_get',
  'wasi_snapshot_preview1.proc_exit',
];

/** What the threaded build imports beyond ALLOWED_IMPORTS (lib/backends/wasm-module.ts provides them too). */
export const THREADED_IMPORTS = [
  'env.memory', 'wasi_snapshot_preview1.fd_write', 'wasi_snapshot_preview1.fd_close', 'wasi_snapshot_preview1.fd_seek',
  // cn_test_worker_exit's (a test hook): the loader's workers end their thread in it, its main thread refuses.
  'convnode.test_worker_exit',
];

/** The threaded build's exports beyond REQUIRED_EXPORTS (minus memory, which it imports). */
export const THREADED_EXPORTS = [
  '__tls_size', '__wasm_init_tls', 'cn_threads_set', 'cn_threads', 'cn_worker_tasks', 'cn_workers_failed', 'cn_worker_loop',
  'cn_threads_stop', 'cn_worker_failed',
];

export const REQUIRED_EXPORTS = [
  'memory', '__stack_pointer', '_initialize', 'cn_alloc', 'cn_free', 'cn_isa', 'cn_set_isa', 'cn_set_activation',
  'cn_conv_create', 'cn_conv_packed_bytes', 'cn_conv_destroy', 'cn_conv_run', 'cn_linear_create',
  'cn_linear_packed_bytes', 'cn_linear_destroy', 'cn_linear_run', 'cn_pool', 'cn_global_pool', 'cn_unary',
  'cn_binary', 'cn_affine', 'cn_matmul', 'cn_layernorm', 'cn_softmax',
];

function fail(message) {
  console.error(`check-wasm-module: FAIL: ${message}`);
  process.exit(1);
}

async function main() {
  const file = process.argv[2];
  if (!file) fail('usage: node scripts/check-wasm-module.mjs <convnode.wasm>');
  const bytes = readFileSync(file);
  if (!WebAssembly.validate(bytes)) fail(`${file} is not a valid WebAssembly module for this Node (${process.version})`);
  const module = new WebAssembly.Module(bytes);
  const imports = WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`);
  const threaded = imports.includes('env.memory');
  const allowed = threaded ? [...ALLOWED_IMPORTS, ...THREADED_IMPORTS] : ALLOWED_IMPORTS;
  const extra = imports.filter((i) => !allowed.includes(i));
  if (extra.length) fail(`${file} imports ${extra.join(', ')}, which the loader does not provide`);
  const exports = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  const required = threaded ? [...REQUIRED_EXPORTS.filter((e) => e !== 'memory'), ...THREADED_EXPORTS] : REQUIRED_EXPORTS;
  const missing = required.filter((e) => !exports.has(e));
  if (missing.length) fail(`${file} does not export ${missing.join(', ')}`);

  process.env.CONVNODE_WASM_PATH = resolve(file);
  if (threaded) process.env.CONVNODE_WASM_THREADS = '2';
  const dist = (f) => import(pathToFileURL(join(root, 'dist', f)).href);
  const { loadWasmBackend, wasmModuleInfo, setWasmIsa } = await dist('backends/wasm.js');
  const backend = loadWasmBackend();
  if (backend instanceof Error) fail(backend.message);
  if (wasmModuleInfo().isa !== 'wasmsimd') fail(`the module runs its '${wasmModuleInfo().isa}' tier by default, expected 'wasmsimd'`);
  if (wasmModuleInfo().threaded !== threaded) fail(`the loader took ${file} as ${wasmModuleInfo().threaded ? '' : 'not '}threaded`);
  if (threaded && wasmModuleInfo().threads !== 2) fail(`the threaded build runs on ${wasmModuleInfo().threads} threads, expected 2`);

  for (const tier of ['wasmsimd', 'scalar']) {
    if (!setWasmIsa(tier)) fail(`the module has no '${tier}' tier`);
    // The lecture's Sobel example: 5x5 bright/dark image, vertical edge filter, no padding.
    const image = Float32Array.from({ length: 25 }, (_, i) => (i % 5 < 2 ? 255 : 0));
    const conv = backend.prepareConv2d({
      inChannels: 1, outChannels: 1, groups: 1, kernelH: 3, kernelW: 3,
      weight: Float32Array.from([-1, 0, 1, -2, 0, 2, -1, 0, 1]), bias: null, activation: { kind: 'none' },
    });
    const window = { inH: 5, inW: 5, kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1,
      pads: { top: 0, left: 0, bottom: 0, right: 0 }, outH: 3, outW: 3, exact: true };
    const out = new Float32Array(9);
    conv.runSync(image, { ...window, batch: 1, inChannels: 1, outChannels: 1, groups: 1 }, out);
    const sobel = [-1020, -1020, 0, -1020, -1020, 0, -1020, -1020, 0];
    if (out.some((v, i) => v !== sobel[i])) fail(`${tier}: Sobel conv gave [${out}], expected [${sobel}]`);
    // An output one value short: the module refuses it (its range_error import), the message
    // names the argument, and the next call still works (the loader put its stack pointer back).
    for (let i = 0; i < 3; i++) {
      try {
        conv.runSync(image, { ...window, batch: 1, inChannels: 1, outChannels: 1, groups: 1 }, new Float32Array(8));
        fail(`${tier}: a short output was accepted`);
      } catch (error) {
        if (error.code !== 'ERR_CONVNODE_SHAPE' || !/output/.test(error.message)) fail(`${tier}: a short output threw ${error}`);
      }
    }
    out.fill(0);
    conv.runSync(image, { ...window, batch: 1, inChannels: 1, outChannels: 1, groups: 1 }, out);
    if (out.some((v, i) => v !== sobel[i])) fail(`${tier}: after a refusal the Sobel conv gave [${out}]`);
    conv.dispose();
    // 3x3 stride-2 max pool of 0..48 on a 7x7 plane, pad 1: the bottom-right of each window.
    const plane = Float32Array.from({ length: 49 }, (_, i) => i);
    const pooled = new Float32Array(16);
    backend.pool2dSync(plane, { ...window, inH: 7, inW: 7, strideH: 2, strideW: 2, pads: { top: 1, left: 1, bottom: 1, right: 1 },
      outH: 4, outW: 4, batch: 1, channels: 1, kind: 'max', countIncludePad: false }, pooled);
    const expected = [8, 10, 12, 13, 22, 24, 26, 27, 36, 38, 40, 41, 43, 45, 47, 48];
    if (pooled.some((v, i) => v !== expected[i])) fail(`${tier}: max pool gave [${pooled}], expected [${expected}]`);
    // A disposed kernel is a typed error.
    try {
      conv.runSync(image, { ...window, batch: 1, inChannels: 1, outChannels: 1, groups: 1 }, out);
      fail(`${tier}: a disposed conv ran`);
    } catch (error) {
      if (error.code !== 'ERR_CONVNODE_DISPOSED') fail(`${tier}: a disposed conv threw ${error}`);
    }
  }
  setWasmIsa('wasmsimd');
  if (threaded) await checkWorkersShare(dist, backend);
  console.log(`check-wasm-module: ${file}: ${bytes.length} bytes, ${imports.length} imports, ${exports.size} exports, `
    + `wasmsimd and scalar tiers give the hand-worked Sobel conv and max pool${threaded ? '; 2 threads give the 1-thread conv, the worker taking tasks' : ''}`);
}

/**
 * The threaded build: a 3x3 conv (16 -> 32 channels, 32x32, batch 4) at 2 threads equals the same
 * conv at 1 thread, and the worker ran some of its tasks (it boots in ~0.1 s, so a few runs).
 */
async function checkWorkersShare(dist, backend) {
  const { loadWasmModule } = await dist('backends/wasm-module.js');
  const m = loadWasmModule();
  const weights = Float32Array.from({ length: 32 * 16 * 9 }, (_, i) => ((i * 7919) % 13) / 13 - 0.5);
  const input = Float32Array.from({ length: 4 * 16 * 32 * 32 }, (_, i) => ((i * 104729) % 17) / 17);
  const conv = backend.prepareConv2d({ inChannels: 16, outChannels: 32, groups: 1, kernelH: 3, kernelW: 3, weight: weights,
    bias: null, activation: { kind: 'none' } });
  const g = { inH: 32, inW: 32, kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1,
    pads: { top: 1, left: 1, bottom: 1, right: 1 }, outH: 32, outW: 32, exact: true, batch: 4, inChannels: 16, outChannels: 32, groups: 1 };
  const one = new Float32Array(4 * 32 * 32 * 32);
  const two = new Float32Array(one.length);
  m.setThreads(1);
  conv.runSync(input, g, one);
  m.setThreads(2);
  const deadline = Date.now() + 30_000;
  do {
    conv.runSync(input, g, two);
    if (m.workerTasks() === 0) await new Promise((r) => setTimeout(r, 20));
  } while (m.workerTasks() === 0 && Date.now() < deadline);
  if (m.workerTasks() === 0) fail('the threaded build\'s worker ran no task in 30 s');
  if (two.some((v, i) => v !== one[i])) fail('the threaded build\'s conv at 2 threads differs from 1 thread');
  conv.dispose();
  await m.dispose();
}

await main();
