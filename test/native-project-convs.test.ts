// MobileNetV2's 1x1 "project" convs (few outputs, many inputs, no activation): on one thread, maps
// from 28x28 with at most two weight panels now read the input rows in place
// (native/ops/pointwise_few.cc); on 2 and 8 threads maps under 56x56 keep the packed GEMM. This
// pins both sides of that choice, and the 7x7 / 5x5 project shapes of the packed GEMM (K blocks, a
// partial last row panel), against the pure-JS backend, in a child process as
// native-prefetch-tiles.test.ts does.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Backend } from '../lib/backends/backend.js';
import { useNativeBackend } from './helpers/backends.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

let native: Backend | undefined;
useNativeBackend((b) => (native = b));

// Cases [batch, cin, cout, height, width, kernel, residual, activation]:
//   192->32 @28 (in place, K = one whole K block), 144->24 @28x29 (in place, a partial second
//   panel, 812 pixels: a 12-pixel last tile), 100->17 @28 (17 rows: a 1-row second panel);
//   960->48 @7 (5 K blocks, 3 panels), 400->40 @5 (2 tiles a panel, a partial last panel, 3 K
//   blocks), 576->160 @7 with a residual, 3x3 64->40 @7 through im2col with relu.
const CHILD = `
  (async () => {
    const { loadNativeBackend, setNumThreads } = await import(${JSON.stringify(path.join(ROOT, 'dist', 'backends', 'native.js'))});
    const { jsBackend } = await import(${JSON.stringify(path.join(ROOT, 'dist', 'backends', 'js.js'))});
    const { planConv } = await import(${JSON.stringify(path.join(ROOT, 'dist', 'planner', 'geometry.js'))});
    const native = loadNativeBackend();
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
    const floats = (n) => Float32Array.from({ length: n }, random);
    let worst = 0, cases = 0;
    const shapes = [[1, 192, 32, 28, 28, 1, false, 'none'], [2, 144, 24, 28, 29, 1, true, 'none'],
                    [1, 100, 17, 28, 28, 1, false, 'relu6'], [1, 960, 48, 7, 7, 1, false, 'none'],
                    [2, 400, 40, 5, 5, 1, false, 'none'], [1, 576, 160, 7, 7, 1, true, 'none'],
                    [1, 64, 40, 7, 7, 3, false, 'relu']];
    for (const [batch, cin, cout, h, w, k, withResidual, kind] of shapes) {
      const pad = Math.floor(k / 2);
      const weight = floats(cout * cin * k * k), bias = floats(cout), input = floats(batch * cin * h * w);
      const g = planConv('project', [batch, cin, h, w], { outChannels: cout, groups: 1, kernel: [k, k], stride: [1, 1], dilation: [1, 1], padding: pad });
      const options = { inChannels: cin, outChannels: cout, groups: 1, kernelH: k, kernelW: k, weight, bias, activation: { kind }, stride: [1, 1], dilation: [1, 1], padding: pad };
      const outLength = batch * cout * g.outH * g.outW;
      const residual = withResidual ? floats(outLength) : null;
      const want = new Float32Array(outLength);
      jsBackend.prepareConv2d(options).runSync(input, g, want, residual);
      const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-6);
      for (const threads of [1, 2, 8]) {
        setNumThreads(threads);
        const got = new Float32Array(outLength).fill(NaN);
        native.prepareConv2d(options).runSync(input, g, got, residual);
        for (let i = 0; i < outLength; i++) worst = Math.max(worst, Number.isNaN(got[i]) ? Infinity : Math.abs(got[i] - want[i]) / scale);
        cases++;
      }
    }
    console.log(JSON.stringify({ worst, cases }));
  })().catch((e) => { console.error(e); process.exit(1); });
`;

describe('1x1 project convs: in place from 28x28 on 1 thread, the packed GEMM otherwise', () => {
  it('match the pure-JS backend, batch 1 and 2, 1, 2 and 8 threads', () => {
    expect(native).toBeDefined();
    const out = execFileSync(process.execPath, ['-e', CHILD], { encoding: 'utf8' });
    const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as { worst: number; cases: number };
    expect(r.cases).toBe(21);
    expect(r.worst).toBeLessThan(1e-5);
  });
});
