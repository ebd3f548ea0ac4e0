#!/usr/bin/env node
// The GEMM convs of ResNet-50 and AlexNet (1x1 pointwise and im2col: 3x3, 7x7/2, 11x11/4, the
// 1x1/2 downsamples) and Linear layers, native only, with each layer's % of this CPU's measured FMA peak. Every
// conv is run with the algorithm it gets in the models (pointwise-gemm or im2col-gemm; never
// Winograd, so the figure is the GEMM driver's). Needs `npm run build` (dist/) and the addon.
//
//   node bench/gemm-layers.mjs [--rounds 7] [--ms 40] [--threads 1] [--batch 1]
//                              [--only resnet,alexnet,mobile,swin,vit] [--layers 'text,...']
//                              [--addon path/to/other.node ...] [--ort] [--residual]
// Each --addon is another build timed in the same interleaved rounds (bench/ab-addons.mjs);
// outputs are compared at the end. Times are process CPU time per run (process.cpuUsage): on the
// shared machine wall time mostly measures the other processes; at 1 thread CPU time is the
// conv's own work. % of peak is taken against the probe of this checkout's addon.
// --ort adds onnxruntime-node on the same layer (a one-node Conv+Relu or Gemm+Relu model, same
// weights and input, its thread count), timed the same way in the same rounds, and a column
// convnode / onnxruntime: which layers lose, in CPU time, where per-node wall profiles of a
// whole model are noise on a loaded machine.
// --residual fuses a residual input into every conv (out = relu(conv + bias + r), as ResNet's
// block-closing 1x1 convs run; onnxruntime gets Conv + Add + Relu, which it fuses too).
// After the layers: the time-weighted % of peak of the 1x1 convs, of the other GEMM convs
// (3x3, 7x7, 11x11, 5x5, the 1x1/2 downsamples) and of all GEMM convs (not the Linear rows).
import os from 'node:os';
import { planConv } from '../dist/planner/geometry.js';
import { calibratedSample, loadAddons, median } from './ab-addons.mjs';
import { parseFlags } from './harness.mjs';
import { encodeModel, node, rawFloatTensor } from '../scripts/onnx-model-builder.mjs';

const flags = parseFlags(import.meta.url, {
  '--rounds': 7, '--ms': 40, '--threads': 1, '--batch': 1, '--only': String, '--layers': String, '--ort': false, '--residual': false, '--addon': [],
});
const rounds = flags['--rounds'];
const targetMs = flags['--ms'];
const threads = flags['--threads'];
const batch = flags['--batch'];
const only = flags['--only'] ?? null;
const withOrt = flags['--ort'];
const withResidual = flags['--residual'];
const ort = withOrt ? await import('onnxruntime-node') : null;
const ortOptions = { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential',
  graphOptimizationLevel: 'all', extra: { session: { intra_op: { allow_spinning: '0' } } } };

const addons = loadAddons(flags['--addon']);

/**
 * One layer (Conv + Relu, or Gemm x W^T + b + Relu: a Linear) as an ONNX model for onnxruntime, same
 * weights. With a `residual` shape, Conv + Add(r) + Relu: a second input 'r' shaped like the output
 * (a ResNet block's last conv, whose shortcut both runtimes fuse into the conv).
 */
function layerModel(nodes, weights, input, output, residual = null) {
  const tail = residual
    ? [node('Add', ['y', 'r'], ['sum'], {}, 'add'), node('Relu', ['sum'], ['out'], {}, 'relu')]
    : [node('Relu', ['y'], ['out'], {}, 'relu')];
  const inputs = [{ name: 'x', shape: input }, ...(residual ? [{ name: 'r', shape: residual }] : [])];
  return encodeModel({
    irVersion: 8, producer: 'convnode-bench', name: 'layer', nodes: [...nodes, ...tail],
    inputs, outputs: [{ name: 'out', shape: output }],
    initializers: [rawFloatTensor('w', weights.dims, weights.weight), rawFloatTensor('b', [weights.dims[0]], weights.bias)],
  });
}
const convReluModel = ({ batch, cin, cout, size, kernel, stride, pad, outSize, weight, bias, residual = false }) => layerModel(
  [node('Conv', ['x', 'w', 'b'], ['y'], {
    kernel_shape: { ints: [kernel, kernel] }, strides: { ints: [stride, stride] }, pads: { ints: [pad, pad, pad, pad] },
    dilations: { ints: [1, 1] }, group: { i: 1 },
  }, 'conv')],
  { dims: [cout, cin, kernel, kernel], weight, bias }, [batch, cin, size, size], [batch, cout, outSize, outSize],
  residual ? [batch, cout, outSize, outSize] : null);
