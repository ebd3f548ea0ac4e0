// Winograd convs whose Cin takes several K blocks (ResNet's 256 and 512 channels): the point
// GEMMs walk U themselves (native/ops/winograd.cc, k_blocked_point_gemms), the input transform
// writes K-blocked B panels, and on AVX-512 the full 16x16 tiles run the U-prefetching tile
// (f32_winograd_gemm_16x16__avx512). Pinned against the pure-JS backend over odd maps 1..30,
// both tiles, a partial last row panel (40 = 16 + 16 + 8 outputs, 17), residual + relu, batch 2,
// on 1, 2 and 8 threads (the same bits on each since chunks are whole tile panels:
// test/native-winograd-threads.test.ts). A child process (the switches are read once per process) checks that
// CONVNODE_WINOGRAD_PREFETCH=0 and CONVNODE_WINOGRAD_HUGE_PAGES=0 give the same bits as the
// defaults: the prefetching tile sums in the table tile's order.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Backend, ConvAlgorithm } from '../lib/backends/backend.js';
import { jsBackend } from '../lib/backends/js.js';
import { setNumThreads } from '../lib/backends/native.js';
import { useNativeBackend } from './helpers/backends.js';
import { expectCloseToScale } from './helpers/numeric.js';
import { convCase, describeCase, runSeededConv, type ConvCase } from './native-support.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

let native: Backend | undefined;
useNativeBackend((b) => (native = b));

afterAll(() => setNumThreads(2));

// Cin 200 is two K blocks on AVX-512 (kc_max 192), 520 is three there and on AVX2 (256); odd
// maps whose last tiles are cut (1, 3, 5: one tile; 7 and 14: ResNet's), a map of 30 (F(4x4):
// 8 tiles a row, 64 in all) and 23 (F(2x2): 144 tiles, several chunks).
const relu = { activation: { kind: 'relu' } as const, residual: true };
const CASES: ConvCase[] = [
  ...[1, 3, 5, 7, 9, 13, 14, 17, 23, 30].map((size) =>
    convCase({ batch: size % 2 === 0 ? 2 : 1, inChannels: 200, outChannels: 40, inH: size, inW: size, ...relu })),
  convCase({ batch: 1, inChannels: 520, outChannels: 17, inH: 7, inW: 7, ...relu }),
  convCase({ batch: 2, inChannels: 256, outChannels: 33, inH: 14, inW: 11 }),
  convCase({ batch: 1, inChannels: 300, outChannels: 16, inH: 29, inW: 6, padding: [1, 0, 2, 1], ...relu }),
];

describe('Winograd convs with several K blocks against the pure-JS backend', () => {
  // F(4x4)'s transforms scale values up to 5x (input) and 8x (output) per axis: a looser bound.
  const tiles: [ConvAlgorithm, number][] = [['winograd-f2x2-3x3', 2e-5], ['winograd-f4x4-3x3', 2e-4]];
  for (const [algorithm, relative] of tiles) {
    for (const [i, c] of CASES.entries()) {
      it(`${algorithm} ${describeCase(c)} on 1, 2 and 8 threads`, () => {
        expect(native).toBeDefined();
        const want = runSeededConv(jsBackend, c, 40 + i, 'im2col-gemm');
        for (const threads of [1, 2, 8]) {
          setNumThreads(threads);
          expectCloseToScale(runSeededConv(native!, c, 40 + i, algorithm), want, `${algorithm} ${describeCase(c)} on ${threads} threads`, relative);
        }
      });
    }
  }
});

// The child prints, per case, a digest of the native output's bits and its worst error against
// the pure-JS backend relative to max |expected|.
const CHILD = `
  (async () => {
    const { createHash } = await import('node:crypto');
    const { loadNativeBackend, setNumThreads } = await import(${JSON.stringify(path.join(ROOT, 'dist', 'backends', 'native.js'))});
    const { jsBackend } = await import(${JSON.stringify(path.join(ROOT, 'dist', 'backends', 'js.js'))});
    const { planConv } = await import(${JSON.stringify(path.join(ROOT, 'dist', 'planner', 'geometry.js'))});
    const native = loadNativeBackend();
    setNumThreads(1);
    let seed = 5;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
    const floats = (n) => Float32Array.from({ length: n }, random);
    const results = [];
    for (const [batch, cin, cout, size] of [[1, 512, 48, 7], [2, 256, 33, 14], [1, 200, 40, 9]]) {
      const weight = floats(cout * cin * 9), bias = floats(cout), input = floats(batch * cin * size * size);
      const g = planConv('k blocks', [batch, cin, size, size], { outChannels: cout, groups: 1, kernel: [3, 3], stride: [1, 1], dilation: [1, 1], padding: 1 });
      const options = { inChannels: cin, outChannels: cout, groups: 1, kernelH: 3, kernelW: 3, weight, bias, activation: { kind: 'relu' }, stride: [1, 1], dilation: [1, 1], padding: 1 };
      const length = batch * cout * g.outH * g.outW;
      const residual = floats(length);
      const want = new Float32Array(length);
      jsBackend.prepareConv2d({ ...options, algorithm: 'im2col-gemm' }).runSync(input, g, want, residual);
      const got = new Float32Array(length).fill(NaN);
      native.prepareConv2d({ ...options, algorithm: 'winograd-f2x2-3x3' }).runSync(input, g, got, residual);
      const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 1);
      let worst = 0;
      for (let i = 0; i < length; i++) worst = Math.max(worst, Number.isNaN(got[i]) ? Infinity : Math.abs(got[i] - want[i]) / scale);
      results.push({ digest: createHash('sha256').update(new Uint8Array(got.buffer)).digest('hex'), worst });
    }
    console.log(JSON.stringify(results));
  })().catch((e) => { console.error(e); process.exit(1); });
`;

function childResults(env: Record<string, string>): { digest: string; worst: number }[] {
  const out = execFileSync(process.execPath, ['-e', CHILD], { encoding: 'utf8', env: { ...process.env, ...env } });
  return JSON.parse(out.trim().split('\n').pop()!);
}

describe('CONVNODE_WINOGRAD_PREFETCH and CONVNODE_WINOGRAD_HUGE_PAGES change no result', () => {
  it('512->48 @7, 256->33 @14 (batch 2), 200->40 @9: the same bits with either switch off, within 2e-5 of JS', () => {
    expect(native).toBeDefined();
    const defaults = childResults({});
    for (const r of defaults) expect(r.worst).toBeLessThanOrEqual(2e-5);
    for (const env of [{ CONVNODE_WINOGRAD_PREFETCH: '0' }, { CONVNODE_WINOGRAD_HUGE_PAGES: '0' }]) {
      expect(childResults(env).map((r) => r.digest), JSON.stringify(env)).toEqual(defaults.map((r) => r.digest));
    }
  });
});
