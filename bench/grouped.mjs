#!/usr/bin/env node
// Grouped 3x3 convs of ResNeXt-50 32x4d, RegNetX-400MF and RegNetY-400MF (every distinct shape,
// stride 1 and 2), one layer at a time: convnode's im2col + GEMM and grouped-direct paths (and
// each --addon build's grouped-direct) against onnxruntime-node running a one-Conv model of the
// same shape, all in one process, rounds interleaved, medians of the process's CPU time per run
// (on a shared machine CPU time moves far less than wall time). GFLOP/s = 2 x multiply-adds /
// CPU time; "% peak" is of the single-core FMA peak (the addon's probe: --peak overrides it,
// e.g. the quiet-machine figure when the machine is loaded). Outputs are compared with
// onnxruntime's (1e-4 x max |output|). Needs `npm run build` and the addon.
//
//   node bench/grouped.mjs [--rounds 7] [--ms 20] [--threads 1] [--batch 1] [--only resnext|regnet|s2]
//                          [--peak 117.2] [--isa avx2] [--addon path/to/other.node ...]
import os from 'node:os';
import * as ort from 'onnxruntime-node';
import { planConv } from '../dist/planner/geometry.js';
import { loadAddons, median } from './ab-addons.mjs';
import { parseFlags } from './harness.mjs';
import { encodeModel, node, rawFloatTensor } from '../scripts/onnx-model-builder.mjs';

const flags = parseFlags(import.meta.url, {
  '--rounds': 7, '--ms': 20, '--threads': 1, '--batch': 1, '--only': String, '--peak': 0, '--isa': String, '--addon': [],
});
const rounds = flags['--rounds'];
const targetMs = flags['--ms'];
const threads = flags['--threads'];
const batch = flags['--batch'];
const only = flags['--only'] ?? null;
const isa = flags['--isa'] ?? null;  // e.g. avx2: every build's convs are prepared under that tier
const addons = loadAddons(flags['--addon']);
if (isa) for (const { addon } of addons) addon.setIsa(isa);
const main = addons[0].addon;
main.setNumThreads(threads);
const peak = flags['--peak'] || main.measurePeakGflops?.() || 0;

// [model, channels, groups, input size, stride]: the grouped 3x3 convs (torchvision's layout:
// the stride sits on the 3x3 conv of a stage's first block).
const LAYERS = [
  ['ResNeXt-50', 128, 32, 56, 1], ['ResNeXt-50', 256, 32, 56, 2], ['ResNeXt-50', 256, 32, 28, 1],
  ['ResNeXt-50', 512, 32, 28, 2], ['ResNeXt-50', 512, 32, 14, 1], ['ResNeXt-50', 1024, 32, 14, 2],
  ['ResNeXt-50', 1024, 32, 7, 1],
  ['RegNetX-400MF', 32, 2, 112, 2], ['RegNetX-400MF', 64, 4, 56, 2], ['RegNetX-400MF', 64, 4, 28, 1],
  ['RegNetX-400MF', 160, 10, 28, 2], ['RegNetX-400MF', 160, 10, 14, 1], ['RegNetX-400MF', 400, 25, 14, 2],
  ['RegNetX-400MF', 400, 25, 7, 1],
  ['RegNetY-400MF', 48, 6, 112, 2], ['RegNetY-400MF', 104, 13, 56, 2], ['RegNetY-400MF', 104, 13, 28, 1],
  ['RegNetY-400MF', 208, 26, 28, 2], ['RegNetY-400MF', 208, 26, 14, 1], ['RegNetY-400MF', 440, 55, 14, 2],
  ['RegNetY-400MF', 440, 55, 7, 1],
].filter(([model, , , , s]) => only === null || model.toLowerCase().startsWith(only) || (only === 's2' && s === 2) || (only === 's1' && s === 1));

const random = (n) => new Float32Array(n).map(() => Math.random() * 2 - 1);

function oneConvModel(c, groups, stride, weight, bias) {
  return encodeModel({
    producer: 'convnode-bench', name: 'grouped',
    nodes: [
      node('Conv', ['x', 'w', 'b'], ['c'], {
        kernel_shape: { ints: [3, 3] }, strides: { ints: [stride, stride] }, pads: { ints: [1, 1, 1, 1] }, group: { i: groups },
      }, 'conv'),
      node('Relu', ['c'], ['y'], {}, 'relu'),
    ],
    initializers: [rawFloatTensor('w', [c, c / groups, 3, 3], weight), rawFloatTensor('b', [c], bias)],
    inputs: [{ name: 'x', shape: ['n', c, 'h', 'w'] }],
    outputs: [{ name: 'y' }],
  });
}

const cpuMs = (f, reps) => {
  const t = process.cpuUsage();
  for (let i = 0; i < reps; i++) f();
  const d = process.cpuUsage(t);
  return (d.user + d.system) / 1e3 / reps;
};

