#!/usr/bin/env node
// Depthwise convs of MobileNetV2 / V3, EfficientNet-B0 and ConvNeXt, native only, against the
// memory-bandwidth bound: batch 1 and 8, 1 and 2 threads, interleaved rounds, medians. Needs
// `npm run build` (dist/) and the addon built.
//
//   node bench/dwconv.mjs [--rounds 9] [--ms 30] [--addon path/to/other.node ...] [--only 5x5|small]
//                         [--threads 1] [--batch 1] [--isas avx2,avx512]
//
// --isas: every binary's convs are prepared once per ISA tier named (a conv keeps the tier it was
// prepared under), so tiers are compared in the same rounds too; default: each binary's best.
// The bound: a depthwise conv must read its input and write its output at least once, so it can
// be no faster than a copy that moves the same bytes. The copy loop (Float32Array.prototype.set,
// a memmove) copies (input + output bytes) / 2 from one array into another, so it reads and
// writes as many bytes as the layer, over the same footprint: at batch 1 that footprint sits in
// L2 / L3 as the layer's does, at batch 8 it comes from memory. "GB/s" is the layer's (input +
// output bytes) / time; "% bound" is the copy's time over the layer's (100% = as fast as a copy).
// Each --addon loads another build (bench/ab-addons.mjs) and times it in the same interleaved
// rounds; rounds alternate the order of the binaries; every binary's output is compared with
// this checkout's (within 1e-4 relative) at the end. cpu: the process's CPU ms per run (on a
// shared machine, wall time well above it at 1 thread means the core was taken by others);
// "(cpu)" columns use CPU time for both the copy and the layer: the bound in core time, which
// stays meaningful when other processes hold the cores (at 2 threads the layer's CPU time is
// both threads' work, so its % is per unit of core time).
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { planConv } from '../dist/planner/geometry.js';
import { calibratedSample, interleavedRounds, loadAddons, median } from './ab-addons.mjs';
import { parseFlags } from './harness.mjs';

const flags = parseFlags(import.meta.url, { '--rounds': 9, '--ms': 30, '--only': String, '--threads': Number, '--batch': Number, '--isas': String, '--addon': [] });
const rounds = flags['--rounds'];
const targetMs = flags['--ms'];
const only = flags['--only'] ?? null;
const threadList = flags['--threads'] === undefined ? [1, 2] : [flags['--threads']];
const batchList = flags['--batch'] === undefined ? [1, 8] : [flags['--batch']];
const isas = flags['--isas']?.split(',') ?? [null];

// One variant per (binary, ISA tier).
const variants = loadAddons(flags['--addon']).flatMap(({ name, addon }) =>
  isas.map((isa) => ({ name: isa ? `${name} ${isa}` : name, addon, isa: isa ?? addon.getIsa() })));

// [label, channels, size, kernel, stride, activation]
const LAYERS = [
  ['MNv2/EffNet', 32, 112, 3, 1, 'relu6'],
  ['MNv2/EffNet', 96, 112, 3, 2, 'relu6'],
  ['MNv2', 144, 56, 3, 1, 'relu6'],
  ['MNv2', 144, 56, 3, 2, 'relu6'],
  ['EffNet', 144, 56, 5, 2, 'relu6'],
  ['MNv3-L', 16, 112, 3, 1, 'relu'],
  ['MNv3-L', 64, 112, 3, 2, 'relu'],
  ['MNv3-L', 72, 56, 3, 1, 'relu'],
  ['MNv3-L', 72, 56, 5, 2, 'relu'],
  ['EffNet', 240, 28, 5, 1, 'relu6'],
  ['ConvNeXt-T', 96, 56, 7, 1, 'none'],
  ['MNv2', 960, 7, 3, 1, 'relu6'],
  ['MNv2', 576, 14, 3, 2, 'relu6'],
  // EfficientNet-B0's depthwise convs as exported (SiLU fused: an exp per output).
  ['EffNet-B0 silu', 32, 112, 3, 1, 'silu'],
  ['EffNet-B0 silu', 240, 28, 5, 1, 'silu'],
  ['EffNet-B0 silu', 1152, 7, 3, 1, 'silu'],
  ['EffNet-B0 silu', 144, 56, 5, 2, 'silu'],
  // Small maps (outputs <= 28x28: runs of whole planes, channels in lanes on AVX-512).
  ['MNv2', 576, 14, 3, 1, 'relu6'],
  ['MNv2', 384, 14, 3, 1, 'relu6'],
  ['MnasNet', 1152, 7, 5, 1, 'relu'],
  ['MnasNet', 480, 14, 5, 1, 'relu'],
  ['MNv3-L', 672, 14, 5, 2, 'none'],
  ['MnasNet', 72, 28, 5, 2, 'relu'],
  ['MNv2', 192, 28, 3, 1, 'relu6'],
  ['MNv3-L', 120, 28, 5, 1, 'relu'],
].filter(([label, c, size, k, s, act]) => only === null || (only === 'small' && size / s <= 28) || `${k}x${k}`.startsWith(only) || `${c}@${size}` === only || `s${s}` === only || act === only);

