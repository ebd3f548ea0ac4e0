/**
 * The pool's grain rule (ThreadPool::threads_for, native/runtime/thread_pool.h) decides for every
 * op whether a job is split: depthwise (whole planes and row bands), grouped, GEMM convs (the
 * 1x1 stride-2 subsampling copy too), Linear over many rows, MatMul, LayerNorm / Softmax,
 * Resize and col2im. With the threshold forced to 0 (setPoolMinSplitUs, as CONVNODE_MIN_SPLIT_US)
 * every one of these small jobs takes its split path, and with it forced to 1 s none does; at 1,
 * 2, 8 and 16 threads each answer must match the pure-JS backend. The pool's shared-work counter
 * shows which way each went, so a rule that stopped splitting (or stopped keeping small jobs on
 * the caller) fails here.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Backend, PoolGeometry } from '../lib/backends/backend.js';
import { jsBackend } from '../lib/backends/js.js';
import { setNumThreads } from '../lib/backends/native.js';
import { col2im, type Col2imPlan } from '../lib/kernels/col2im.js';
import { resizePlanes, type ResizeAxisTable, type ResizePlan } from '../lib/kernels/resize.js';
import { planWindow } from '../lib/planner/geometry.js';
import { useNativeBackend } from './helpers/backends.js';
import { expectClose, randomFloats, seededRandom } from './helpers/numeric.js';
import { runSeededConv, type ConvCase } from './native-support.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

let native: Backend;
useNativeBackend((b) => (native = b));

interface PoolControls {
  setPoolMinSplitUs(us: number): void;
  countSharedWork(on: boolean): void;
  sharedWork(): { cpuMs: number; jobs: number };
}
const addon = (): PoolControls => createRequire(import.meta.url)('node-gyp-build')(ROOT) as PoolControls;

afterAll(() => addon().setPoolMinSplitUs(-1));

function conv(batch: number, inChannels: number, outChannels: number, groups: number, size: number, kernel: number, stride: number): ConvCase {
  return {
    batch, inChannels, outChannels, groups, inH: size, inW: size, kernel: [kernel, kernel], stride: [stride, stride],
    dilation: [1, 1], padding: kernel === 1 ? 0 : Math.floor(kernel / 2), activation: { kind: 'relu' }, bias: true, residual: false,
  };
}

const CONVS: Array<[string, ConvCase]> = [
  ['depthwise 3x3 on 7x7 planes (runs of whole planes)', conv(1, 24, 24, 24, 7, 3, 1)],
  ['depthwise 5x5/2 on 20x20 (row bands)', conv(2, 6, 6, 6, 20, 5, 2)],
  ['grouped 3x3, 4 groups of 4', conv(1, 16, 16, 4, 9, 3, 1)],
  ['1x1/2 (the subsampling copy, then GEMM)', conv(1, 20, 12, 1, 10, 1, 2)],
  ['3x3 at batch 8 on 5x5 maps', conv(8, 4, 6, 1, 5, 3, 1)],
];

/** Half-pixel 2x upsampling of one axis (the tables lib/onnx/ops/resize.ts plans). */
function upsample2x(length: number): ResizeAxisTable {
  const out = 2 * length;
  const lo = new Int32Array(out);
  const hi = new Int32Array(out);
  const weight = new Float32Array(out);
  for (let o = 0; o < out; o++) {
    const source = Math.min(Math.max((o + 0.5) / 2 - 0.5, 0), length - 1);
    lo[o] = Math.floor(source);
    hi[o] = Math.min(lo[o] + 1, length - 1);
    weight[o] = source - lo[o];
  }
  return { in: length, lo, hi, weight };
}

