#!/usr/bin/env node
// GCC vs Zig (clang): the same sources built by two toolchains, timed in one process. [0] is this
// checkout's build (build/Release: CMake with the system GCC), [1..] each --addon (for the zig
// prebuild: build-prebuild/linux-x64-glibc/convnode.node from `npm run prebuilds`). One layer of
// each kind the models spend their time in: a 3x3 conv through im2col + GEMM, one through
// Winograd, a 1x1, a 3x3 depthwise, a 3x3 stride-2 max pool; batch 1 and 8 on 1 thread (the
// kernels, not the pool). Interleaved rounds, order alternating, medians; outputs compared.
// Each sample records wall time and the process's CPU time (one thread runs the kernel, so on a
// loaded machine CPU time is the steadier measure: waiting for a core does not count).
// CONVNODE_ISA=avx2 (or scalar) makes every build take that tier.
//
//   node bench/toolchains.mjs --addon build-prebuild/linux-x64-glibc/convnode.node [--rounds 9] [--ms 40]
import os from 'node:os';
import { planConv, planWindow } from '../dist/planner/geometry.js';
import { planConvAlgorithm } from '../dist/planner/conv-plan.js';
import { calibratedSample, interleavedRounds, loadAddons, median } from './ab-addons.mjs';
import { parseFlags } from './harness.mjs';

const flags = parseFlags(import.meta.url, { '--rounds': 9, '--ms': 40, '--addon': [] });
const rounds = flags['--rounds'];
const targetMs = flags['--ms'];
const addons = loadAddons(flags['--addon']);
if (addons.length < 2) throw new Error('give the other build with --addon path/to/convnode.node');
const random = (n) => new Float32Array(n).map(() => Math.random() * 2 - 1);

// [label, cin, cout, groups, kernel, stride, size]
const CONVS = [
  ['conv 3x3 im2col 3->32 s2 @224', 3, 32, 1, 3, 2, 224],
  ['conv 3x3 Winograd 64->64 @56', 64, 64, 1, 3, 1, 56],
  ['conv 1x1 96->576 @14', 96, 576, 1, 1, 1, 14],
  ['depthwise 3x3 144 @56', 144, 144, 144, 3, 1, 56],
  ['depthwise 3x3 s2 96 @112', 96, 96, 96, 3, 2, 112],
];

const cases = [];
for (const batch of [1, 8]) {
  for (const [label, cin, cout, groups, k, s, size] of CONVS) {
    const weight = random((cout * cin * k * k) / groups);
    const bias = random(cout);
    // Each conv is planned once (lib/planner/conv-plan.ts, the rule the backend uses), for the
    // ISA the first build runs: both builds then run the same algorithm.
    const description = { inChannels: cin, outChannels: cout, groups, kernelH: k, kernelW: k, stride: [s, s], dilation: [1, 1], inputSize: [size, size] };
    const { algorithm } = planConvAlgorithm(description, addons[0].addon.getIsa());
    const options = { inChannels: cin, outChannels: cout, groups, kernelH: k, kernelW: k, strideH: s, strideW: s, dilationH: 1, dilationW: 1, algorithm, activation: 'relu' };
    const convs = addons.map(({ addon }) => new addon.Conv2d(weight, bias, options));
    const g = planConv('bench', [batch, cin, size, size], {
      inChannels: cin, outChannels: cout, groups, kernel: [k, k], stride: [s, s], dilation: [1, 1], padding: k >> 1,
    });
    const input = random(batch * cin * size * size);
    const outSize = batch * cout * g.outH * g.outW;
    const outputs = addons.map(() => new Float32Array(outSize));
    const run = (a) => convs[a].runSync(input, g, outputs[a], null);
    cases.push({ label: `${label} (${algorithm})`, batch, run, outputs, runs: 0, samples: addons.map(() => []), cpu: addons.map(() => []) });
  }
  const channels = 64;
  const size = 112;
  const window = planWindow('bench', size, size, { kernel: [3, 3], stride: [2, 2], dilation: [1, 1], padding: 1 });
  const input = random(batch * channels * size * size);
  const geometry = { ...window, batch, channels, kind: 'max', countIncludePad: false };
  const outputs = addons.map(() => new Float32Array(batch * channels * window.outH * window.outW));
  cases.push({ label: 'maxpool 3x3 s2 64 @112', batch, run: (a) => addons[a].addon.pool2dSync(input, geometry, outputs[a]), outputs, runs: 0, samples: addons.map(() => []), cpu: addons.map(() => []) });
}

interleavedRounds(rounds, cases, addons.length, (c, a) => {
  addons[a].addon.setNumThreads(1);
  c.run(a);
  const { wallMs, cpuMs } = calibratedSample(() => c.run(a), c, targetMs);
  c.samples[a].push(wallMs);
  c.cpu[a].push(cpuMs);
});

for (const c of cases) {
  for (let a = 1; a < addons.length; a++) {
    const ref = c.outputs[0];
    const bad = c.outputs[a].findIndex((v, i) => !(Math.abs(v - ref[i]) <= 1e-4 * Math.max(1, Math.abs(ref[i]))));
    if (bad >= 0) throw new Error(`${addons[a].name} disagrees with this checkout on ${c.label} batch ${c.batch} at ${bad}`);
  }
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(`${cpu}; ISA ${addons.map(({ addon }) => addon.getIsa()).join(' / ')}; 1 thread; ${rounds} rounds, ~${targetMs} ms per sample; load average ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`);
console.log(['layer', 'batch', ...addons.map((_, a) => `ms[${a}]`), ...addons.slice(1).map((_, a) => `wall [${a + 1}]/[0]`), ...addons.map((_, a) => `cpu ms[${a}]`), ...addons.slice(1).map((_, a) => `cpu [${a + 1}]/[0]`)].join('\t'));
const ratios = addons.slice(1).map(() => []);
const cpuRatios = addons.slice(1).map(() => []);
for (const c of cases) {
  const ms = c.samples.map(median);
  const cpu = c.cpu.map(median);
  ms.slice(1).forEach((m, i) => ratios[i].push(m / ms[0]));
  cpu.slice(1).forEach((m, i) => cpuRatios[i].push(m / cpu[0]));
  console.log([c.label, c.batch, ...ms.map((m) => m.toFixed(3)), ...ms.slice(1).map((m) => (m / ms[0]).toFixed(3)), ...cpu.map((m) => m.toFixed(3)), ...cpu.slice(1).map((m) => (m / cpu[0]).toFixed(3))].join('\t'));
}
const geomean = (xs) => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);
ratios.forEach((r, i) => console.log(`geometric mean time ratio [${i + 1}]/[0]: wall ${geomean(r).toFixed(3)}, CPU ${geomean(cpuRatios[i]).toFixed(3)} (below 1: [${i + 1}] is faster)`));
addons.forEach(({ name }, a) => console.log(`[${a}] ${name}`));
