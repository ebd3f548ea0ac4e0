/**
 * The threaded wasm build (scripts/build-wasm.mjs --threads; CONVNODE_WASM_THREADS > 1): its ops
 * split over worker_threads on one shared memory give the JS oracle's answers, the same as on one
 * thread; the workers really run tasks; and a process that used them still exits by itself.
 * Skipped when the threaded module is not built, unless CONVNODE_REQUIRE_WASM=1 (CI).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { jsBackend } from '../lib/backends/js.js';
import { wasmBackendFromFile } from '../lib/backends/wasm.js';
import { WASM_THREADS_LOCATIONS, wasmThreadsFromEnv } from '../lib/backends/wasm-module.js';
import type { Backend } from '../lib/backends/backend.js';
import { planConv, planWindow } from '../lib/planner/geometry.js';
import { expectClose, randomFloats, seededRandom } from './helpers/numeric.js';

const file = WASM_THREADS_LOCATIONS.find((f) => existsSync(f));
if (file === undefined && process.env.CONVNODE_REQUIRE_WASM === '1') {
  throw new Error(`no threaded wasm module in ${WASM_THREADS_LOCATIONS.join(' or ')}: node scripts/build-wasm.mjs --threads`);
}

describe.skipIf(file === undefined)('the threaded wasm build', () => {
  const threaded = file === undefined ? null : wasmBackendFromFile(file, { threads: 2 });
  const m = threaded!.module;

  /** Runs `run` on the threaded build at `threads` and returns its output. */
  function at(threads: number, run: (backend: Backend) => Float32Array): Float32Array {
    m.setThreads(threads);
    return run(threaded!);
  }

  function convCase(c: { cin: number; cout: number; groups: number; k: number; s: number; pad: number; size: number; batch: number }, seed: number) {
    const random = seededRandom(seed);
    const weights = {
      inChannels: c.cin, outChannels: c.cout, groups: c.groups, kernelH: c.k, kernelW: c.k,
      weight: randomFloats((c.cout * c.cin * c.k * c.k) / c.groups, random), bias: randomFloats(c.cout, random),
      activation: { kind: 'relu' } as const, stride: [c.s, c.s] as [number, number],
    };
    const g = planConv('conv', [c.batch, c.cin, c.size, c.size], {
      inChannels: c.cin, outChannels: c.cout, groups: c.groups, kernel: [c.k, c.k], stride: [c.s, c.s], dilation: [1, 1], padding: c.pad,
    });
    const input = randomFloats(c.batch * c.cin * c.size * c.size, random);
    return (backend: Backend): Float32Array => {
      const output = new Float32Array(c.batch * c.cout * g.outH * g.outW);
      const kernel = backend.prepareConv2d(weights);
      kernel.runSync(input, g, output);
      kernel.dispose?.();
      return output;
    };
  }

  it('starts its workers and splits a parallel_for over 2 threads', () => {
    expect(m.maxThreads).toBe(2);
    m.setThreads(2);
    expect(m.threads()).toBe(2);
    m.setThreads(5); // capped at the threads started
    expect(m.threads()).toBe(2);
  });

  it.each([
    ['3x3 GEMM conv, batch 4', { cin: 16, cout: 48, groups: 1, k: 3, s: 1, pad: 1, size: 28, batch: 4 }],
    ['1x1 conv, batch 1', { cin: 64, cout: 96, groups: 1, k: 1, s: 1, pad: 0, size: 28, batch: 1 }],
    // 1.04 M multiply-adds: depthwise asks the grain rule too, and under its 60 us (0.08 ns each,
    // ops/work_cost.h) the job stays on the caller.
    ['depthwise 3x3/2, batch 3', { cin: 96, cout: 96, groups: 96, k: 3, s: 2, pad: 1, size: 40, batch: 3 }],
    ['grouped 3x3, batch 2', { cin: 32, cout: 32, groups: 4, k: 3, s: 1, pad: 1, size: 20, batch: 2 }],
    ['7x7/2 stem, batch 2', { cin: 3, cout: 32, groups: 1, k: 7, s: 2, pad: 3, size: 64, batch: 2 }],
  ])('%s: the JS oracle\'s answer at 2 threads, the same as at 1, with tasks run on the worker', (label, c) => {
    const run = convCase(c, 31);
    const expected = run(jsBackend);
    const one = at(1, run);
    const before = m.workerTasks();
    // Tasks go to whichever thread claims them first: on a loaded machine the worker may wake
    // too late for a small job, so run it until the worker has taken some (a few runs at most,
    // unless it never runs: then the check below fails).
    let two = at(2, run);
    for (let i = 0; i < 200 && m.workerTasks() === before; i++) two = at(2, run);
    expect(m.workerTasks()).toBeGreaterThan(before);
    expectClose(two, expected, label, 1e-4);
    expectClose(two, one, `${label}: 2 threads vs 1`, 1e-5);
  });

  it('pools, linear and element-wise ops at 2 threads give the JS oracle\'s answers', () => {
    const random = seededRandom(5);
    const [c, size] = [64, 56];
    const window = planWindow('pool', size, size, { kernel: [3, 3], stride: [2, 2], dilation: [1, 1], padding: 1 });
    const g = { ...window, batch: 2, channels: c, kind: 'max' as const, countIncludePad: false };
    const input = randomFloats(2 * c * size * size, random);
    const pool = (backend: Backend): Float32Array => {
      const out = new Float32Array(2 * c * g.outH * g.outW);
      backend.pool2dSync(input, g, out);
      return out;
    };
    expectClose(at(2, pool), pool(jsBackend), 'maxpool 3x3/2', 0);
    const weight = randomFloats(512 * 300, random);
    const features = randomFloats(8 * 512, random);
    const linear = (backend: Backend): Float32Array => {
      const out = new Float32Array(8 * 300);
      const kernel = backend.prepareLinear({ inFeatures: 512, outFeatures: 300, weight, bias: null, activation: { kind: 'none' } });
      kernel.runSync(features, 8, out);
      kernel.dispose?.();
      return out;
    };
    expectClose(at(2, linear), linear(jsBackend), 'linear 512->300, batch 8', 1e-4);
    const sigmoid = (backend: Backend): Float32Array => {
      const out = new Float32Array(input.length);
      backend.unarySync(input, out, { kind: 'sigmoid' });
      return out;
    };
    expectClose(at(2, sigmoid), sigmoid(jsBackend), 'sigmoid', 1e-5);
  });

  it('CONVNODE_WASM_THREADS must be an integer from 1 to 64', () => {
    const saved = process.env.CONVNODE_WASM_THREADS;
    try {
      for (const bad of ['0', '2.5', 'two', '65']) {
        process.env.CONVNODE_WASM_THREADS = bad;
        expect(String(wasmThreadsFromEnv())).toMatch(/CONVNODE_WASM_THREADS must be an integer from 1 to 64/);
      }
      process.env.CONVNODE_WASM_THREADS = '2';
      expect(wasmThreadsFromEnv()).toBe(2);
    } finally {
      if (saved === undefined) delete process.env.CONVNODE_WASM_THREADS;
      else process.env.CONVNODE_WASM_THREADS = saved;
    }
  });

  it('CONVNODE_WASM_THREADS=2 with CONVNODE_BACKEND=wasm: a model runs on 2 threads and the process exits by itself', () => {
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', `
      const c = await import('./dist/index.js');
      const { wasmModuleInfo } = await import('./dist/backends/wasm.js');
      const conv = new c.Conv2d({ inChannels: 8, outChannels: 16, kernelSize: 3, padding: 1 });
      const y = conv.forwardSync(c.Tensor.zeros([2, 8, 32, 32]));
      console.log(c.getBackend(), wasmModuleInfo().threads, y.shape.join('x'));`],
    { env: { ...process.env, CONVNODE_BACKEND: 'wasm', CONVNODE_WASM_THREADS: '2' }, encoding: 'utf8', timeout: 60_000 });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    expect(child.stdout.trim()).toBe('wasm 2 2x16x32x32');
  });
});
