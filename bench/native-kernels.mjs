#!/usr/bin/env node
// Native kernels against the pure-JS backend, in one process: ms (median), GFLOP/s
// (2 x multiply-adds / s) and % of this CPU's single-core FMA peak, measured here with the
// addon's probe. Run after `npm run build` and `npm run build:native`:
//   node bench/native-kernels.mjs [--quick]   (--quick: JS only at batch 1)
// Goals (issue 3): 3x3 and 1x1 convs >= 70% of single-core peak on 1 thread; native >= 30x JS
// on 3x3 64->64; 2 threads >= 1.7x 1 thread at batch 8.
// 3x3 stride-1 convs with Cin >= 24, Cout >= 16 and maps >= 6x6 run native Winograd F(2x2, 3x3),
// which does 2.25x fewer multiplies: their GFLOP/s (and % of peak) are *effective*, the direct
// conv's FLOPs over the time, and can exceed the FMA peak. The table marks them with 'W'.
import os from 'node:os';
import { jsBackend } from '../dist/backends/js.js';
import { availableIsas, getIsa, getNumThreads, loadNativeBackend, measurePeakGflops, setIsa, setNumThreads } from '../dist/backends/native.js';
import { planConv, planWindow } from '../dist/planner/geometry.js';
import { parseFlags } from './harness.mjs';

const quick = parseFlags(import.meta.url, { '--quick': false })['--quick'];
const native = loadNativeBackend();
if (native instanceof Error) {
  console.error(`native backend unavailable: ${native.message}`);
  process.exit(1);
}

// goal: one of the layers issue 3 names (its 2-thread scaling goal applies to these).
const LAYERS = [
  { name: '3x3 64->64 @56', conv: [64, 64, 56, 3, 1, 1, 1], goal: true },
  { name: '7x7/2 3->64 @224', conv: [3, 64, 224, 7, 2, 3, 1], goal: true },
  { name: '3x3 256->256 @14', conv: [256, 256, 14, 3, 1, 1, 1], goal: true },
  { name: '1x1 256->64 @56', conv: [256, 64, 56, 1, 1, 0, 1], goal: true },
  { name: 'dw 3x3 32 @112', conv: [32, 32, 112, 3, 1, 1, 32], goal: true },
  { name: 'dw 3x3/2 144 @56', conv: [144, 144, 56, 3, 2, 1, 144], goal: true },
  // MobileNetV2's narrow depthwise planes (7 and 14 wide): the zero-padded block path.
  { name: 'dw 3x3 960 @7', conv: [960, 960, 7, 3, 1, 1, 960] },
  { name: 'dw 3x3/2 576 @14', conv: [576, 576, 14, 3, 2, 1, 576] },
  // A classifier head: batch <= 4 takes the GEMV path, 8 the GEMM.
  { name: 'linear 1280->1000', linear: [1280, 1000] },
  { name: 'maxpool 3x3/2 64 @112', pool: [64, 112, 3, 2, 1], goal: true },
];

function random(length) {
  const a = new Float32Array(length);
  for (let i = 0; i < length; i++) a[i] = Math.random() * 2 - 1;
  return a;
}

/**
 * Median wall ms of `run` over at least minReps runs and about budgetMs of work (after one
 * warm-up), and the median process CPU ms of the same runs: on a shared machine, wall well above
 * CPU / threads means other processes took the cores.
 */
function time(run, minReps, budgetMs) {
  run();
  const wall = [];
  const cpu = [];
  const start = performance.now();
  while (wall.length < minReps || (performance.now() - start < budgetMs && wall.length < 50)) {
    const c = process.cpuUsage();
    const t = performance.now();
    run();
    wall.push(performance.now() - t);
    const used = process.cpuUsage(c);
    cpu.push((used.user + used.system) / 1000);
  }
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { ms: median(wall), cpuMs: median(cpu) };
}

function prepare(layer, batch) {
  if (layer.conv) {
    const [cin, cout, size, k, s, p, groups] = layer.conv;
    const g = planConv(layer.name, [batch, cin, size, size], {
      inChannels: cin, outChannels: cout, groups, kernel: [k, k], stride: [s, s], dilation: [1, 1], padding: p,
    });
    const weights = {
      inChannels: cin, outChannels: cout, groups, kernelH: k, kernelW: k,
      weight: random((cout * cin * k * k) / groups), bias: random(cout), activation: { kind: 'relu' },
      stride: [s, s], padding: p, inputSize: [size, size], // the conv is planned for this window
    };
    const input = random(batch * cin * size * size);
    const output = new Float32Array(batch * cout * g.outH * g.outW);
    const flops = 2 * batch * cout * g.outH * g.outW * (cin / groups) * k * k;
    const runner = (backend) => {
      const kernel = backend.prepareConv2d(weights);
      return () => kernel.runSync(input, g, output);
    };
    return { flops, runner };
  }
  if (layer.linear) {
    const [inFeatures, outFeatures] = layer.linear;
    const weights = { inFeatures, outFeatures, weight: random(inFeatures * outFeatures), bias: random(outFeatures), activation: { kind: 'none' } };
    const input = random(batch * inFeatures);
    const output = new Float32Array(batch * outFeatures);
    const runner = (backend) => {
      const kernel = backend.prepareLinear(weights);
      return () => kernel.runSync(input, batch, output);
    };
    return { flops: 2 * batch * inFeatures * outFeatures, runner };
  }
  const [channels, size, k, s, p] = layer.pool;
  const window = planWindow(layer.name, size, size, { kernel: [k, k], stride: [s, s], dilation: [1, 1], padding: p });
  const g = { ...window, batch, channels, kind: 'max', countIncludePad: false };
  const input = random(batch * channels * size * size);
  const output = new Float32Array(batch * channels * g.outH * g.outW);
  return { flops: 0, runner: (backend) => () => backend.pool2dSync(input, g, output) };
}