const linearReluModel = ({ batch, cin, cout, weight, bias }) => layerModel(
  [node('Gemm', ['x', 'w', 'b'], ['y'], { transB: { i: 1 } }, 'fc')], { dims: [cout, cin], weight, bias }, [batch, cin], [batch, cout]);

// [model, cin, cout, input size, kernel, stride, padding]
const LAYERS = [
  ['resnet', 3, 64, 224, 7, 2, 3],
  ['resnet', 64, 64, 56, 1, 1, 0],
  ['resnet', 64, 64, 56, 3, 1, 1],
  ['resnet', 64, 256, 56, 1, 1, 0],
  ['resnet', 256, 64, 56, 1, 1, 0],
  ['resnet', 256, 128, 56, 1, 1, 0],
  ['resnet', 128, 128, 56, 3, 2, 1],
  ['resnet', 256, 512, 56, 1, 2, 0],
  ['resnet', 128, 512, 28, 1, 1, 0],
  ['resnet', 512, 128, 28, 1, 1, 0],
  ['resnet', 128, 128, 28, 3, 1, 1],
  ['resnet', 512, 256, 28, 1, 1, 0],
  ['resnet', 256, 256, 28, 3, 2, 1],
  ['resnet', 512, 1024, 28, 1, 2, 0],
  ['resnet', 256, 1024, 14, 1, 1, 0],
  ['resnet', 1024, 256, 14, 1, 1, 0],
  ['resnet', 256, 256, 14, 3, 1, 1],
  ['resnet', 1024, 512, 14, 1, 1, 0],
  ['resnet', 512, 512, 14, 3, 2, 1],
  ['resnet', 1024, 2048, 14, 1, 2, 0],
  ['resnet', 512, 2048, 7, 1, 1, 0],
  ['resnet', 2048, 512, 7, 1, 1, 0],
  ['resnet', 512, 512, 7, 3, 1, 1],
  ['alexnet', 3, 64, 224, 11, 4, 2],
  ['alexnet', 64, 192, 27, 5, 1, 2],
  ['alexnet', 192, 384, 13, 3, 1, 1],
  ['alexnet', 384, 256, 13, 3, 1, 1],
  ['alexnet', 256, 256, 13, 3, 1, 1],
  // MobileNetV2 / V3 / MnasNet: the 1x1 "project" convs with few outputs on large maps, and the
  // Cin-3 stems (3x3/2).
  ['mobile', 32, 16, 112, 1, 1, 0],
  ['mobile', 16, 16, 112, 1, 1, 0],
  ['mobile', 96, 24, 56, 1, 1, 0],
  ['mobile', 144, 24, 56, 1, 1, 0],
  ['mobile', 72, 24, 56, 1, 1, 0],
  ['mobile', 144, 32, 28, 1, 1, 0],
  // MobileNetV2's project convs on the small maps (Cout 32-320, K 192-960: K blocks of kc_max).
  ['mobile', 192, 32, 28, 1, 1, 0],
  ['mobile', 384, 64, 14, 1, 1, 0],
  ['mobile', 576, 96, 14, 1, 1, 0],
  ['mobile', 960, 160, 7, 1, 1, 0],
  ['mobile', 960, 320, 7, 1, 1, 0],
  ['mobile', 3, 32, 224, 3, 2, 1],
  ['mobile', 3, 16, 224, 3, 2, 1],
  // Linear layers ([model, inFeatures, outFeatures]): at batch 1 a GEMV, bound by reading the weights.
  ['resnet', 2048, 1000],
  ['alexnet', 9216, 4096],
  ['alexnet', 4096, 4096],
  ['alexnet', 4096, 1000],
  // MatMul by a constant over many rows ([model, in, out, rows per image]): transformer MLPs.
  ['swin', 96, 384, 3136],
  ['swin', 384, 96, 3136],
  ['vit', 768, 3072, 197],
  ['vit', 3072, 768, 197],
].filter(([model]) => only === null || only.split(',').includes(model));

