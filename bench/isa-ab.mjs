#!/usr/bin/env node
// The ISA tiers side by side in one process: each layer is prepared once per tier (setIsa
// before prepare; a prepared layer keeps its tier's kernels and packing), then timed in
// interleaved rounds (odd rounds reverse the tiers' order), medians of the rounds. Prints the CPU
// model, the measured single-core FMA peak of each tier, and per layer ms, GFLOP/s, % of that
// tier's peak and the avx2 / avx512 time ratio. 1 thread unless --threads N.
//   node bench/isa-ab.mjs [--rounds 7] [--threads 1] [--batch 1,8] [--quick]
// --quick: batch 1 only (`npm run bench -- native --quick` passes it to both native sections).
// ResNet-18/50-style layers. A 3x3 64->64 conv at 56x56 takes Winograd F(2x2, 3x3) (its 16
// GEMMs run the tier's micro-kernel); '3x3 128->128 g2 @56' is two 64->64 im2col GEMMs (groups
// keep it off Winograd), the im2col + GEMM path of the same problem.
import os from 'node:os';
import { median } from './ab-addons.mjs';
import { parseFlags, positiveIntegers } from './harness.mjs';
import { availableIsas, getIsa, loadNativeBackend, measurePeakGflops, setIsa, setNumThreads } from '../dist/backends/native.js';
import { planConv, planWindow } from '../dist/planner/geometry.js';

const flags = parseFlags(import.meta.url, { '--rounds': 7, '--threads': 1, '--batch': '1,8', '--quick': false });
const rounds = flags['--rounds'];
const threads = flags['--threads'];
const batches = flags['--quick'] ? [1] : positiveIntegers('--batch', flags['--batch']);

const native = loadNativeBackend();
if (native instanceof Error) {
  console.error(`native backend unavailable: ${native.message}`);
  process.exit(1);
}
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const tiers = availableIsas().filter((isa) => isa === 'avx2' || isa === 'avx512');
if (!tiers.includes('avx512')) {
  console.log(`isa-ab: avx512: skipped, CPU lacks AVX-512F (${cpu}); tiers here: ${availableIsas().join(', ')}`);
  process.exit(0);
}
const initial = getIsa();

// [name, cin, cout, size, kernel, stride, pad, groups]
const LAYERS = [
  ['3x3 64->64 @56 (Winograd)', 64, 64, 56, 3, 1, 1, 1],
  ['3x3 128->128 g2 @56 (im2col)', 128, 128, 56, 3, 1, 1, 2],
  ['1x1 256->64 @56', 256, 64, 56, 1, 1, 0, 1],
  ['1x1 64->256 @56', 64, 256, 56, 1, 1, 0, 1],
  ['3x3/2 128->256 @28', 128, 256, 28, 3, 2, 1, 1],
  ['7x7/2 3->64 @224', 3, 64, 224, 7, 2, 3, 1],
  ['3x3 256->256 @14 (Winograd)', 256, 256, 14, 3, 1, 1, 1],
  ['1x1 16->96 @112 (small K)', 16, 96, 112, 1, 1, 0, 1],
  // A classifier head: the GEMV path at batch <= 2, the GEMM at 8.
  ['linear 1280->1000', 1280, 1000, 0, 0, 0, 0, 0],
];
// Pooling: [name, kind, channels, size, kernel, stride, pad] ('global' kind: size x size planes).
const POOLS = [
  ['maxpool 3x3/2 64 @112', 'max', 64, 112, 3, 2, 1],
  ['maxpool 2x2/2 64 @56', 'max', 64, 56, 2, 2, 0],
  ['avgpool 3x3/1 256 @28', 'avg', 256, 28, 3, 1, 1],
  ['global avg 2048 @7', 'global-avg', 2048, 7, 0, 0, 0],
  ['global max 512 @14', 'global-max', 512, 14, 0, 0, 0],
];

function random(length) {
  const a = new Float32Array(length);
  for (let i = 0; i < length; i++) a[i] = Math.random() * 2 - 1;
  return a;
}

setNumThreads(1);
const peaks = {};
for (const isa of tiers) {
  setIsa(isa);
  // The best of three: on a shared machine one probe can read low.
  peaks[isa] = Math.max(measurePeakGflops(), measurePeakGflops(), measurePeakGflops());
}
setNumThreads(threads);
console.log(`isa-ab: ${cpu}; ${threads} thread(s); ${rounds} interleaved rounds, medians; load average ${os.loadavg()[0].toFixed(2)}`);
console.log(`single-core FMA peak (measured): ${tiers.map((t) => `${t} ${peaks[t].toFixed(1)} GFLOP/s`).join(', ')}\n`);

