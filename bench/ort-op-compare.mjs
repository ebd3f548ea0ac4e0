#!/usr/bin/env node
// Which op kinds lose to onnxruntime, and by how much: convnode's per-step time against
// onnxruntime-node's per-node profile, on the same model, in one process, rounds interleaved.
//
//   node bench/ort-op-compare.mjs --model mobilenet_v2 [--rounds 15] [--top 12] [--batch 1]
//
// 1 thread on both sides. convnode's steps run synchronously on this thread (the plan's own
// runSync loop, one timer per step, so no async hop is counted); onnxruntime's times are its
// profiler's per-node kernel times (enableProfiling). Both are wall times, and each op's figure
// is its fastest of the rounds: on a loaded machine (2 cores, ~16 runnable jobs) a step loses its
// core for 20-60 ms in a run at random, so a per-op median can be a preemption, while the
// minimum is the op's own time on both sides alike. The whole-run CPU-time medians are printed too.
// Steps are matched by the value they write: onnxruntime names an NCHWc node after its output
// ('<value>_nchwc') and others after the node, so a fused conv + activation (+ residual add) on
// both sides writes the same final value. onnxruntime's layout changes (ReorderInput /
// ReorderOutput), which convnode does not need, are a kind of their own. Kinds are convnode's:
// a conv's form from its weights ('1x1 expand', '1x1 project', 'depthwise 3x3/2', ...).
import { readFileSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as ort from 'onnxruntime-node';
import { benchModelPath, convForm, decodedGraph, median, parseFlags, timeEachStep } from './harness.mjs';
import { describeCpu } from './zoo-env.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const flags = parseFlags(import.meta.url, { '--model': 'mobilenet_v2', '--rounds': 15, '--top': 12, '--batch': 1 });
const modelName = flags['--model'];
const rounds = flags['--rounds'];
const top = flags['--top'];
const batch = flags['--batch'];
const path = benchModelPath(import.meta.url, modelName);

const convnode = await import(pathToFileURL(join(root, 'dist', 'index.js')).href);
convnode.setNumThreads(1);
const model = await convnode.loadOnnx(path);
const { graph, nodeByName } = await decodedGraph(path);
const shape = [batch, ...model.inputShapes[0].slice(1)];
const data = new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i));
const feeds = { [model.inputNames[0]]: new convnode.Tensor(shape, data) };
model.runSync(feeds); // builds the plan
const plan = [...model.plans.values()].find((p) => JSON.stringify(p.values[p.inputIds[0]].shape) === JSON.stringify(shape));

const timedRun = () => timeEachStep(plan, data);

const prefix = `/tmp/ort-op-compare-${process.pid}`;
const session = await ort.InferenceSession.create(path, {
  intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
  enableProfiling: true, profileFilePrefix: prefix,
  extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
});
const ortFeeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, shape) };
for (let i = 0; i < 2; i++) {
  timedRun();
  await session.run(ortFeeds);
}
const ours = [];
const cpu = { ours: [], theirs: [] };
const cpuOf = (start) => {
  const c = process.cpuUsage(start);
  return (c.user + c.system) / 1000;
};
for (let r = 0; r < rounds; r++) {
  const order = r % 2 ? ['theirs', 'ours'] : ['ours', 'theirs'];
  for (const side of order) {
    const start = process.cpuUsage();
    if (side === 'ours') ours.push(timedRun());
    else await session.run(ortFeeds);
    cpu[side].push(cpuOf(start));
  }
}
// onnxruntime-node's endProfiling returns nothing: the file is the one with our prefix.
session.endProfiling();
await session.release();
const { readdirSync } = await import('node:fs');
const profileFile = readdirSync('/tmp').filter((f) => `/tmp/${f}`.startsWith(prefix)).map((f) => `/tmp/${f}`)[0];
const events = JSON.parse(readFileSync(profileFile, 'utf8')).filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'));
unlinkSync(profileFile);


// onnxruntime: per node name, the median over the rounds (the last `rounds` events of each name:
// the warm-up runs come first).
const ortByName = new Map();
for (const e of events) {
  const key = e.name.replace(/_kernel_time$/, '');
  const entry = ortByName.get(key) ?? { op: e.args.op_name, durs: [], out: e.args.output_type_shape };
  entry.durs.push(e.dur / 1000);
  ortByName.set(key, entry);
}
const ortNodes = [...ortByName].map(([name, e]) => ({ name, op: e.op, ms: Math.min(...e.durs.slice(-rounds)), out: e.out }));


const ourSteps = plan.steps.map((step, i) => {
  const node = nodeByName.get(step.op.name);
  const isConv = node?.opType === 'Conv' || step.op.type.startsWith('Conv');
  const kind = isConv && node ? convForm(node, graph) || 'conv' : step.op.type.replace(/^Conv\+/, 'Conv+');
  const outName = step.op.outputs[0];
  return { name: step.op.name, type: step.op.type, kind, outName, out: plan.values[step.outputIds[0]].shape, ms: Math.min(...ours.map((run) => run[i])) };
});