const allThreads = os.availableParallelism();
const restoreThreads = getNumThreads();
// The probe is the best of a few runs: on a busy machine a single one can read low and make
// the kernels look faster than they are.
// Every vector tier's peak is printed; the table's % are of the active tier's.
const activeIsa = getIsa();
const tierPeaks = [];
for (const isa of availableIsas().filter((t) => t !== 'scalar')) {
  setIsa(isa);
  tierPeaks.push([isa, Math.max(measurePeakGflops(), measurePeakGflops(), measurePeakGflops())]);
}
setIsa(activeIsa);
const peak = tierPeaks.find(([isa]) => isa === activeIsa)?.[1] ?? Math.max(measurePeakGflops(), measurePeakGflops(), measurePeakGflops());
console.log(`convnode native kernels — ISA ${activeIsa}, ${allThreads} threads available, ${os.cpus()[0]?.model ?? 'unknown CPU'}`);
console.log(`single-core FMA peak (measured): ${tierPeaks.map(([isa, g]) => `${isa} ${g.toFixed(1)}`).join(', ')} GFLOP/s (% below: of ${activeIsa}'s); load average ${os.loadavg()[0].toFixed(2)}\n`);

// Mirrors winograd_weights_suit / winograd_suits in native/ops/winograd.cc (for the 'W' mark only).
function nativeWinograd(layer) {
  if (!layer.conv) return false;
  const [cin, cout, size, k, s, p, groups] = layer.conv;
  const out = size + 2 * p - k + 1;
  return k === 3 && s === 1 && groups === 1 && cin >= 24 && cout >= 16 && out >= 6;
}

const header = ['layer', 'batch', 'threads', 'native ms', 'GFLOP/s', '% 1-core peak', 'cpu ms', 'GFLOP/s/core', '% peak/core', 'js ms', 'native/js'];
const rows = [];
const results = new Map();
for (const layer of LAYERS) {
  for (const batch of [1, 8]) {
    const { flops, runner } = prepare(layer, batch);
    let jsMs = null;
    if (!(quick && batch > 1)) jsMs = time(runner(jsBackend), batch > 1 ? 1 : 3, batch > 1 ? 0 : 500).ms;
    for (const threads of [...new Set([1, allThreads])]) {
      setNumThreads(threads);
      const { ms, cpuMs } = time(runner(native), 5, 400);
      const gflops = flops ? flops / ms / 1e6 : null;
      // Per core, from CPU time: what the kernels achieve while they hold a core, whatever else
      // the machine runs (CPU time sums over threads, so this is per-core efficiency).
      const perCore = flops ? flops / cpuMs / 1e6 : null;
      results.set(`${layer.name}|${batch}|${threads}`, { ms, gflops, perCore });
      const pct = (v) => (v ? `${((100 * v) / peak).toFixed(0)}%` : '-');
      rows.push([
        nativeWinograd(layer) ? `${layer.name} W` : layer.name, String(batch), String(threads), ms.toFixed(3),
        gflops ? gflops.toFixed(1) : '-', pct(gflops),
        cpuMs.toFixed(3), perCore ? perCore.toFixed(1) : '-', pct(perCore),
        jsMs === null ? '-' : jsMs.toFixed(1),
        jsMs === null ? '-' : `${(jsMs / ms).toFixed(1)}x`,
      ]);
    }
  }
}
setNumThreads(restoreThreads);

const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of rows) console.log(line(r));

console.log(`\nW: native Winograd F(2x2, 3x3); GFLOP/s and % of peak are effective (direct-conv FLOPs / time).`);
console.log(`load average at the end: ${os.loadavg()[0].toFixed(2)}`);
console.log('Goals:');
for (const name of ['3x3 64->64 @56', '3x3 256->256 @14', '1x1 256->64 @56']) {
  for (const batch of [1, 8]) {
    const r = results.get(`${name}|${batch}|1`);
    const wall = (100 * r.gflops) / peak;
    const cpu = (100 * r.perCore) / peak;
    const verdict = wall >= 70 ? 'met' : cpu >= 70 ? 'met per CPU time only (wall time lost to other processes)' : 'MISSED';
    const effective = nativeWinograd(LAYERS.find((l) => l.name === name)) ? ' (effective, Winograd)' : '';
    console.log(`  ${name} batch ${batch}, 1 thread: ${wall.toFixed(0)}% of peak by wall time, ${cpu.toFixed(0)}% by CPU time${effective} (goal >= 70%) ${verdict}`);
  }
}
const speedupRow = rows.find((r) => r[0].startsWith('3x3 64->64 @56') && r[1] === '1' && r[2] === '1');
console.log(`  3x3 64->64 native vs js (batch 1, 1 thread): ${speedupRow[10]} (goal >= 30x)`);
if (allThreads > 1) {
  for (const layer of LAYERS) {
    const one = results.get(`${layer.name}|8|1`);
    const all = results.get(`${layer.name}|8|${allThreads}`);
    const scale = one.ms / all.ms;
    // The issue's goal covers the layers it lists; the rest are timed for the models' sake.
    const verdict = layer.goal ? `(goal >= 1.7x) ${scale >= 1.7 ? 'met' : 'MISSED'}` : '(not one of the goal layers)';
    console.log(`  ${layer.name} batch 8: ${allThreads} threads ${scale.toFixed(2)}x 1 thread ${verdict}`);
  }
}
