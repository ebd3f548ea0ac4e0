#!/usr/bin/env node
// A/B of conv algorithms on one native build, interleaved rounds in one process, medians of the
// process's CPU time per run (on a shared machine CPU time moves far less than wall time).
//  - layers: 3x3 stride-1 convs (ResNet / VGG-like shapes) on im2col, F(2x2), F(4x4) and F(6x6);
//  - grouped: ResNeXt-50 32x4d and RegNetX-400MF grouped 3x3 layers, GFLOP/s;
//  - models: ResNet-18 / ResNet-50 planned by the rule, against the same with F(4x4) replaced by
//    F(2x2), and with F(2x2) on >= 14x14 inputs replaced by F(4x4) (the zoo's exports or
//    bench/models.mjs's, as bench/harness.mjs benchModelPath finds them).
// Needs `npm run build`.   node bench/conv-algorithms.mjs [layers|grouped|models] [--rounds 9] [--threads 1]
//                                                      [--shapes 'cin,cout,size;...'] (layers: these instead)
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { benchModelPath, parseFlags } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'dist');
const flags = parseFlags(import.meta.url, { '--rounds': 9, '--threads': 1, '--shapes': String }, { positional: true });
const rounds = flags['--rounds'];
const threads = flags['--threads'];
const what = flags._[0] ?? 'layers';
if (flags._.length > 1 || !['layers', 'grouped', 'models'].includes(what)) {
  console.error(`bench/conv-algorithms.mjs: what to time is one of layers, grouped, models; got '${flags._.join(' ')}'`);
  process.exit(2);
}

const native = await import(pathToFileURL(join(dist, 'backends', 'native.js')).href);
const { Tensor } = await import(pathToFileURL(join(dist, 'tensor.js')).href);
const onnx = await import(pathToFileURL(join(dist, 'onnx', 'index.js')).href);
const { planConv } = await import(pathToFileURL(join(dist, 'planner', 'geometry.js')).href);
const backend = native.loadNativeBackend();
if (backend instanceof Error) throw backend;
native.setNumThreads(threads);
const median = (a) => a.slice().sort((x, y) => x - y)[a.length >> 1];
console.log(`${os.cpus()[0].model}, ISA ${native.getIsa()}, ${threads} thread(s), medians of ${rounds} interleaved rounds, CPU ms`);

/** Runs each variant `reps` times per round, rounds interleaved; returns median CPU ms per run. */
async function ab(variants, work) {
  const times = variants.map(() => []);
  for (const v of variants) await v();
  const t = performance.now();
  await variants[0]();
  const reps = Math.max(1, Math.round(work / Math.max(0.05, performance.now() - t)));
  for (let r = 0; r < rounds; r++) {
    for (const [i, v] of variants.entries()) {
      const t0 = process.cpuUsage();
      for (let k = 0; k < reps; k++) await v();
      const d = process.cpuUsage(t0);
      times[i].push((d.user + d.system) / 1e3 / reps);
    }
  }
  return times.map(median);
}

function convRunner(cin, cout, size, groups, algorithm, stride = 1) {
  const spec = { inChannels: cin, outChannels: cout, groups, kernel: [3, 3], stride: [stride, stride], dilation: [1, 1], padding: 1 };
  const g = planConv('bench', [1, cin, size, size], spec);
  const weight = new Float32Array(cout * (cin / groups) * 9).map((_, i) => Math.sin(i) * 0.1);
  const kernel = backend.prepareConv2d({ inChannels: cin, outChannels: cout, groups, kernelH: 3, kernelW: 3, weight, bias: null,
    activation: { kind: 'relu' }, stride: [stride, stride], inputSize: [size, size], algorithm });
  const input = new Float32Array(cin * size * size).map((_, i) => Math.cos(i));
  const output = new Float32Array(cout * g.outH * g.outW);
  return { run: () => kernel.runSync(input, g, output, null), flops: 2 * cout * g.outH * g.outW * (cin / groups) * 9, plan: kernel.plan };
}