const rows = [];
for (const batch of batches) {
  for (const [name, cin, cout, size, k, s, p, groups] of LAYERS) {
    const linear = size === 0;
    const g = linear ? null : planConv(name, [batch, cin, size, size], {
      inChannels: cin, outChannels: cout, groups, kernel: [k, k], stride: [s, s], dilation: [1, 1], padding: p,
    });
    const weights = linear
      ? { inFeatures: cin, outFeatures: cout, weight: random(cin * cout), bias: random(cout), activation: { kind: 'none' } }
      : {
        inChannels: cin, outChannels: cout, groups, kernelH: k, kernelW: k,
        weight: random((cout * cin * k * k) / groups), bias: random(cout), activation: { kind: 'relu' },
        stride: [s, s], padding: p, inputSize: [size, size], // the conv is planned for this window
      };
    const input = random(batch * cin * (linear ? 1 : size * size));
    const flops = linear ? 2 * batch * cin * cout : 2 * batch * cout * g.outH * g.outW * (cin / groups) * k * k;
    const runs = tiers.map((isa) => {
      setIsa(isa);
      const kernel = linear ? native.prepareLinear(weights) : native.prepareConv2d(weights);
      const output = new Float32Array(batch * cout * (linear ? 1 : g.outH * g.outW));
      const run = linear ? () => kernel.runSync(input, batch, output) : () => kernel.runSync(input, g, output);
      run();
      return { isa, kernel, run, output, times: [], cpu: [] };
    });
    const algorithm = linear ? 'gemv/gemm' : [...new Set(runs.map((r) => r.kernel.plan.algorithm))].join(' / ');
    rows.push(timeRuns(`${name} [${algorithm}]`, batch, runs, flops));
  }
  for (const [name, kind, channels, size, k, s, p] of POOLS) {
    const input = random(batch * channels * size * size);
    const global = kind.startsWith('global');
    const g = global ? null : {
      ...planWindow(name, size, size, { kernel: [k, k], stride: [s, s], dilation: [1, 1], padding: p }),
      batch, channels, kind, countIncludePad: false,
    };
    const outLength = global ? batch * channels : batch * channels * g.outH * g.outW;
    const runs = tiers.map((isa) => {
      const output = new Float32Array(outLength);
      // Pooling takes the active tier's kernels at each call.
      const run = global
        ? () => { setIsa(isa); native.globalPool2dSync(input, kind.slice(7), batch * channels, size * size, output); }
        : () => { setIsa(isa); native.pool2dSync(input, g, output); };
      run();
      return { isa, run, output, times: [], cpu: [] };
    });
    rows.push(timeRuns(name, batch, runs, 0));
  }
}
setIsa(initial);

function timeRuns(name, batch, runs, flops) {
  // Same input, same weights: the tiers must agree before their times mean anything.
  let worst = 0;
  for (let i = 0; i < runs[0].output.length; i++) worst = Math.max(worst, Math.abs(runs[0].output[i] - runs[1].output[i]));
  // Each sample: the median of a few runs, about 20 ms of work.
  const t0 = performance.now();
  runs[0].run();
  const reps = Math.max(1, Math.min(50, Math.round(20 / Math.max(0.01, performance.now() - t0))));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 ? [...runs].reverse() : runs;
    for (const r of order) {
      const samples = [];
      const c = process.cpuUsage();
      for (let i = 0; i < reps; i++) {
        const t = performance.now();
        r.run();
        samples.push(performance.now() - t);
      }
      const used = process.cpuUsage(c);
      r.times.push(median(samples));
      r.cpu.push((used.user + used.system) / 1000 / reps);
    }
  }
  const ms = Object.fromEntries(runs.map((r) => [r.isa, median(r.times)]));
  const cpuMs = Object.fromEntries(runs.map((r) => [r.isa, median(r.cpu)]));
  const pct = (isa, t) => `${((100 * flops) / t / 1e6 / peaks[isa]).toFixed(0)}%`;
  return [
    name, String(batch),
    ...tiers.flatMap((isa) => [ms[isa].toFixed(3), flops ? `${(flops / ms[isa] / 1e6).toFixed(1)}` : '-', flops ? pct(isa, ms[isa]) : '-',
      cpuMs[isa].toFixed(3), flops ? pct(isa, cpuMs[isa]) : '-']),
    `${(ms.avx2 / ms.avx512).toFixed(2)}x`, `${(cpuMs.avx2 / cpuMs.avx512).toFixed(2)}x`, worst.toExponential(1),
  ];
}

const header = ['layer', 'batch', ...tiers.flatMap((t) => [`${t} ms`, 'GFLOP/s', '% peak', 'cpu ms', '% peak (cpu)']), 'avx2/avx512', '(cpu)', 'max |diff|'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of rows) console.log(line(r));
console.log(`\nms: median wall time; cpu ms: median process CPU time per run (on a shared machine, wall time also`);
console.log(`counts the time other processes held the core). GFLOP/s of the Winograd rows are effective (direct-conv`);
console.log(`FLOPs / time). avx2/avx512 > 1: avx512 faster.`);
console.log(`load average at the end: ${os.loadavg()[0].toFixed(2)}`);
