/**
 * The addon's life around JS: forward() off the event loop, concurrent runs on one prepared
 * conv, loading in several worker_threads at once, and packed weights freed on GC.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Backend, ConvKernel, PoolGeometry } from '../lib/backends/backend.js';
import { planWindow } from '../lib/planner/geometry.js';
import { availableIsas, loadNativeBackend } from '../lib/backends/native.js';
import { expectClose, randomFloats, seededRandom } from './helpers/numeric.js';
import { type ConvCase, convCase, convGeometry, naiveConv, outputLength } from './native-support.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Source for the child processes and workers below: loads the built addon the way the package does. */
const LOAD_ADDON = `const addon = require(${JSON.stringify(path.join(ROOT, 'node_modules', 'node-gyp-build'))})(${JSON.stringify(ROOT)});`;

/** Source that queues four async 3x3 64->64 convs on 4x64x56x56 (3.7 GFLOP in all: tens of ms, still running when the caller goes away). */
const START_FOUR_CONVS = `
  const cin = 64, cout = 64, h = 56, w = 56, batch = 4;
  const conv = new addon.Conv2d(new Float32Array(cout * cin * 9), null,
    { inChannels: cin, outChannels: cout, groups: 1, kernelH: 3, kernelW: 3, activation: 'none' });
  const g = { batch, inChannels: cin, outChannels: cout, groups: 1, inH: h, inW: w, kernelH: 3, kernelW: 3,
    strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, pads: { top: 1, left: 1, bottom: 1, right: 1 }, outH: h, outW: w };
  for (let i = 0; i < 4; i++) conv.run(new Float32Array(batch * cin * h * w), g, new Float32Array(batch * cout * h * w));
`;

let native: Backend;
beforeAll(() => {
  const loaded = loadNativeBackend();
  if (loaded instanceof Error) throw loaded;
  native = loaded;
});

function prepare(c: ConvCase, seed: number): { kernel: ConvKernel; weight: Float32Array; bias: Float32Array } {
  const random = seededRandom(seed);
  const weight = randomFloats((c.outChannels * c.inChannels * c.kernel[0] * c.kernel[1]) / c.groups, random);
  const bias = randomFloats(c.outChannels, random);
  const kernel = native.prepareConv2d({
    inChannels: c.inChannels,
    outChannels: c.outChannels,
    groups: c.groups,
    kernelH: c.kernel[0],
    kernelW: c.kernel[1],
    weight,
    bias,
    activation: c.activation,
  });
  return { kernel, weight, bias };
}

const big = convCase({ batch: 8, inChannels: 128, outChannels: 128, inH: 56, inW: 56, activation: { kind: 'relu' } });

