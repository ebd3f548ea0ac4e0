#!/usr/bin/env node
// 1x1 stride-1 convs (MobileNetV2's expansion and projection layers, and ResNet's 256->64),
// native only: batch 1 and 8, 1 and 2 threads, interleaved rounds, medians. Needs `npm run
// build` (dist/) and the addon built.
//
//   node bench/pointwise.mjs [--rounds 11] [--ms 40] [--addon path/to/other.node ...]
//                            [--only 16x96] [--threads 1] [--batch 1] [--cpu]
// Each --addon loads another build of the addon into this process (bench/ab-addons.mjs) and
// times it in the same interleaved rounds as this checkout's build, so an A/B comparison shares
// the machine's load; rounds alternate the order of the binaries, and the
// outputs of every binary are compared (within 1e-4 relative) at the end.
import os from 'node:os';
import { planConv } from '../dist/planner/geometry.js';
import { calibratedSample, interleavedRounds, loadAddons, median } from './ab-addons.mjs';
import { parseFlags } from './harness.mjs';

const flags = parseFlags(import.meta.url, { '--rounds': 11, '--ms': 40, '--only': String, '--threads': Number, '--batch': Number, '--addon': [], '--cpu': false });
const rounds = flags['--rounds'];
const targetMs = flags['--ms'];  // time per sample, so small layers get many runs
const only = flags['--only'] ?? null;
const threadList = flags['--threads'] === undefined ? [1, 2] : [flags['--threads']];
const batchList = flags['--batch'] === undefined ? [1, 8] : [flags['--batch']];

const addons = loadAddons(flags['--addon']);
// --cpu: CPU ms per run (the figure to trust on a loaded machine) instead of wall ms.
const timeKey = flags['--cpu'] ? 'cpuMs' : 'wallMs';

// [cin, cout, size, activation, residual]
const LAYERS = [
  [16, 96, 112, 'relu6', false],
  [24, 144, 56, 'relu6', false],
  [32, 192, 28, 'relu6', false],
  [32, 16, 112, 'none', false],
  [96, 24, 56, 'none', false],
  [64, 384, 14, 'relu6', false],
  [96, 576, 14, 'relu6', false],
  [160, 960, 7, 'relu6', false],
  [144, 24, 56, 'none', true],
  [256, 64, 56, 'relu', false],
  // MobileNetV2's small-map projections (several K blocks, no activation)
  [384, 64, 14, 'none', true],
  [576, 96, 14, 'none', true],
  [384, 96, 14, 'none', false],
  [960, 160, 7, 'none', true],
  [960, 320, 7, 'none', false],
].filter(([cin, cout]) => only === null || only === `${cin}x${cout}`);

const random = (n) => new Float32Array(n).map(() => Math.random() * 2 - 1);

const cases = [];
for (const [cin, cout, size, activation, hasResidual] of LAYERS) {
  const weight = random(cout * cin);
  const bias = random(cout);
  const options = { inChannels: cin, outChannels: cout, groups: 1, kernelH: 1, kernelW: 1, activation };
  const convs = addons.map(({ addon }) => new addon.Conv2d(weight, bias, options));
  for (const batch of batchList) {
    const g = planConv('bench', [batch, cin, size, size], {
      inChannels: cin, outChannels: cout, groups: 1, kernel: [1, 1], stride: [1, 1], dilation: [1, 1], padding: 0,
    });
    const input = random(batch * cin * size * size);
    const residual = hasResidual ? random(batch * cout * size * size) : null;
    const flops = 2 * batch * cout * size * size * cin;
    for (const threads of threadList) {
      const outputs = addons.map(() => new Float32Array(batch * cout * size * size));
      cases.push({ label: `1x1 ${cin}->${cout} @${size}${hasResidual ? ' +res' : ''} ${activation}`, batch, threads,
        g, input, residual, flops, convs, outputs, runs: 0, samples: addons.map(() => []) });
    }
  }
}

interleavedRounds(rounds, cases, addons.length, (c, a) => {
  addons[a].addon.setNumThreads(c.threads);
  const run = () => c.convs[a].runSync(c.input, c.g, c.outputs[a], c.residual);
  run();  // warm-up: wakes the pool's threads
  c.samples[a].push(calibratedSample(run, c, targetMs)[timeKey]);
});

for (const c of cases) {
  for (let a = 1; a < addons.length; a++) {
    const ref = c.outputs[0];
    const bad = c.outputs[a].findIndex((v, i) => !(Math.abs(v - ref[i]) <= 1e-4 * Math.max(1, Math.abs(ref[i]))));
    if (bad >= 0) throw new Error(`${addons[a].name} disagrees with this checkout on ${c.label} batch ${c.batch} at ${bad}`);
  }
}

console.log(`1x1 convs, ${timeKey === 'cpuMs' ? 'CPU' : 'wall'} ms, ${rounds} rounds, ~${targetMs} ms per sample; load average ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`);
const head = ['layer', 'batch', 'thr', ...addons.flatMap((_, a) => [`ms[${a}]`, `GF/s[${a}]`]), ...(addons.length > 1 ? ['new/old'] : [])];
console.log(head.join('\t'));
for (const c of cases) {
  const ms = c.samples.map(median);
  const cells = ms.flatMap((m) => [m.toFixed(3), (c.flops / m / 1e6).toFixed(1)]);
  if (addons.length > 1) cells.push((ms[0] / ms[1]).toFixed(3));
  console.log([c.label, c.batch, c.threads, ...cells].join('\t'));
}
addons.forEach(({ name }, a) => console.log(`[${a}] ${name}`));