/** Every other op this file covers: name, and a run on a backend (one answer array). */
const OTHERS: Array<[string, (backend: Backend) => Float32Array]> = [
  ['Linear over 40 rows (x W^T: packing, then GEMM)', (backend) => {
    const random = seededRandom(11);
    const linear = backend.prepareLinear({
      inFeatures: 24, outFeatures: 20, weight: randomFloats(480, random), bias: randomFloats(20, random), activation: { kind: 'none' },
    });
    const out = new Float32Array(40 * 20).fill(Number.NaN);
    linear.runSync(randomFloats(40 * 24, random), 40, out);
    return out;
  }],
  ['MatMul, 3 batches of 9x7 by 7x10', (backend) => {
    const random = seededRandom(12);
    const out = new Float32Array(3 * 9 * 10).fill(Number.NaN);
    backend.matMulSync(randomFloats(3 * 63, random), [3, 9, 7], randomFloats(3 * 70, random), [3, 7, 10], out);
    return out;
  }],
  ['LayerNorm and Softmax over rows and column blocks', (backend) => {
    const random = seededRandom(13);
    const answers: number[] = [];
    for (const shape of [{ outer: 12, length: 10, inner: 1 }, { outer: 2, length: 6, inner: 40 }]) {
      const total = shape.outer * shape.length * shape.inner;
      const input = randomFloats(total, random);
      const norm = new Float32Array(total).fill(Number.NaN);
      backend.layerNormSync(input, norm, { ...shape, scale: randomFloats(shape.length, random), bias: null, epsilon: 1e-5 });
      const soft = new Float32Array(total).fill(Number.NaN);
      backend.softmaxSync(input, soft, shape);
      answers.push(...norm, ...soft);
    }
    return Float32Array.from(answers);
  }],
  ['Resize 2x, bilinear and nearest, 6 planes of 5x7', (backend) => {
    const input = randomFloats(6 * 35, seededRandom(14));
    const rows = upsample2x(5);
    const cols = upsample2x(7);
    const answers: number[] = [];
    for (const bilinear of [true, false]) {
      const plan: ResizePlan = { planes: 6, bilinear, rows, cols };
      const out = new Float32Array(6 * 10 * 14).fill(Number.NaN);
      if (backend.resizeSync) backend.resizeSync(input, plan, out);
      else resizePlanes(input, out, plan);  // the pure-JS kernel (jsBackend has no Resize of its own)
      answers.push(...out);
    }
    return Float32Array.from(answers);
  }],
  ['max pool 3x3/2 on 12 planes of 27x27 (the kernels\' scalar path)', (backend) => {
    const window = planWindow('pool', 27, 27, { kernel: [3, 3], stride: [2, 2], dilation: [1, 1], padding: 0 });
    const g: PoolGeometry = { ...window, batch: 1, channels: 12, kind: 'max', countIncludePad: false };
    const out = new Float32Array(12 * g.outH * g.outW).fill(Number.NaN);
    backend.pool2dSync(randomFloats(12 * 27 * 27, seededRandom(16)), g, out);
    return out;
  }],
  ['col2im 3x3/2, 2 images of 3 channels', (backend) => {
    const p: Col2imPlan = {
      batch: 2, channels: 3, kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, dilationH: 1, dilationW: 1, padTop: 1, padLeft: 1,
      inH: 5, inW: 6, outH: 9, outW: 11,
    };
    const random = seededRandom(15);
    const out = new Float32Array(2 * 3 * 9 * 11).fill(Number.NaN);
    const cols = randomFloats(2 * 3 * 9 * 30, random);
    const bias = randomFloats(3, random);
    if (backend.col2imSync) backend.col2imSync(cols, bias, out, p);
    else col2im(cols, bias, out, p);  // the pure-JS kernel
    return out;
  }],
];

const CASES: Array<[string, (backend: Backend) => Float32Array]> = [
  ...CONVS.map(([name, c], i): [string, (backend: Backend) => Float32Array] => [name, (backend) => runSeededConv(backend, c, 100 + i)]),
  ...OTHERS,
];

/** The case's native answer, and the pool jobs it shared out (two or more tasks on two or more threads). */
function runCounted(run: (backend: Backend) => Float32Array): { out: Float32Array; sharedJobs: number } {
  addon().countSharedWork(true);
  const out = run(native);
  const sharedJobs = addon().sharedWork().jobs;
  addon().countSharedWork(false);
  return { out, sharedJobs };
}

