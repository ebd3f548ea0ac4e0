#!/usr/bin/env node
// Which ops of a model use the second thread, measured in CPU time so it holds on a loaded
// machine (issue 12: the segmentation models at 2 threads). One process, the model loaded once,
// rounds alternating 1 and 2 threads (setNumThreads between them). Every executed step is timed
// alone, as model.profile does, with three figures around it: wall time, the process's CPU time
// (all threads) and the CPU time of the pool jobs that ran as two or more tasks (the addon's
// countSharedWork). Per op kind and per op, medians over the rounds:
//   cpu1 / cpu2   CPU ms at 1 and 2 threads: cpu2 / cpu1 above 1 is what the split costs;
//   shared        the share of cpu2 spent in jobs split over the pool: near 0 means the op ran
//                 on one thread (it does not split), near 100% means all of it can overlap;
//   wall1 / wall2 wall ms (meaningful only on a quiet machine).
//
//   node bench/ops-threads.mjs [--model lraspp_mobilenet_v3_large] [--batch 1] [--rounds 5] [--top 20]
//
// Reads the execution plan's steps (private to lib/onnx/plan.ts, as bench/models-profile.mjs
// does) to wrap each step's execution with the three counters; model.profile then runs them.
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeCpu } from './zoo-env.mjs';
import { benchModelPath, convForm, decodedGraph, median, nativeAddon, parseFlags } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const flags = parseFlags(import.meta.url, { '--model': 'lraspp_mobilenet_v3_large', '--batch': 1, '--rounds': 5, '--top': 20 });
const modelName = flags['--model'];
const batch = flags['--batch'];
const rounds = flags['--rounds'];
const top = flags['--top'];

const path = benchModelPath(import.meta.url, modelName);

const convnode = await import(pathToFileURL(join(root, 'dist', 'index.js')).href);
const addon = nativeAddon();
const model = await convnode.loadOnnx(path, { backend: 'native' });
const { graph, nodeByName } = await decodedGraph(path);
const shape = [batch, ...model.inputShapes[0].slice(1).map((d) => (typeof d === 'number' ? d : 224))];
const input = new convnode.Tensor(shape, new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i * 0.01)));
const feeds = { [model.inputNames[0]]: input };
await model.profile(feeds, { runs: 1 });

const plan = [...(model.plans?.values() ?? [])].find((p) => Array.isArray(p.steps));
if (!plan) throw new Error('bench/ops-threads.mjs: the model keeps no readable plan (lib/onnx/plan.ts changed?)');

/** samples[threads][step] = [{wall, cpu, shared}] over the rounds. */
const samples = { 1: plan.steps.map(() => []), 2: plan.steps.map(() => []) };
let threadsNow = 1;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
plan.steps.forEach((step, i) => {
  const inner = step.execution;
  const timed = async (work) => {
    const shared0 = addon.sharedWork().cpuMs;
    const cpu0 = cpuMs();
    const wall0 = performance.now();
    await work();
    const wall = performance.now() - wall0;
    samples[threadsNow][i].push({ wall, cpu: cpuMs() - cpu0, shared: addon.sharedWork().cpuMs - shared0 });
  };
  step.execution = {
    ...inner,
    runSync: (ins, outs) => {
      throw new Error(`ops-threads: ${step.op.name} ran synchronously (${ins.length}/${outs.length})`);
    },
    run: (ins, outs) => timed(async () => {
      if (inner.run) await inner.run(ins, outs);
      else inner.runSync(ins, outs);
    }),
  };
});

addon.countSharedWork(true);
for (let r = 0; r < rounds; r++) {
  for (const t of r % 2 ? [2, 1] : [1, 2]) {
    threadsNow = t;
    convnode.setNumThreads(t);
    await model.profile(feeds, { runs: 1 });
  }
}
addon.countSharedWork(false);


const kindOf = (step) => {
  const node = nodeByName.get(step.op.name);
  return node?.opType === 'Conv' ? `${step.op.type} [${convForm(node, graph)}]` : step.op.type;
};

const perStep = plan.steps.map((step, i) => {
  const m = (t, key) => median(samples[t][i].map((s) => s[key]));
  return {
    name: step.op.name, kind: kindOf(step),
    cpu1: m(1, 'cpu'), cpu2: m(2, 'cpu'), shared2: m(2, 'shared'), wall1: m(1, 'wall'), wall2: m(2, 'wall'),
  };
});
const byKind = new Map();
for (const s of perStep) {
  const e = byKind.get(s.kind) ?? { count: 0, cpu1: 0, cpu2: 0, shared2: 0, wall1: 0, wall2: 0 };
  e.count++;
  for (const key of ['cpu1', 'cpu2', 'shared2', 'wall1', 'wall2']) e[key] += s[key];
  byKind.set(s.kind, e);
}
const total = (key) => perStep.reduce((sum, s) => sum + s[key], 0);
const pct = (part, whole) => (whole > 0 ? `${((100 * part) / whole).toFixed(0)}%` : '-');
const row = (label, count, e) => [label, String(count), e.cpu1.toFixed(2), e.cpu2.toFixed(2), (e.cpu2 / Math.max(e.cpu1, 1e-9)).toFixed(2),
  pct(e.shared2, e.cpu2), e.wall1.toFixed(2), e.wall2.toFixed(2)];

function printTable(header, rows) {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  console.log(line(header));
  for (const r of rows) console.log(line(r));
}

const [load1] = os.loadavg();
console.log(`${modelName}, input ${shape.join('x')}, ISA ${convnode.getIsa()}, ${describeCpu()}, load average ${load1.toFixed(1)}`);
console.log(`medians of ${rounds} rounds per thread count, 1 and 2 threads alternating; each op awaited alone (model.profile)`);
const header = ['op kind', 'ops', 'cpu1 ms', 'cpu2 ms', 'cpu2/1', 'shared', 'wall1', 'wall2'];
const totals = { cpu1: total('cpu1'), cpu2: total('cpu2'), shared2: total('shared2'), wall1: total('wall1'), wall2: total('wall2') };
printTable(header, [
  ...[...byKind].sort((a, b) => b[1].cpu1 - a[1].cpu1).map(([kind, e]) => row(kind, e.count, e)),
  row('all ops', perStep.length, totals),
]);
console.log(`\nthe ${top} ops with the most CPU time at 1 thread:`);
printTable(['op', ...header.slice(1)], [...perStep].sort((a, b) => b.cpu1 - a.cpu1).slice(0, top)
  .map((s) => row(`${s.name.length > 40 ? `…${s.name.slice(-39)}` : s.name} ${s.kind}`, 1, s)));
