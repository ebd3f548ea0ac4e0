// `convnode bench model.onnx`: the flags, the JSON report's shape and arithmetic, and the errors
// (a missing file, a bad --input, a model whose input rank the shape does not match). Timings
// are only checked for consistency with each other, never for speed.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeModel, floatTensor, node } from './onnx-model-builder.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'convnode.js');
const builtin = join(root, 'models', 'lenet5-fashion.onnx');

function convnode(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: root }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

let dir = '';
let rank2Model = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'convnode-bench-'));
  // A model whose input is [N, 4] (rank 2): Gemm with a 3x4 weight.
  rank2Model = join(dir, 'gemm.onnx');
  writeFileSync(
    rank2Model,
    encodeModel({
      nodes: [node('Gemm', ['x', 'w'], ['y'], { transB: { i: 1 } })],
      inputs: [{ name: 'x', shape: ['n', 4] }],
      outputs: [{ name: 'y' }],
      initializers: [floatTensor('w', [3, 4], Array.from({ length: 12 }, (_, i) => i / 12))],
    }),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('convnode bench <model.onnx>', () => {
  it('--json reports one row per batch x threads with consistent latency, throughput and GFLOP/s', async () => {
    const run = await convnode('bench', builtin, '--batch', '1,4', '--threads', '1', '--runs', '5', '--json');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.model).toBe(builtin);
    expect(report.input).toEqual([1, 1, 28, 28]);
    expect(typeof report.cpu).toBe('string');
    expect(['native', 'wasm', 'js']).toContain(report.backend);
    expect(['avx2', 'neon', 'scalar', 'avx512', 'js']).toContain(report.isa);
    expect(report.runs).toBe(5);
    // The multiply-adds the planner table counts for the same model and shape.
    const summary = JSON.parse((await convnode('summary', builtin, '--input', '1x1x28x28', '--json')).stdout);
    expect(report.multiplyAddsPerImage).toBe(summary.totals.multiplyAdds);
    expect(report.convnode.map((r: { batch: number; threads: number }) => [r.batch, r.threads])).toEqual([[1, 1], [4, 1]]);
    for (const r of report.convnode) {
      expect(r.runs).toBe(5);
      expect(r.p50Ms).toBeGreaterThan(0);
      expect(r.p50Ms).toBeLessThanOrEqual(r.p90Ms);
      expect(r.p90Ms).toBeLessThanOrEqual(r.p99Ms);
      expect(r.imagesPerSecond).toBeCloseTo((r.batch * 1000) / r.p50Ms, 6);
      expect(r.gflops).toBeCloseTo((2 * report.multiplyAddsPerImage * r.batch) / (r.p50Ms * 1e6), 6);
    }
    expect(report.slowestOps).toBeUndefined();
    expect(report.onnxruntime).toBeUndefined();
  });

  it('--profile lists the slowest ops, slowest first', async () => {
    const run = await convnode('bench', builtin, '--runs', '3', '--profile', '--json');
    expect(run.code).toBe(0);
    const ops = JSON.parse(run.stdout).slowestOps as { name: string; type: string; ms: number }[];
    expect(ops.length).toBeGreaterThan(0);
    expect(ops.length).toBeLessThanOrEqual(10);
    expect(ops.some((o) => /^Conv\b/.test(o.type))).toBe(true); // 'Conv' or a fused 'Conv+Relu'
    for (let i = 1; i < ops.length; i++) expect(ops[i].ms).toBeLessThanOrEqual(ops[i - 1].ms);
  });

  it('prints a table naming the CPU and ISA without --json', async () => {
    const run = await convnode('bench', builtin, '--runs', '3');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/multiply-adds per image/);
    expect(run.stdout).toMatch(/ISA (avx2|avx512|neon|scalar|js)/);
    expect(run.stdout).toMatch(/p50 ms\s+p90 ms\s+p99 ms\s+images\/s\s+GFLOP\/s/);
  });

  it.each([
    [['bench', 'no-such-model.onnx'], 2, /model file 'no-such-model\.onnx' does not exist/],
    [['bench', builtin, '--input', '1x1x28'], 2, /--input must be an NCHW shape/],
    [['bench', builtin, '--batch', '1,0'], 2, /--batch must be a whole number from 1/],
    [['bench', builtin, '--runs', 'many'], 2, /--runs must be a whole number/],
    [['bench', builtin, '--input', '1x3x28x28'], 1, /input '.*': dimension 1 must be 1/],
    [['bench'], 2, /give a model to time.*npm run bench/],
  ])('convnode %j fails with a message naming the problem', async (args, code, message) => {
    const run = await convnode(...(args as string[]));
    expect(run.code).toBe(code);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
  });

  it('a model whose input rank does not match --input is a ShapeError naming the rank', async () => {
    const run = await convnode('bench', rank2Model, '--input', '1x4x1x1');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/expected rank 2 .* got \[1, 4, 1, 1\] \(rank 4\)/);
  });
});