const rows = [];
for (const [model, c, groups, size, stride] of LAYERS) {
  const weight = random(c * (c / groups) * 9).map((v) => v * 0.2);
  const bias = random(c);
  const g = planConv('bench', [batch, c, size, size], {
    inChannels: c, outChannels: c, groups, kernel: [3, 3], stride: [stride, stride], dilation: [1, 1], padding: 1,
  });
  const input = random(batch * c * size * size);
  const outLength = batch * c * g.outH * g.outW;
  const flops = 2 * outLength * (c / groups) * 9;
  const options = (algorithm) => ({ inChannels: c, outChannels: c, groups, kernelH: 3, kernelW: 3, activation: 'relu',
    strideH: stride, strideW: stride, algorithm });
  const contenders = [];
  const conv = (addon, algorithm) => {
    const k = new addon.Conv2d(weight, bias, options(algorithm));
    const out = new Float32Array(outLength);
    return { out, run: () => k.runSync(input, g, out, null) };
  };
  contenders.push({ name: 'im2col-gemm', ...conv(main, 'im2col-gemm') });
  for (const { name, addon } of addons) {
    addon.setNumThreads(threads);
    // A build that refuses grouped-direct here (before stride 2 was direct) runs its im2col path.
    let k;
    try {
      k = conv(addon, 'grouped-direct');
    } catch {
      k = { ...conv(addon, 'im2col-gemm'), refused: true };
    }
    contenders.push({ name: `grouped-direct${addons.length > 1 ? ` [${addons.findIndex((a) => a.addon === addon)}]` : ''}`, ...k });
  }
  const session = await ort.InferenceSession.create(oneConvModel(c, groups, stride, weight, bias), {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  const feeds = { x: new ort.Tensor('float32', input, [batch, c, size, size]) };
  let ortOut = null;
  // onnxruntime's run is asynchronous; its time is the CPU time of awaited runs (its pool does
  // not spin, so no time is spent outside the run).
  const ortRun = async (reps) => {
    const t = process.cpuUsage();
    for (let i = 0; i < reps; i++) ortOut = (await session.run(feeds)).y.data;
    const d = process.cpuUsage(t);
    return (d.user + d.system) / 1e3 / reps;
  };
  for (const k of contenders) k.run();
  await ortRun(2);
  const t0 = performance.now();
  contenders[1].run();
  const reps = Math.max(3, Math.round(targetMs / Math.max(0.01, performance.now() - t0)));
  const times = contenders.map(() => []);
  const ortTimes = [];
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? contenders.map((_, i) => i) : contenders.map((_, i) => contenders.length - 1 - i);
    for (const i of order) times[i].push(cpuMs(contenders[i].run, reps));
    ortTimes.push(await ortRun(reps));
  }
  const maxRef = ortOut.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  for (const k of contenders) {
    const worst = k.out.reduce((m, v, i) => Math.max(m, Math.abs(v - ortOut[i])), 0);
    if (!(worst <= 1e-4 * maxRef)) throw new Error(`${k.name} differs from onnxruntime on ${model} ${c} g${groups} @${size}/${stride}: ${worst} (max ${maxRef})`);
  }
  rows.push({ label: `${model} ${c} g${groups} @${size}${stride === 2 ? '/2' : ''}`, width: c / groups, flops,
    ms: times.map(median), names: contenders.map((k) => k.name), refused: contenders.map((k) => k.refused === true), ort: median(ortTimes) });
  session.release?.();
}

console.log(`grouped 3x3 convs + relu on ${os.cpus()[0].model} (${os.cpus().length} cores), convnode ISA ${main.getIsa()}, ` +
  `onnxruntime-node ${ort.env.versions?.node ?? ''}; ${threads} thread(s), batch ${batch}, ${rounds} interleaved rounds, ` +
  `medians of CPU ms per run; peak ${peak.toFixed(1)} GFLOP/s; load average ${os.loadavg().map((v) => v.toFixed(1)).join(' ')}`);
const names = rows[0]?.names ?? [];
addons.forEach(({ name }, i) => console.log(`[${i}] ${name}`));
console.log('* that build refuses grouped-direct here: its im2col-gemm time');
console.log(`| layer | width | ${names.map((n) => `${n} ms (GFLOP/s, % peak)`).join(' | ')} | onnxruntime ms (GFLOP/s) | direct / ort |`);
console.log(`|---|---|${names.map(() => '---').join('|')}|---|---|`);
const gf = (flops, ms) => flops / ms / 1e6;
for (const r of rows) {
  const cells = r.ms.map((m, i) => `${m.toFixed(3)}${r.refused[i] ? '*' : ''} (${gf(r.flops, m).toFixed(1)}, ${peak ? ((100 * gf(r.flops, m)) / peak).toFixed(0) : '-'}%)`);
  console.log(`| ${r.label} | ${r.width} | ${cells.join(' | ')} | ${r.ort.toFixed(3)} (${gf(r.flops, r.ort).toFixed(1)}) | ${(r.ms[1] / r.ort).toFixed(2)}x |`);
}