const random = (n) => new Float32Array(n).map(() => Math.random() * 2 - 1);

const cases = [];
for (const [model, cin, cout, size, k, stride, pad] of LAYERS) {
  if (k === undefined) {
    const rows = batch * (size ?? 1);
    const weight = random(cout * cin);
    const bias = random(cout);
    const linears = addons.map(({ addon }) => new addon.Linear(weight, bias, { inFeatures: cin, outFeatures: cout, activation: 'relu' }));
    const input = random(rows * cin);
    const outputs = addons.map(() => new Float32Array(rows * cout));
    const session = withOrt ? await ort.InferenceSession.create(linearReluModel({ batch: rows, cin, cout, weight, bias }), ortOptions) : null;
    cases.push({ label: `${model} linear ${cin}->${cout}${rows > batch ? ` x${rows}` : ''}`, run: (a) => linears[a].runSync(input, rows, outputs[a]),
      flops: 2 * rows * cin * cout, outputs, runs: 0, samples: addons.map(() => []),
      ort: session && { session, feeds: { x: new ort.Tensor('float32', input, [rows, cin]) }, samples: [] } });
    continue;
  }
  const weight = random(cout * cin * k * k);
  const bias = random(cout);
  const algorithm = k === 1 && stride === 1 ? 'pointwise-gemm' : 'im2col-gemm';
  const options = { inChannels: cin, outChannels: cout, groups: 1, kernelH: k, kernelW: k, strideH: stride,
    strideW: stride, algorithm, activation: 'relu' };
  const convs = addons.map(({ addon }) => new addon.Conv2d(weight, bias, options));
  const g = planConv('bench', [batch, cin, size, size], {
    inChannels: cin, outChannels: cout, groups: 1, kernel: [k, k], stride: [stride, stride], dilation: [1, 1], padding: pad,
  });
  const outSize = g.outH * g.outW;
  const input = random(batch * cin * size * size);
  const flops = 2 * batch * cout * outSize * cin * k * k;
  const outputs = addons.map(() => new Float32Array(batch * cout * outSize));
  const residual = withResidual ? random(batch * cout * outSize) : null;
  const label = `${model} ${k}x${k}${stride > 1 ? '/' + stride : ''} ${cin}->${cout} @${size}`;
  const session = withOrt
    ? await ort.InferenceSession.create(convReluModel({ batch, cin, cout, size, kernel: k, stride, pad, outSize: g.outH,
      weight, bias, residual: withResidual }), ortOptions)
    : null;
  const feeds = session && { x: new ort.Tensor('float32', input, [batch, cin, size, size]) };
  if (feeds && residual) feeds.r = new ort.Tensor('float32', residual, [batch, cout, g.outH, g.outW]);
  cases.push({ label, run: (a) => convs[a].runSync(input, g, outputs[a], residual), flops, outputs, runs: 0,
    samples: addons.map(() => []), kind: k === 1 && stride === 1 ? '1x1' : 'im2col',
    ort: session && { session, feeds, samples: [] } });
}

// --layers '1x1 1024,x3136': only the layers whose label contains one of these.
const pick = flags['--layers'] ?? null;
if (pick !== null) {
  const wanted = pick.split(',');
  cases.splice(0, cases.length, ...cases.filter((c) => wanted.some((w) => c.label.includes(w))));
}