if (what === 'layers') {
  const shapes = flags['--shapes']?.split(';').map((s) => s.split(',').map(Number)) ??
    [[64, 64, 56], [128, 128, 28], [256, 256, 14], [512, 512, 7], [96, 96, 40], [48, 48, 112], [128, 128, 20], [64, 64, 20], [32, 32, 56], [24, 24, 32], [16, 16, 56]];
  const algorithms = ['im2col-gemm', 'winograd-f2x2-3x3', 'winograd-f4x4-3x3', 'winograd-f6x6-3x3'];
  console.log(`| 3x3 layer | ${algorithms.join(' | ')} | F(4x4) / F(2x2) | F(6x6) / F(4x4) | rule picks |`);
  console.log(`|---|${algorithms.map(() => '---').join('|')}|---|---|---|`);
  for (const [cin, cout, size] of shapes) {
    const runners = algorithms.map((a) => convRunner(cin, cout, size, 1, a));
    const ms = await ab(runners.map((r) => r.run), 20);
    const picked = convRunner(cin, cout, size, 1, undefined).plan.algorithm;
    console.log(`| ${cin}->${cout} @${size} | ${ms.map((m) => m.toFixed(3)).join(' | ')} | ${(ms[2] / ms[1]).toFixed(2)}x | ${(ms[3] / ms[2]).toFixed(2)}x | ${picked} |`);
  }
} else if (what === 'grouped') {
  const shapes = [[128, 32, 56], [256, 32, 28], [512, 32, 14], [1024, 32, 7], [64, 4, 56], [160, 10, 28], [400, 25, 14], [400, 25, 7]];
  const algorithms = ['im2col-gemm', 'grouped-direct'];
  console.log(`| grouped 3x3 layer | group width | ${algorithms.map((a) => `${a} ms (GFLOP/s)`).join(' | ')} | direct / im2col | rule picks |`);
  console.log(`|---|---|${algorithms.map(() => '---').join('|')}|---|---|`);
  for (const [c, groups, size] of shapes) {
    const runners = algorithms.map((a) => convRunner(c, c, size, groups, a));
    const ms = await ab(runners.map((r) => r.run), 20);
    const picked = convRunner(c, c, size, groups, undefined).plan.algorithm;
    const cells = ms.map((m) => `${m.toFixed(3)} (${(runners[0].flops / m / 1e6).toFixed(1)})`);
    console.log(`| ${c} g${groups} @${size} | ${c / groups} | ${cells.join(' | ')} | ${(ms[1] / ms[0]).toFixed(2)}x | ${picked} |`);
  }
} else {
  // A copy of the native backend whose conv plans go through `swap(weights, kernel)`. The loader
  // prepares convs off the main thread (prepareConv2dOffThread) when the backend has it, which
  // would bypass a wrapped prepareConv2d: the copy drops it, so every conv is planned here.
  const replanned = (swap) => ({ ...backend, prepareConv2dOffThread: undefined, prepareConv2d: (w) => {
    const k = backend.prepareConv2d(w);
    const algorithm = swap(w, k.plan?.algorithm);
    return algorithm !== undefined ? backend.prepareConv2d({ ...w, algorithm }) : k;
  } });
  const variants = [
    ['rule', backend],
    ['F(2x2) for F(4x4)', replanned((w, a) => (a === 'winograd-f4x4-3x3' ? 'winograd-f2x2-3x3' : undefined))],
    // The avx512 rule keeps F(2x2) below 20x20 inputs (ResNet-50's 256->256 @14: F(4x4) measured
    // 0.91x alone there, 1.00-1.01x in the model, where its 2.25x larger U matrices come from memory).
    ['F(4x4) for F(2x2) @14+', replanned((w, a) => (a === 'winograd-f2x2-3x3' && Math.min(...(w.inputSize ?? [0])) >= 14 ? 'winograd-f4x4-3x3' : undefined))],
  ];
  for (const name of ['resnet18', 'resnet50']) {
    const path = benchModelPath(import.meta.url, name);
    const models = [];
    for (const [, b] of variants) models.push(await onnx.loadOnnx(path, { backend: b }));
    const input = { [models[0].inputNames[0]]: new Tensor([1, 3, 224, 224], new Float32Array(3 * 224 * 224).map((_, i) => Math.sin(i * 0.01))) };
    const ms = await ab(models.map((m) => () => m.run(input)), 300);
    const cells = variants.map(([label], i) => `${label} ${ms[i].toFixed(1)} ms${i > 0 ? ` (${(ms[i] / ms[0]).toFixed(3)}x)` : ''}`);
    console.log(`${name} batch 1: ${cells.join(', ')}`);
  }
}
