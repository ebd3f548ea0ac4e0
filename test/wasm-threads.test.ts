/**
 * The threaded wasm build (scripts/build-wasm.mjs --threads; the wasm backend's default where the
 * host allows it): its ops split over worker_threads on one shared memory give the JS oracle's
 * answers, the same as on one thread; the workers really run tasks; setNumThreads starts and ends
 * them; a worker's trap fails the call with a typed error; dispose() ends the workers; and a
 * process that used them still exits by itself.
 * Skipped when the threaded module is not built, unless CONVNODE_REQUIRE_WASM=1 (CI).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { jsBackend } from '../lib/backends/js.js';
import { wasmBackendFromFile } from '../lib/backends/wasm.js';
import { availableParallelism } from 'node:os';
import { BackendError, DisposedError } from '../lib/errors.js';
import { DEFAULT_MAX_WASM_THREADS, WASM_THREADS_LOCATIONS, wasmThreadsFromEnv } from '../lib/backends/wasm-module.js';
import type { Backend } from '../lib/backends/backend.js';
import { planConv, planWindow } from '../lib/planner/geometry.js';
import { expectClose, randomFloats, seededRandom } from './helpers/numeric.js';

const file = WASM_THREADS_LOCATIONS.find((f) => existsSync(f));
if (file === undefined && process.env.CONVNODE_REQUIRE_WASM === '1') {
  throw new Error(`no threaded wasm module in ${WASM_THREADS_LOCATIONS.join(' or ')}: node scripts/build-wasm.mjs --threads`);
}

describe.skipIf(file === undefined)('the threaded wasm build', () => {
  // skipIf still runs this body to collect the tests: nothing to load when the module is absent.
  if (file === undefined) return;
  const threaded = wasmBackendFromFile(file, { threads: 2, threadLimit: 2 });
  const m = threaded.module;

  /** Runs `run` on the threaded build at `threads` and returns its output. */
  function at(threads: number, run: (backend: Backend) => Float32Array): Float32Array {
    m.setThreads(threads);
    return run(threaded);
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
    expect(m.threaded).toBe(true);
    expect(m.maxThreads).toBe(2);
    m.setThreads(2);
    expect(m.threads()).toBe(2);
    m.setThreads(5); // capped at its thread limit
    expect(m.threads()).toBe(2);
  });

  it('stopWorkers ends the workers; setThreads(2) starts a new one that takes tasks, with the same answers', () => {
    const run = convCase({ cin: 16, cout: 32, groups: 1, k: 3, s: 1, pad: 1, size: 32, batch: 4 }, 7);
    const expected = run(jsBackend);
    m.stopWorkers();
    expect(m.maxThreads).toBe(1);
    expect(m.threads()).toBe(1);
    expectClose(run(threaded), expected, 'after stopWorkers', 1e-4);
    m.setThreads(2);
    expect(m.maxThreads).toBe(2);
    const before = m.workerTasks();
    let two = run(threaded);
    // The new worker boots asynchronously (a few ms): until then the caller takes every task.
    const deadline = Date.now() + 20_000;
    while (m.workerTasks() === before && Date.now() < deadline) two = run(threaded);
    expect(m.workerTasks()).toBeGreaterThan(before);
    expectClose(two, expected, 'a second generation of workers', 1e-4);
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

  it('CONVNODE_WASM_THREADS must be an integer from 1 to 64; unset, the default applies', () => {
    const saved = process.env.CONVNODE_WASM_THREADS;
    try {
      for (const bad of ['0', '2.5', 'two', '65']) {
        process.env.CONVNODE_WASM_THREADS = bad;
        expect(String(wasmThreadsFromEnv())).toMatch(/CONVNODE_WASM_THREADS must be an integer from 1 to 64/);
      }
      process.env.CONVNODE_WASM_THREADS = '2';
      expect(wasmThreadsFromEnv()).toBe(2);
      delete process.env.CONVNODE_WASM_THREADS;
      expect(wasmThreadsFromEnv()).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env.CONVNODE_WASM_THREADS;
      else process.env.CONVNODE_WASM_THREADS = saved;
    }
  });

  it('CONVNODE_WASM_THREADS=2 with CONVNODE_BACKEND=wasm: a model runs on 2 threads and the process exits by itself', () => {
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', `
      const c = await import('./dist/index.js');
      const { wasmModuleInfo } = await import('./dist/backends/wasm.js');
      const { loadWasmModule } = await import('./dist/backends/wasm-module.js');
      const conv = new c.Conv2d({ inChannels: 8, outChannels: 16, kernelSize: 3, padding: 1 });
      const y = conv.forwardSync(c.Tensor.zeros([2, 8, 32, 32]));
      // The worker really runs tasks (it boots asynchronously: give it turns of the event loop).
      // This script runs under --input-type=module: workers that inherited that flag never ran.
      const deadline = Date.now() + 20000;
      // (A batch of 16: big enough for the pool's grain rule to split it.)
      while (loadWasmModule().workerTasks() === 0 && Date.now() < deadline) {
        await new Promise((done) => setTimeout(done, 5));
        conv.forwardSync(c.Tensor.zeros([16, 8, 32, 32]));
      }
      console.log(c.getBackend(), wasmModuleInfo().threads, y.shape.join('x'), loadWasmModule().workerTasks() > 0);`],
    { env: { ...process.env, CONVNODE_BACKEND: 'wasm', CONVNODE_WASM_THREADS: '2' }, encoding: 'utf8', timeout: 60_000 });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    expect(child.stdout.trim()).toBe('wasm 2 2x16x32x32 true');
  });

  it('a trap on a worker fails the call with a BackendError saying so; later calls run right on one thread', async () => {
    const own = wasmBackendFromFile(file!, { threads: 2, threadLimit: 2 });
    try {
      const run = convCase({ cin: 8, cout: 16, groups: 1, k: 3, s: 1, pad: 1, size: 24, batch: 2 }, 3);
      const expected = run(jsBackend);
      // cn_test_worker_trap: a task on a worker traps (as a kernel bug would); the caller's tasks
      // wait for a worker to take one, so the trap really is on the worker.
      let error: unknown;
      try {
        own.module.guard(() => own.module.api.cn_test_worker_trap!(16));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(BackendError);
      expect((error as BackendError).code).toBe('ERR_CONVNODE_BACKEND');
      expect((error as Error).message).toMatch(/a wasm worker thread failed .* runs on one thread from now on/);
      expect(own.module.threads()).toBe(1);
      own.module.setThreads(2); // stays at one thread: the pool lost a worker mid-job
      expect(own.module.threads()).toBe(1);
      expectClose(run(own), expected, 'after a worker trapped', 1e-4);
    } finally {
      await own.dispose();
    }
  });

  /** A module at 2 threads whose worker has booted (it took a task): hooks then really reach it. */
  function bootedPair(seed: number) {
    const own = wasmBackendFromFile(file!, { threads: 2, threadLimit: 2 });
    const run = convCase({ cin: 8, cout: 16, groups: 1, k: 3, s: 1, pad: 1, size: 24, batch: 4 }, seed);
    const deadline = Date.now() + 20_000;
    while (own.module.workerTasks() === 0 && Date.now() < deadline) run(own);
    expect(own.module.workerTasks()).toBeGreaterThan(0);
    return { own, run, expected: run(jsBackend) };
  }

  it('a worker whose thread ends inside a task without trapping (process.exit in its JS) fails the call with a BackendError, not a hang; later calls run right on one thread', () => {
    // In a child process with a timeout: without the worker's exit handler telling the pool, the
    // call would wait forever for the task the dead worker claimed (status null here, not a hung run).
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', `
      const { wasmBackendFromFile } = await import('./dist/backends/wasm.js');
      const own = wasmBackendFromFile(${JSON.stringify(file)}, { threads: 2, threadLimit: 2 });
      const m = own.module;
      const input = new Float32Array(4 * 8 * 24 * 24).map((_, i) => Math.sin(i));
      const weights = { inChannels: 8, outChannels: 16, groups: 1, kernelH: 3, kernelW: 3,
        weight: new Float32Array(16 * 8 * 9).map((_, i) => Math.cos(i)), bias: null, activation: { kind: 'none' } };
      const { planConv } = await import('./dist/planner/geometry.js');
      const g = planConv('conv', [4, 8, 24, 24], { inChannels: 8, outChannels: 16, groups: 1, kernel: [3, 3], stride: [1, 1], dilation: [1, 1], padding: 1 });
      const run = () => { const out = new Float32Array(4 * 16 * 24 * 24); const k = own.prepareConv2d(weights); k.runSync(input, g, out); k.dispose(); return out; };
      const deadline = Date.now() + 20000;
      while (m.workerTasks() === 0 && Date.now() < deadline) run();
      const before = run();
      let message = 'no error';
      // cn_test_worker_exit: the worker that takes a task ends its thread there (its loader's test
      // import calls process.exit): no trap, no catch, and the task it claimed never finishes.
      try { m.guard(() => m.api.cn_test_worker_exit(16)); } catch (e) { message = e.constructor.name + ': ' + e.message; }
      const after = run();
      console.log(JSON.stringify({ booted: m.workerTasks() > 0, message, threads: m.threads(), same: after.every((v, i) => v === before[i]) }));
      await own.dispose();`],
    { encoding: 'utf8', timeout: 60_000 });
    expect(child.status).toBe(0); // null: killed by the timeout (the call hung)
    const seen = JSON.parse(child.stdout.trim().split('\n').pop()!);
    expect(seen.booted).toBe(true);
    expect(seen.message).toMatch(/^BackendError: a wasm worker thread failed .*thread ended.* runs on one thread from now on/);
    expect(seen.threads).toBe(1);
    expect(seen.same).toBe(true); // one thread after, the same answers as two before
  });

  it('a worker terminated between calls (not stopped): the module hears of it, goes to one thread, and later calls run right', async () => {
    const { own, run, expected } = bootedPair(9);
    try {
      await own.module.terminateWorkerForTest(0);
      // Its 'exit' event comes on this thread's event loop, after terminate() resolves.
      const deadline = Date.now() + 10_000;
      while (own.module.threads() !== 1 && Date.now() < deadline) await new Promise((done) => setTimeout(done, 10));
      expect(own.module.threads()).toBe(1);
      expect(own.module.maxThreads).toBe(1);
      const before = own.module.workerTasks();
      expectClose(run(own), expected, 'after a worker was terminated', 1e-4);
      expect(own.module.workerTasks()).toBe(before);
    } finally {
      await own.dispose();
    }
  });

  it('dispose() ends the workers (their threads exit) and later calls are a DisposedError', async () => {
    const own = wasmBackendFromFile(file!, { threads: 2, threadLimit: 2 });
    const run = convCase({ cin: 8, cout: 16, groups: 1, k: 3, s: 1, pad: 1, size: 24, batch: 2 }, 4);
    run(own);
    await own.dispose(); // resolves once every worker thread has exited
    expect(() => run(own)).toThrow(DisposedError);
    expect(() => own.module.setThreads(2)).toThrow(DisposedError);
    await own.dispose(); // twice is fine
  });

  it('CONVNODE_WASM_THREADS=1: the one-thread build, setNumThreads(2) stays at 1, and no one-thread reason (it was asked for)', () => {
    const env = { ...process.env, CONVNODE_BACKEND: 'wasm', CONVNODE_WASM_THREADS: '1' };
    delete env.CONVNODE_WASM_PATH;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', `
      const c = await import('./dist/index.js');
      const { wasmModuleInfo } = await import('./dist/backends/wasm.js');
      const conv = new c.Conv2d({ inChannels: 8, outChannels: 16, kernelSize: 3, padding: 1 });
      conv.forwardSync(c.Tensor.zeros([2, 8, 32, 32]));
      const info = wasmModuleInfo();
      c.setNumThreads(2); // the one-thread build stays at 1
      console.log(JSON.stringify([c.getBackend(), info.threaded, info.threads, info.oneThreadReason, c.getNumThreads()]));`],
    { env, encoding: 'utf8', timeout: 60_000 });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    expect(JSON.parse(child.stdout.trim())).toEqual(['wasm', false, 1, null, 1]);
  });

  it('by default (no CONVNODE_WASM_THREADS) the wasm backend is the threaded build on one thread per core (issue 17); setNumThreads(1) ends the workers, setNumThreads(n) caps n at the cores; the process exits by itself', () => {
    const cores = Math.min(availableParallelism(), DEFAULT_MAX_WASM_THREADS);
    const env = { ...process.env, CONVNODE_BACKEND: 'wasm' };
    delete env.CONVNODE_WASM_THREADS;
    delete env.CONVNODE_WASM_PATH;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', `
      const c = await import('./dist/index.js');
      const { wasmModuleInfo } = await import('./dist/backends/wasm.js');
      const conv = new c.Conv2d({ inChannels: 8, outChannels: 16, kernelSize: 3, padding: 1 });
      const x = c.Tensor.zeros([2, 8, 32, 32]);
      const seen = [c.getBackend(), wasmModuleInfo().threaded, c.getNumThreads()];
      conv.forwardSync(x);
      c.setNumThreads(1);
      seen.push(c.getNumThreads());
      conv.forwardSync(x);
      c.setNumThreads(1000);
      seen.push(c.getNumThreads());
      await conv.forward(x);
      try { c.setNumThreads(1.5); } catch (e) { seen.push(e.code); }
      console.log(JSON.stringify(seen));`],
    { env, encoding: 'utf8', timeout: 60_000 });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0); // a hang (workers keeping the process alive) is a timeout: status null
    expect(JSON.parse(child.stdout.trim())).toEqual(['wasm', cores > 1, cores, 1, availableParallelism(), 'ERR_CONVNODE_PARAMETER']);
  });
});