// Rounds interleaved: every case on every addon (odd rounds in reverse order), then onnxruntime.
for (let round = 0; round < rounds; round++) {
  for (const c of cases) {
    const order = addons.map((_, i) => i);
    if (round % 2) order.reverse();
    for (const a of order) {
      addons[a].addon.setNumThreads(threads);
      const run = () => c.run(a);
      run();
      c.samples[a].push(calibratedSample(run, c, targetMs).cpuMs);
    }
    if (c.ort) {
      await c.ort.session.run(c.ort.feeds);
      const u = process.cpuUsage();
      for (let r = 0; r < c.runs; r++) await c.ort.session.run(c.ort.feeds);
      const used = process.cpuUsage(u);
      c.ort.samples.push((used.user + used.system) / 1000 / c.runs);
    }
  }
}

for (const c of cases) {
  for (let a = 1; a < addons.length; a++) {
    const ref = c.outputs[0];
    const bad = c.outputs[a].findIndex((v, i) => !(Math.abs(v - ref[i]) <= 1e-3 * Math.max(1, Math.abs(ref[i]))));
    if (bad >= 0) throw new Error(`${addons[a].name} disagrees with this checkout on ${c.label} at ${bad}`);
  }
}

const peak = addons[0].addon.measurePeakGflops();
console.log(`GEMM convs, batch ${batch}, ${threads} thread(s), ${rounds} rounds, CPU ms per run (median); ` +
  `${os.cpus()[0].model}; FMA peak ${peak.toFixed(1)} GFLOP/s; load average ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`);
const head = ['layer', ...addons.flatMap((_, a) => [`cpu ms[${a}]`, `%peak[${a}]`]), ...(addons.length > 1 ? ['new/old'] : []),
  ...(withOrt ? ['ort ms', '%peak ort', '[0]/ort'] : [])];
console.log(head.join('\t'));
const totals = addons.map(() => 0);
let ortTotal = 0;
let totalFlops = 0;
for (const c of cases) {
  const ms = c.samples.map(median);
  ms.forEach((m, a) => { totals[a] += m; });
  totalFlops += c.flops;
  const cells = ms.flatMap((m) => [m.toFixed(3), ((100 * c.flops) / m / 1e6 / peak / threads).toFixed(1)]);
  if (addons.length > 1) cells.push((ms[0] / ms[1]).toFixed(3));
  if (c.ort) {
    const ortMs = median(c.ort.samples);
    ortTotal += ortMs;
    cells.push(ortMs.toFixed(3), ((100 * c.flops) / ortMs / 1e6 / peak / threads).toFixed(1), (ms[0] / ortMs).toFixed(2));
  }
  console.log([c.label, ...cells].join('\t'));
}
const cells = totals.flatMap((m) => [m.toFixed(3), ((100 * totalFlops) / m / 1e6 / peak / threads).toFixed(1)]);
if (addons.length > 1) cells.push((totals[0] / totals[1]).toFixed(3));
if (withOrt) cells.push(ortTotal.toFixed(3), ((100 * totalFlops) / ortTotal / 1e6 / peak / threads).toFixed(1), (totals[0] / ortTotal).toFixed(2));
console.log(['all', ...cells].join('\t'));
// Time-weighted % of peak per kind of GEMM conv: sum of FLOPs over sum of medians.
for (const [name, kinds] of [['1x1 convs', ['1x1']], ['im2col convs', ['im2col']], ['GEMM convs', ['1x1', 'im2col']]]) {
  const picked = cases.filter((c) => kinds.includes(c.kind));
  if (picked.length === 0) continue;
  const flops = picked.reduce((n, c) => n + c.flops, 0);
  const percent = (ms) => ((100 * flops) / ms / 1e6 / peak / threads).toFixed(1);
  const row = addons.flatMap((_, a) => {
    const ms = picked.reduce((n, c) => n + median(c.samples[a]), 0);
    return [ms.toFixed(3), percent(ms)];
  });
  if (withOrt) {
    const ms = picked.reduce((n, c) => n + median(c.ort.samples), 0);
    row.push(ms.toFixed(3), percent(ms));
  }
  console.log([`${name} (${picked.length})`, ...row].join('\t'));
}
addons.forEach(({ name }, a) => console.log(`[${a}] ${name}`));