// Match: onnxruntime's '<value>_nchwc' or '<value>' (the value a step writes), else its node name.
const claimed = new Set();
for (const s of ourSteps) {
  const match = [`${s.outName}_nchwc`, s.outName, s.name].find((k) => ortByName.has(k) && !claimed.has(k));
  if (match) {
    claimed.add(match);
    s.ort = ortNodes.find((n) => n.name === match);
  }
}
// A fused residual add names onnxruntime's node after the add's output, which convnode's step
// may not list: the remaining steps take the remaining nodes of the same op and output shape, in order.
const outShape = (n) => JSON.stringify(Object.values(n.out?.[0] ?? {})[0] ?? []);
for (const s of ourSteps.filter((x) => !x.ort)) {
  const node = nodeByName.get(s.name);
  const match = ortNodes.find((n) => !claimed.has(n.name) && n.op === node?.opType && outShape(n) === JSON.stringify(s.out));
  if (match) {
    claimed.add(match.name);
    s.ort = match;
  }
}
// What onnxruntime runs as separate nodes and convnode fuses into a step (a SiLU after a conv,
// which onnxruntime runs as QuickGelu; a squeeze-and-excitation block's pool and 1x1 convs) is
// added to the step whose node path shares the most '/' components with the node's name (at
// least 4: the same block), so the step's ort figure covers the same work.
const pathParts = (name) => name.split('/');
const commonParts = (a, b) => {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
};
for (const n of ortNodes.filter((x) => !claimed.has(x.name) && !/Reorder/.test(x.op))) {
  const parts = pathParts(n.name);
  let best = null;
  let bestCommon = 3;
  for (const s of ourSteps) {
    const common = commonParts(parts, pathParts(s.name));
    if (common > bestCommon || (common === bestCommon && best && s.type.includes('+') && !best.type.includes('+'))) {
      best = s;
      bestCommon = common;
    }
  }
  if (best?.ort) {
    claimed.add(n.name);
    best.ort = { ...best.ort, ms: best.ort.ms + n.ms, also: [...(best.ort.also ?? []), n.op] };
  }
}
const unmatched = ortNodes.filter((n) => !claimed.has(n.name));

const byKind = new Map();
const add = (kind, oursMs, theirsMs) => {
  const e = byKind.get(kind) ?? { ours: 0, theirs: 0, count: 0 };
  e.ours += oursMs;
  e.theirs += theirsMs;
  e.count++;
  byKind.set(kind, e);
};
for (const s of ourSteps) add(s.kind, s.ms, s.ort?.ms ?? 0);
for (const n of unmatched) add(/Reorder/.test(n.op) ? 'ort layout (Reorder*)' : `ort only: ${n.op}`, 0, n.ms);

const sum = (xs) => xs.reduce((a, b) => a + b, 0);
const oursTotal = sum(ourSteps.map((s) => s.ms));
const theirsTotal = sum(ortNodes.map((n) => n.ms));
const { execSync } = await import('node:child_process');
console.log(`${modelName}, input ${shape.join('x')}, 1 thread, convnode ISA ${convnode.getIsa()}, ${describeCpu()}, ${rounds} rounds, load: ${execSync('uptime').toString().trim().replace(/.*load/, 'load')}`);
console.log(`whole run, CPU time medians: convnode ${median(cpu.ours).toFixed(2)} ms, onnxruntime ${median(cpu.theirs).toFixed(2)} ms (${(median(cpu.ours) / median(cpu.theirs)).toFixed(3)}x)`);
console.log(`sum of per-op minima: convnode ${oursTotal.toFixed(2)} ms over ${ourSteps.length} steps, onnxruntime ${theirsTotal.toFixed(2)} ms over ${ortNodes.length} nodes`);
const fmtRatio = (a, b) => (b > 0 ? `${(a / b).toFixed(2)}x` : '-');
printTable(
  ['kind', 'steps', 'convnode ms', 'ort ms', 'ratio', 'convnode - ort ms'],
  [...byKind].sort((a, b) => b[1].ours - b[1].theirs - (a[1].ours - a[1].theirs)).map(([kind, e]) => [
    kind, String(e.count), e.ours.toFixed(3), e.theirs.toFixed(3), fmtRatio(e.ours, e.theirs), (e.ours - e.theirs).toFixed(3),
  ]),
  1,
);
console.log(`\nthe ${top} steps that lose most (convnode - onnxruntime):`);
printTable(
  ['step', 'kind', 'output', 'convnode ms', 'ort ms', 'ratio'],
  ourSteps.filter((s) => s.ort).sort((a, b) => b.ms - b.ort.ms - (a.ms - a.ort.ms)).slice(0, top).map((s) => [
    s.name.length > 40 ? `…${s.name.slice(-39)}` : s.name, s.kind, s.out.join('x'), s.ms.toFixed(3), s.ort.ms.toFixed(3), fmtRatio(s.ms, s.ort.ms),
  ]),
  3,
);

/** A markdown table: the first `textColumns` columns left-aligned, the numbers right-aligned. */
function printTable(head, lines, textColumns) {
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells) => `| ${cells.map((c, i) => (i < textColumns ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log([fmt(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(fmt)].join('\n'));
}