describe("every op's split follows the pool's grain rule", () => {
  for (const threads of [1, 2, 8, 16]) {
    it(`splits each small job when the threshold is 0, none when it is 1 s, same answers (${threads} thread${threads > 1 ? 's' : ''})`, () => {
      setNumThreads(threads);
      for (const [name, run] of CASES) {
        const want = run(jsBackend);
        addon().setPoolMinSplitUs(0);
        const split = runCounted(run);
        addon().setPoolMinSplitUs(1e6);
        const whole = runCounted(run);
        addon().setPoolMinSplitUs(-1);
        expectClose(split.out, want, `${name}, ${threads} threads, split`);
        expectClose(whole.out, want, `${name}, ${threads} threads, on the caller`);
        if (threads === 1) expect(split.sharedJobs, `${name}: shared jobs on 1 thread`).toBe(0);
        else expect(split.sharedJobs, `${name}: shared jobs at threshold 0`).toBeGreaterThan(0);
        expect(whole.sharedJobs, `${name}: shared jobs at threshold 1 s`).toBe(0);
      }
    });
  }
});

// CONVNODE_GEMM_SPLIT=rows (native/ops/gemm_driver.cc, split_gemm): batch-1 GEMMs on small maps
// split their output rows instead of their pixel columns. Read once at load, so a child process
// runs convs on 7x7, 8x8 and 5x5 maps (3x3 through im2col, 1x1 as pointwise, a grouped one) at
// 2, 8 and 16 threads with every job split, against the pure-JS backend.
const ROWS_CHILD = `
  (async () => {
    const addon = require(${JSON.stringify(path.join(ROOT, 'node_modules', 'node-gyp-build'))})(${JSON.stringify(ROOT)});
    const { loadNativeBackend, setNumThreads } = await import(${JSON.stringify(path.join(ROOT, 'dist', 'backends', 'native.js'))});
    const { jsBackend } = await import(${JSON.stringify(path.join(ROOT, 'dist', 'backends', 'js.js'))});
    const { planConv } = await import(${JSON.stringify(path.join(ROOT, 'dist', 'planner', 'geometry.js'))});
    const native = loadNativeBackend();
    addon.setPoolMinSplitUs(0);
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
    const floats = (n) => Float32Array.from({ length: n }, random);
    let worst = 0, cases = 0;
    for (const [cin, cout, groups, size, k] of [[64, 160, 1, 7, 3], [96, 576, 1, 7, 1], [48, 200, 1, 8, 3], [32, 256, 1, 5, 1], [64, 128, 2, 7, 3]]) {
      const weight = floats(cout * (cin / groups) * k * k), bias = floats(cout), input = floats(cin * size * size);
      const g = planConv('rows split', [1, cin, size, size], { outChannels: cout, groups, kernel: [k, k], stride: [1, 1], dilation: [1, 1], padding: Math.floor(k / 2) });
      const options = { inChannels: cin, outChannels: cout, groups, kernelH: k, kernelW: k, weight, bias, activation: { kind: 'relu' }, stride: [1, 1], dilation: [1, 1], padding: Math.floor(k / 2) };
      const want = new Float32Array(cout * g.outH * g.outW);
      jsBackend.prepareConv2d(options).runSync(input, g, want, null);
      for (const threads of [2, 8, 16]) {
        setNumThreads(threads);
        const got = new Float32Array(want.length).fill(NaN);
        native.prepareConv2d(options).runSync(input, g, got, null);
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Number.isNaN(got[i]) ? Infinity : Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
        cases++;
      }
    }
    console.log(JSON.stringify({ worst, cases }));
  })().catch((e) => { console.error(e); process.exit(1); });
`;

describe('GEMM convs split by rows on small maps (CONVNODE_GEMM_SPLIT=rows)', () => {
  it('match the pure-JS backend at 2, 8 and 16 threads', () => {
    const out = execFileSync(process.execPath, ['-e', ROWS_CHILD], { encoding: 'utf8', env: { ...process.env, CONVNODE_GEMM_SPLIT: 'rows' } });
    const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as { worst: number; cases: number };
    expect(r.cases).toBe(15);
    expect(r.worst).toBeLessThan(1e-4);
  });
});