const random = (n) => new Float32Array(n).map(() => Math.random() * 2 - 1);

const cases = [];
for (const [model, channels, size, k, stride, activation] of LAYERS) {
  const weight = random(channels * k * k);
  const bias = random(channels);
  const options = { inChannels: channels, outChannels: channels, groups: channels, kernelH: k, kernelW: k, strideH: stride, strideW: stride, activation };
  const convs = variants.map(({ addon, isa }) => {
    addon.setIsa(isa);
    return new addon.Conv2d(weight, bias, options);
  });
  for (const batch of batchList) {
    const g = planConv('bench', [batch, channels, size, size], {
      inChannels: channels, outChannels: channels, groups: channels, kernel: [k, k], stride: [stride, stride],
      dilation: [1, 1], padding: (k - 1) / 2,
    });
    const input = random(batch * channels * size * size);
    const outLength = batch * channels * g.outH * g.outW;
    const bytes = (input.length + outLength) * 4;
    const half = bytes / 8;  // floats per copy side: reads + writes = the layer's bytes
    const copy = { from: random(half), to: new Float32Array(half) };
    for (const threads of threadList) {
      const outputs = variants.map(() => new Float32Array(outLength));
      const label = `dw ${k}x${k}${stride === 2 ? '/2' : ''} ${channels} @${size} ${model}`;
      cases.push({ label, batch, threads, g, input, bytes, copy, convs, outputs, runs: 0, copyRuns: 0,
        samples: variants.map(() => []), cpu: variants.map(() => []), copySamples: [], copyCpu: [] });
    }
  }
}

function timeCopy(c) {
  const run = () => c.copy.to.set(c.copy.from);
  run();
  const { wallMs, cpuMs } = calibratedSample(run, c, targetMs, { key: 'copyRuns', floorMs: 0.005 });
  c.copySamples.push(wallMs);
  c.copyCpu.push(cpuMs);
}

interleavedRounds(rounds, cases, variants.length, (c, a) => {
  if (a === 0) timeCopy(c);
  variants[a].addon.setNumThreads(c.threads);
  const run = () => c.convs[a].runSync(c.input, c.g, c.outputs[a], null);
  run();  // warm-up: wakes the pool's threads
  const { wallMs, cpuMs } = calibratedSample(run, c, targetMs, { floorMs: 0.005 });
  c.samples[a].push(wallMs);
  c.cpu[a].push(cpuMs);
});

for (const c of cases) {
  for (let a = 1; a < variants.length; a++) {
    const ref = c.outputs[0];
    const bad = c.outputs[a].findIndex((v, i) => !(Math.abs(v - ref[i]) <= 1e-4 * Math.max(1, Math.abs(ref[i]))));
    if (bad >= 0) throw new Error(`${variants[a].name} disagrees with this checkout on ${c.label} batch ${c.batch} at ${bad}`);
  }
}

const cpu = (() => {
  try {
    return /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0].model;
  } catch {
    return os.cpus()[0]?.model ?? 'unknown CPU';
  }
})();
console.log(`depthwise convs on ${cpu} (${os.cpus().length} cores), ISA ${variants.map(({ isa }) => isa).join(' / ')}; ` +
  `${rounds} rounds, ~${targetMs} ms per sample; load average ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`);
const head = ['layer', 'batch', 'thr', 'copy ms', 'copy cpu', 'copy GB/s(cpu)',
  ...variants.flatMap((_, a) => [`ms[${a}]`, `cpu[${a}]`, `GB/s(cpu)[${a}]`, `%bound[${a}]`, `%bound(cpu)[${a}]`]),
  ...(variants.length > 1 ? ['new/old', 'new/old(cpu)'] : [])];
console.log(head.join('\t'));
for (const c of cases) {
  const copyMs = median(c.copySamples);
  const copyCpu = median(c.copyCpu);
  const ms = c.samples.map(median);
  const cpus = c.cpu.map(median);
  const cells = ms.flatMap((m, a) => [m.toFixed(4), cpus[a].toFixed(4), (c.bytes / cpus[a] / 1e6).toFixed(1),
    `${((100 * copyMs) / m).toFixed(0)}%`, `${((100 * copyCpu) / cpus[a]).toFixed(0)}%`]);
  if (variants.length > 1) cells.push((ms[0] / ms[1]).toFixed(3), (cpus[0] / cpus[1]).toFixed(3));
  console.log([c.label, c.batch, c.threads, copyMs.toFixed(4), copyCpu.toFixed(4), (c.bytes / copyCpu / 1e6).toFixed(1), ...cells].join('\t'));
}
variants.forEach(({ name }, a) => console.log(`[${a}] ${name}`));
