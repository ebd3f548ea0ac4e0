/**
 * The balanced GEMM cut (native/ops/task_split.cc balanced_gemm_cut, called by split_gemm at 2-4
 * threads when the pixel-block cut leaves fewer than 4 tasks per thread): on small maps at batch
 * 1 the convs' GEMMs are cut over output rows as well as pixel columns so both threads get equal
 * work. A cut only moves whole MR-row panels and NR-wide tiles between tasks, so every output is
 * summed by the same kernel in the same order as on one thread: the answers must be bitwise equal
 * to the 1-thread run at 2, 3, 4, 8 and 16 threads (every job split: setPoolMinSplitUs(0)), with
 * and without a residual, and close to the pure-JS backend. With CONVNODE_GEMM_BALANCE=0 (read at
 * load) a child process must give the same bits as well. The 1x1 convs with few outputs on large
 * maps (native/ops/pointwise_few.cc) cut their pixels into a whole number of equal chunks per
 * thread, and the stride-2 stems (native/ops/conv_phase_rows.cc) split their input's phase rows
 * in row bands: the same check.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../lib/backends/backend.js';
import { jsBackend } from '../lib/backends/js.js';
import { setNumThreads } from '../lib/backends/native.js';
import { useNativeBackend } from './helpers/backends.js';
import { expectClose } from './helpers/numeric.js';
import { convCase, describeCase, runSeededConv, type ConvCase } from './native-support.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

let native: Backend;
useNativeBackend((b) => (native = b));

interface PoolControls {
  setPoolMinSplitUs(us: number): void;
}
const addon = (): PoolControls => createRequire(import.meta.url)('node-gyp-build')(ROOT) as PoolControls;

afterAll(() => {
  addon().setPoolMinSplitUs(-1);
  setNumThreads(2);
});

const relu = { kind: 'relu' as const };
// The late-stage layers of MnasNet, MobileNetV2, ResNeXt and DenseNet at batch 1 (1x1 as
// pointwise GEMMs, 3x3 through im2col), an odd map whose last tile is partial, two groups (two
// independent GEMMs), and batch 2.
const CASES: ConvCase[] = [
  convCase({ batch: 1, inChannels: 96, outChannels: 576, inH: 14, inW: 14, kernel: [1, 1], padding: 0, activation: relu }),
  convCase({ batch: 1, inChannels: 576, outChannels: 96, inH: 14, inW: 14, kernel: [1, 1], padding: 0, residual: true }),
  convCase({ batch: 1, inChannels: 1152, outChannels: 192, inH: 7, inW: 7, kernel: [1, 1], padding: 0 }),
  convCase({ batch: 1, inChannels: 320, outChannels: 1280, inH: 7, inW: 7, kernel: [1, 1], padding: 0, activation: relu }),
  convCase({ batch: 1, inChannels: 40, outChannels: 120, inH: 28, inW: 28, kernel: [1, 1], padding: 0, activation: relu }),
  convCase({ batch: 1, inChannels: 64, outChannels: 160, inH: 7, inW: 7, activation: relu, residual: true }),
  convCase({ batch: 1, inChannels: 48, outChannels: 200, inH: 14, inW: 14 }),
  convCase({ batch: 1, inChannels: 24, outChannels: 40, inH: 13, inW: 11, kernel: [1, 1], padding: 0, activation: relu }),
  convCase({ batch: 1, inChannels: 64, outChannels: 96, groups: 2, inH: 7, inW: 7, activation: relu }),
  convCase({ batch: 2, inChannels: 80, outChannels: 240, inH: 14, inW: 14, kernel: [1, 1], padding: 0, residual: true }),
  // Large maps (pixel blocks evened out: evened_gemm_cut).
  convCase({ batch: 1, inChannels: 64, outChannels: 96, inH: 56, inW: 56, kernel: [1, 1], padding: 0, activation: relu, residual: true }),
  convCase({ batch: 1, inChannels: 8, outChannels: 48, inH: 56, inW: 56 }), // 3x3 through im2col (Cin 8: under the Winograd rule)
  convCase({ batch: 1, inChannels: 48, outChannels: 64, inH: 55, inW: 57, kernel: [1, 1], padding: 0 }),
  // Few outputs on large maps (ops/pointwise_few.cc): equal pixel chunks per thread.
  convCase({ batch: 1, inChannels: 96, outChannels: 24, inH: 56, inW: 56, kernel: [1, 1], padding: 0, residual: true }),
  convCase({ batch: 1, inChannels: 32, outChannels: 16, inH: 112, inW: 112, kernel: [1, 1], padding: 0, activation: relu }),
  convCase({ batch: 1, inChannels: 40, outChannels: 20, inH: 61, inW: 60, kernel: [1, 1], padding: 0 }),
  convCase({ batch: 3, inChannels: 24, outChannels: 32, inH: 57, inW: 57, kernel: [1, 1], padding: 0, activation: relu }),
  // Stride-2 stems (ops/conv_phase_rows.cc): the input's phase rows are split in row bands.
  convCase({ batch: 1, inChannels: 3, outChannels: 24, inH: 64, inW: 64, kernel: [7, 7], stride: [2, 2], padding: 3, activation: relu }),
  convCase({ batch: 2, inChannels: 3, outChannels: 16, inH: 57, inW: 57, kernel: [3, 3], stride: [2, 2], padding: 1 }),
];

const runCase = (backend: Backend, c: ConvCase, seed = c.inChannels * 131 + c.outChannels * 7 + c.inH): Float32Array =>
  runSeededConv(backend, c, seed);

/** How many outputs differ in their bits (NaN, an unwritten output, counts as different). */
function bitDifferences(a: Float32Array, b: Float32Array): number {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let n = a.length === b.length ? 0 : Math.max(a.length, b.length);
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (x[i] !== y[i] || Number.isNaN(a[i])) n++;
  return n;
}