describe('native backend lifecycle', () => {
  // That forward() leaves the event loop free is proven without a clock in
  // test/event-loop.test.ts (the libuv pool held at a barrier while the loop turns).

  it('gives the same answer from an async run as from runSync on a large conv', async () => {
    const { kernel } = prepare(big, 1);
    const g = convGeometry(big);
    const input = randomFloats(big.batch * big.inChannels * 56 * 56, seededRandom(2));
    const output = new Float32Array(outputLength(g)).fill(Number.NaN);
    await kernel.run(input, g, output);
    const again = new Float32Array(output.length);
    kernel.runSync(input, g, again);
    let differing = 0;
    for (let i = 0; i < output.length; i++) if (!Object.is(again[i], output[i])) differing++;
    expect(differing).toBe(0);
  });

  it('gives each of several concurrent run() calls on one prepared conv its own correct result', async () => {
    const c: ConvCase = { ...big, batch: 1, inChannels: 16, outChannels: 24, inH: 30, inW: 29, activation: { kind: 'leakyRelu', alpha: 0.1 } };
    const { kernel, weight, bias } = prepare(c, 3);
    const g = convGeometry(c);
    const inputs = Array.from({ length: 8 }, (_, i) => randomFloats(16 * 30 * 29, seededRandom(10 + i)));
    const outputs = inputs.map(() => new Float32Array(outputLength(g)).fill(Number.NaN));
    await Promise.all(inputs.map((input, i) => kernel.run(input, g, outputs[i])));
    inputs.forEach((input, i) => {
      expectClose(outputs[i], naiveConv(input, g, weight, bias, null, c.activation), `concurrent run ${i}`);
    });
  });

  it('gives the same results from the async pool, global pool and Linear paths as from the sync ones', async () => {
    const random = seededRandom(21);
    const window = planWindow('pool', 31, 29, { kernel: [3, 3], stride: [2, 2], dilation: [1, 1], padding: 1, ceilMode: true });
    for (const kind of ['max', 'avg'] as const) {
      const g: PoolGeometry = { ...window, batch: 2, channels: 5, kind, countIncludePad: false };
      const input = randomFloats(2 * 5 * 31 * 29, random);
      const sync = new Float32Array(2 * 5 * g.outH * g.outW);
      const async = new Float32Array(sync.length).fill(Number.NaN);
      native.pool2dSync(input, g, sync);
      await native.pool2d(input, g, async);
      expectClose(async, sync, `async ${kind} pool`);
      const globalSync = new Float32Array(10);
      const globalAsync = new Float32Array(10).fill(Number.NaN);
      native.globalPool2dSync(input, kind, 10, 31 * 29, globalSync);
      await native.globalPool2d(input, kind, 10, 31 * 29, globalAsync);
      expectClose(globalAsync, globalSync, `async global ${kind}`);
    }
    const linear = native.prepareLinear({
      inFeatures: 50,
      outFeatures: 7,
      weight: randomFloats(350, random),
      bias: randomFloats(7, random),
      activation: { kind: 'sigmoid' },
    });
    const x = randomFloats(3 * 50, random);
    const sync = new Float32Array(21);
    const async = new Float32Array(21).fill(Number.NaN);
    linear.runSync(x, 3, sync);
    await linear.run(x, 3, async);
    expectClose(async, sync, 'async linear');
  });

  it('loads and runs in several worker_threads at once', async () => {
    // Plain CommonJS in the worker: it loads the binary itself, so each worker is a fresh
    // environment initialising the addon (context-aware module, per-env instance data).
    const source = `
      const { parentPort, workerData } = require('node:worker_threads');
      const addon = require(workerData.nodeGypBuild)(workerData.root);
      const cin = 4, cout = 6, h = 9, w = 10;
      const weight = new Float32Array(cout * cin * 9).map((_, i) => Math.sin(i + workerData.id));
      const input = new Float32Array(cin * h * w).map((_, i) => Math.cos(i * 0.7 + workerData.id));
      const conv = new addon.Conv2d(weight, null, { inChannels: cin, outChannels: cout, groups: 1, kernelH: 3, kernelW: 3, activation: 'none' });
      const g = { batch: 1, inChannels: cin, outChannels: cout, groups: 1, inH: h, inW: w, kernelH: 3, kernelW: 3,
        strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, pads: { top: 1, left: 1, bottom: 1, right: 1 }, outH: h, outW: w };
      const out = new Float32Array(cout * h * w);
      let worst = 0;
      (async () => {
        for (let round = 0; round < 20; round++) {
          await conv.run(input, g, out);
          for (let o = 0; o < cout; o++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
            let s = 0;
            for (let c = 0; c < cin; c++) for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) {
              const iy = y - 1 + ky, ix = x - 1 + kx;
              if (iy >= 0 && iy < h && ix >= 0 && ix < w) s += input[(c * h + iy) * w + ix] * weight[((o * cin + c) * 3 + ky) * 3 + kx];
            }
            worst = Math.max(worst, Math.abs(s - out[(o * h + y) * w + x]));
          }
        }
        parentPort.postMessage({ worst, isa: addon.getIsa() });
      })();
    `;
    const nodeGypBuild = path.join(ROOT, 'node_modules', 'node-gyp-build');
    const results = await Promise.all(
      [0, 1, 2, 3].map(
        (id) =>
          new Promise<{ worst: number; isa: string }>((resolve, reject) => {
            const worker = new Worker(source, { eval: true, workerData: { id, root: ROOT, nodeGypBuild } });
            worker.once('message', (m) => {
              resolve(m);
              void worker.terminate();
            });
            worker.once('error', reject);
          }),
      ),
    );
    for (const r of results) {
      expect(r.worst).toBeLessThan(1e-4);
      expect(['scalar', 'avx2', 'avx512', 'neon']).toContain(r.isa);
    }
  });

  it('survives worker_threads terminated while their forward() is still running', () => {
    // In a child process: a crash here (an exception thrown through libuv during environment
    // teardown) would abort the whole process.
    const script = `
      const { Worker } = require('node:worker_threads');
      const source = \`
        ${LOAD_ADDON}
        ${START_FOUR_CONVS}
        require('node:worker_threads').parentPort.postMessage('running');
      \`;
      (async () => {
        for (let i = 0; i < 6; i++) {
          const worker = new Worker(source, { eval: true });
          await new Promise((resolve) => worker.once('message', resolve));
          await worker.terminate();
        }
        console.log('survived');
      })();
    `;
    expect(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim()).toBe('survived');
  });

  it('survives the process exiting after a worker_thread that started the pool was terminated', () => {
    // The worker starts the pool's threads (setNumThreads), then goes; Node unloads an addon
    // when the environment that loaded it ends, and a pool thread still starting or waiting
    // then ran unmapped code: SIGSEGV in 2-4 of 6 such processes before the addon was linked
    // -z nodelete (CMakeLists.txt, binding.gyp). Eight processes, each must exit cleanly.
    const script = `
      const { Worker } = require('node:worker_threads');
      const source = \`
        ${LOAD_ADDON}
        addon.setNumThreads(2);
        require('node:worker_threads').parentPort.postMessage('started');
      \`;
      const worker = new Worker(source, { eval: true });
      worker.once('message', () => worker.terminate().then(() => console.log('exiting')));
    `;
    for (let i = 0; i < 8; i++) {
      expect(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim()).toBe('exiting');
    }
  });

  it('lets the process exit while forward() calls are still running', () => {
    const script = `
      ${LOAD_ADDON}
      ${START_FOUR_CONVS}
      setTimeout(() => { console.log('exiting'); process.exit(0); }, 2);
    `;
    for (let i = 0; i < 3; i++) {
      expect(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim()).toBe('exiting');
    }
  });

  it('starts with os.availableParallelism() threads', () => {
    const script = `
      ${LOAD_ADDON}
      console.log(JSON.stringify([addon.getNumThreads(), require('node:os').availableParallelism()]));
    `;
    const [threads, available] = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as number[];
    expect(threads).toBe(available);
  });

  it('reads CONVNODE_ISA once at load: forces scalar, refuses an ISA the CPU lacks', () => {
    // A fresh process per value: the variable is read once, when the addon loads.
    const script = `
      try {
        ${LOAD_ADDON}
        console.log(addon.getIsa());
      } catch (error) {
        console.log('error: ' + error.message);
      }
    `;
    const probe = (isa: string) =>
      execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, CONVNODE_ISA: isa } }).trim();
    expect(probe('scalar')).toBe('scalar');
    if (availableIsas().includes('avx2')) {
      expect(probe('avx2')).toBe('avx2');
      const best = availableIsas().includes('avx512') ? 'avx512' : 'avx2';
      expect(probe('neon')).toBe(`error: CONVNODE_ISA: ISA 'neon' is not supported by this CPU or build (best available: '${best}')`);
    }
    if (availableIsas().includes('avx512')) expect(probe('avx512')).toBe('avx512');
    expect(probe('sse9')).toMatch(/CONVNODE_ISA: unknown ISA 'sse9'/);
  });

  it('frees packed weights when prepared convs are collected', () => {
    // A child with --expose-gc prepares 40 convs of 256x256x3x3 (4 MiB packed each: the 16
    // Winograd F(2x2) matrices, the one form a conv planned for it packs) from one weight
    // array, drops them and collects (GC and event-loop turns until the finalizers ran, counted,
    // never timed). The packed bytes live objects hold and V8's external memory must rise by
    // their size and fall back. glibc is told to map blocks of 1 MiB and more on their own
    // (GLIBC_TUNABLES), so a freed 4 MiB block leaves the process at once: the RSS must fall by
    // the packed size. (With glibc's default, freed blocks may stay in its heap, and the RSS
    // test needed a heuristic that failed about one run in ten.)
    const script = `
      ${LOAD_ADDON}
      const collect = async () => {
        for (let i = 0; i < 50 && addon.heldWeightBytes() !== held0; i++) { gc(); await new Promise((r) => setImmediate(r)); }
      };
      const weight = new Float32Array(256 * 256 * 9), bias = new Float32Array(256);
      const held0 = addon.heldWeightBytes();
      (async () => {
        gc();
        const external0 = addon.externalMemory(), rss0 = process.memoryUsage().rss;
        let convs = [];
        for (let i = 0; i < 40; i++) {
          convs.push(new addon.Conv2d(weight, bias, { inChannels: 256, outChannels: 256, groups: 1, kernelH: 3, kernelW: 3, activation: 'relu', algorithm: 'winograd-f2x2-3x3' }));
        }
        const held = { bytes: addon.heldWeightBytes() - held0, external: addon.externalMemory() - external0, rss: process.memoryUsage().rss - rss0 };
        convs = null;
        await collect();
        const after = { bytes: addon.heldWeightBytes() - held0, external: addon.externalMemory() - external0, rss: process.memoryUsage().rss - rss0 };
        console.log(JSON.stringify({ held, after }));
      })();
    `;
    const out = execFileSync(process.execPath, ['--expose-gc', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=1048576' },
    });
    type Usage = { bytes: number; external: number; rss: number };
    const { held, after } = JSON.parse(out.trim().split('\n').pop() ?? '{}') as { held: Usage; after: Usage };
    const packed = 40 * (16 * 256 * 256 + 256) * 4;
    expect(held.bytes).toBe(packed);
    expect(held.external).toBeGreaterThanOrEqual(packed);
    expect(held.external).toBeLessThan(packed * 1.05);
    expect(held.rss).toBeGreaterThan(packed * 0.9);
    expect(after.bytes).toBe(0);
    expect(Math.abs(after.external)).toBeLessThan(packed * 0.05);
    expect(after.rss).toBeLessThan(packed * 0.1);
  });
});
