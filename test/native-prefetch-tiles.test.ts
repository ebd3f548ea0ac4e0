// CONVNODE_PREFETCH_TILES (native/ops/gemm_driver.cc, gemm_block): the output and residual rows
// of a tile a few tiles ahead are prefetched. Prefetches are hints and must not change a result,
// but the walk that computes which tile is "ahead" (row panel, column, the block's last tiles,
// partial row panels, a second K block) is new code: a child process (the switch is read once
// per process) runs GEMM convs through every form it touches, against the pure-JS backend.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Backend } from '../lib/backends/backend.js';
import { useNativeBackend } from './helpers/backends.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

let native: Backend | undefined;
useNativeBackend((b) => (native = b));

// Cases [batch, cin, cout, size, kernel, stride, residual]: 1x1 with K = 64 (4 tiles ahead under
// "auto"), 128, 300 (two K blocks: the first without epilogue), 40 outputs (a partial 16-row
// panel), a 13x13 map (a partial column tile), 3x3 through im2col, a 1x1/2 downsample; at
// batch 1 and 2, on 1 and 2 threads.
const CHILD = `
  (async () => {
    const { loadNativeBackend, setNumThreads } = await import(${JSON.stringify(path.join(ROOT, 'dist', 'backends', 'native.js'))});
    const { jsBackend } = await import(${JSON.stringify(path.join(ROOT, 'dist', 'backends', 'js.js'))});
    const { planConv } = await import(${JSON.stringify(path.join(ROOT, 'dist', 'planner', 'geometry.js'))});
    const native = loadNativeBackend();
    let seed = 11;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
    const floats = (n) => Float32Array.from({ length: n }, random);
    let worst = 0, cases = 0;
    const shapes = [[1, 64, 256, 20, 1, 1, true], [2, 128, 64, 17, 1, 1, true], [1, 300, 48, 14, 1, 1, false],
                    [2, 64, 40, 13, 1, 1, true], [1, 32, 64, 15, 3, 1, true], [2, 48, 96, 16, 1, 2, false]];
    for (const [batch, cin, cout, size, k, stride, withResidual] of shapes) {
      const pad = Math.floor(k / 2);
      const weight = floats(cout * cin * k * k), bias = floats(cout), input = floats(batch * cin * size * size);
      const g = planConv('prefetch tiles', [batch, cin, size, size], { outChannels: cout, groups: 1, kernel: [k, k], stride: [stride, stride], dilation: [1, 1], padding: pad });
      const options = { inChannels: cin, outChannels: cout, groups: 1, kernelH: k, kernelW: k, weight, bias, activation: { kind: 'relu' }, stride: [stride, stride], dilation: [1, 1], padding: pad };
      const outLength = batch * cout * g.outH * g.outW;
      const residual = withResidual ? floats(outLength) : null;
      const want = new Float32Array(outLength);
      jsBackend.prepareConv2d(options).runSync(input, g, want, residual);
      const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-6);
      for (const threads of [1, 2]) {
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

describe('GEMM convs with the tile-ahead prefetch (CONVNODE_PREFETCH_TILES)', () => {
  for (const setting of ['auto', '3', '1000']) {
    it(`match the pure-JS backend with CONVNODE_PREFETCH_TILES=${setting}, batch 1 and 2, 1 and 2 threads`, () => {
      expect(native).toBeDefined();
      const out = execFileSync(process.execPath, ['-e', CHILD], { encoding: 'utf8', env: { ...process.env, CONVNODE_PREFETCH_TILES: setting } });
      const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as { worst: number; cases: number };
      expect(r.cases).toBe(12);
      expect(r.worst).toBeLessThan(1e-5);
    });
  }
});