describe('balanced GEMM cut on small maps at batch 1', () => {
  for (const c of CASES) {
    it(`${describeCase(c)}: bitwise the 1-thread answer at 2, 3, 4, 8, 16 threads, close to the JS backend`, () => {
      setNumThreads(1);
      addon().setPoolMinSplitUs(-1);
      const one = runCase(native, c);
      expectClose(one, runCase(jsBackend, c), `${describeCase(c)} 1 thread vs JS`);
      addon().setPoolMinSplitUs(0);
      for (const threads of [2, 3, 4, 8, 16]) {
        // Another input first, on one thread (every scratch row written), so scratch a cut forgot
        // to fill (the stems' phase rows on the calling thread) holds other values than this run's.
        setNumThreads(1);
        runCase(native, c, 99);
        setNumThreads(threads);
        expect(bitDifferences(runCase(native, c), one), `${describeCase(c)} at ${threads} threads`).toBe(0);
      }
    });
  }
});

// The same cases in a child with the balanced cut off (CONVNODE_GEMM_BALANCE=0, read once): the
// pixel-block cut must give the same bits too, so the A/B switch compares speed only.
const CHILD = `
  (async () => {
    const addon = require(${JSON.stringify(path.join(ROOT, 'node_modules', 'node-gyp-build'))})(${JSON.stringify(ROOT)});
    const { loadNativeBackend, setNumThreads } = await import(${JSON.stringify(path.join(ROOT, 'dist', 'backends', 'native.js'))});
    const { planConv } = await import(${JSON.stringify(path.join(ROOT, 'dist', 'planner', 'geometry.js'))});
    const native = loadNativeBackend();
    const sums = [];
    for (const [cin, cout, size, k] of [[96, 576, 14, 1], [64, 160, 7, 3], [1152, 192, 7, 1]]) {
      let seed = cin + cout;
      const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
      const floats = (n) => Float32Array.from({ length: n }, random);
      const weight = floats(cout * cin * k * k), bias = floats(cout), input = floats(cin * size * size);
      const g = planConv('balance', [1, cin, size, size], { outChannels: cout, groups: 1, kernel: [k, k], stride: [1, 1], dilation: [1, 1], padding: Math.floor(k / 2) });
      const options = { inChannels: cin, outChannels: cout, groups: 1, kernelH: k, kernelW: k, weight, bias, activation: { kind: 'relu' }, stride: [1, 1], dilation: [1, 1], padding: Math.floor(k / 2) };
      for (const threads of [1, 2, 4]) {
        setNumThreads(threads);
        addon.setPoolMinSplitUs(threads === 1 ? -1 : 0);
        const out = new Float32Array(cout * g.outH * g.outW);
        native.prepareConv2d(options).runSync(input, g, out, null);
        sums.push(Buffer.from(out.buffer).toString('base64'));
      }
    }
    console.log(JSON.stringify(sums));
  })().catch((e) => { console.error(e); process.exit(1); });
`;

describe('CONVNODE_GEMM_BALANCE', () => {
  it('on (default) and 0 give the same bits at 1, 2 and 4 threads', () => {
    const run = (env: NodeJS.ProcessEnv): string[] =>
      JSON.parse(execFileSync(process.execPath, ['-e', CHILD], { encoding: 'utf8', env, maxBuffer: 64 << 20 }).trim().split('\n').pop() ?? '[]');
    const env = { ...process.env };
    delete env.CONVNODE_GEMM_BALANCE;
    const on = run(env);
    const off = run({ ...env, CONVNODE_GEMM_BALANCE: '0' });
    expect(on.length).toBe(9);
    expect(off).toEqual(on);
    // Within one process, every thread count gives the 1-thread bits.
    for (let i = 0; i < on.length; i += 3) expect([on[i + 1], on[i + 2]]).toEqual([on[i], on[i]]);
  });
});
