#!/usr/bin/env node
// Which layers of a zoo model lose to onnxruntime, node by node: convnode's model.profile and
// onnxruntime-node's own profiler (enableProfiling) on the same model, input and thread count,
// in one process, rounds interleaved. Steps are matched by ONNX node name (both keep the name of
// a fusion's first node: Conv+Relu is the Conv's name); per node the median over rounds. Lines are
// sorted by what the node costs convnode over onnxruntime, so the top of the list is what to fix.
//
//   node bench/ort-node-profile.mjs [--model resnet50] [--threads 1] [--batch 1] [--rounds 5] [--top 30]
//
// Each convnode op is awaited on its own in a profile (one round trip to the JS thread per op,
// see bench/models-profile.mjs), and onnxruntime's node times exclude its own between-node
// overhead: compare layers with this, whole models with bench/zoo.mjs. Needs `npm run build`.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as ort from 'onnxruntime-node';
import { parseFlags } from './harness.mjs';
import { describeCpu } from './zoo-env.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const flags = parseFlags(import.meta.url, { '--model': 'resnet50', '--threads': 1, '--batch': 1, '--rounds': 5, '--top': 30 });
const modelName = flags['--model'];
const threads = flags['--threads'];
const batch = flags['--batch'];
const rounds = flags['--rounds'];
const top = flags['--top'];
const path = join(here, '.models', 'zoo', `${modelName}.onnx`);

const convnode = await import(pathToFileURL(join(here, '..', 'dist', 'index.js')).href);
const { decodeModel } = await import(pathToFileURL(join(here, '..', 'dist', 'onnx', 'decode.js')).href);
const graph = decodeModel(readFileSync(path), path);
const producer = new Map();
for (const node of graph.nodes) for (const out of node.outputs) producer.set(out, node);
convnode.setNumThreads(threads);
const model = await convnode.loadOnnx(path);
const shape = [batch, ...model.inputShapes[0].slice(1)];
const data = new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i));
const feeds = { [model.inputNames[0]]: new convnode.Tensor(shape, data) };
const prefix = `/tmp/ort-node-profile-${process.pid}`;
const session = await ort.InferenceSession.create(path, {
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  enableProfiling: true,
  profileFilePrefix: prefix,
  extra: { session: { intra_op: { allow_spinning: '0' } } },
});
const ortFeeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, shape) };

const ours = new Map(); // node name -> { type, ms[] }
await model.profile(feeds, { runs: 1 });
await session.run(ortFeeds);
for (let r = 0; r < rounds; r++) {
  const { steps } = await model.profile(feeds, { runs: 1 });
  for (const s of steps) {
    const entry = ours.get(s.name) ?? { type: s.type, ms: [] };
    entry.ms.push(s.ms);
    ours.set(s.name, entry);
  }
  await session.run(ortFeeds);
}
// The binding's endProfiling() returns nothing: the file is the prefix plus a timestamp.
await session.endProfiling();
const base = prefix.slice('/tmp/'.length);
const found = readdirSync('/tmp').find((f) => f.startsWith(base) && f.endsWith('.json'));
if (!found) throw new Error(`onnxruntime wrote no profile at ${prefix}*.json`);
const file = join('/tmp', found);
const events = JSON.parse(readFileSync(file, 'utf8'));
rmSync(file, { force: true });
const theirs = new Map(); // convnode step name -> { op, ms[] } (every run's, the warm-up's first)
for (const e of events) {
  if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
  const name = convnodeName(e.name.slice(0, -'_kernel_time'.length));
  const entry = theirs.get(name) ?? { op: e.args?.op_name ?? '?', ms: [] };
  entry.ms.push(e.dur / 1000);
  theirs.set(name, entry);
}
/**
 * The convnode step an onnxruntime node stands for. onnxruntime keeps plain nodes' names but
 * names its NCHWc convs after the tensor they write ('/layer1/.../relu/Relu_output_0_nchwc'):
 * that tensor's producer, traced back through first inputs (Relu after Add after the conv; the
 * residual is the Add's second input) to the Conv, Gemm or MatMul that convnode's fused step is
 * named after.
 */
function convnodeName(ortName) {
  let tensor = ortName.replace(/_nchwc$/, '');
  if (!producer.has(tensor)) return ortName;
  for (let hops = 0; hops < 8; hops++) {
    const node = producer.get(tensor);
    if (!node) break;
    if (['Conv', 'Gemm', 'MatMul'].includes(node.opType)) return node.name;
    tensor = node.inputs[0];
  }
  return ortName;
}
/** Per-run sums of a step's onnxruntime times (several of its nodes may map to one step), warm-up dropped. */
function perRun(ms) {
  const each = Math.max(1, Math.round(ms.length / (rounds + 1)));
  const sums = [];
  for (let i = ms.length - rounds * each; i < ms.length; i += each) sums.push(ms.slice(i, i + each).reduce((a, b) => a + b, 0));
  return sums;
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[(s.length - 1) >> 1];
};
const rows = [];
let oursTotal = 0;
let theirsTotal = 0;
for (const [name, o] of ours) {
  const t = theirs.get(name);
  const ourMs = median(o.ms);
  const theirMs = t ? median(perRun(t.ms)) : 0;
  oursTotal += ourMs;
  theirsTotal += theirMs;
  rows.push({ name, type: o.type, op: t?.op ?? '-', ourMs, theirMs });
}
let unmatched = 0;
for (const [name, t] of theirs) if (!ours.has(name)) unmatched += median(perRun(t.ms));
theirsTotal += unmatched;
rows.sort((a, b) => b.ourMs - b.theirMs - (a.ourMs - a.theirMs));
console.log(`${modelName}, batch ${batch}, ${threads} thread(s), ${rounds} rounds; ${describeCpu()}`);
console.log('node\tconvnode type\tort op\tconvnode ms\tort ms\tdiff ms\tratio');
for (const r of rows.slice(0, top)) {
  console.log(
    `${r.name}\t${r.type}\t${r.op}\t${r.ourMs.toFixed(3)}\t${r.theirMs.toFixed(3)}\t${(r.ourMs - r.theirMs).toFixed(3)}\t${r.theirMs > 0 ? (r.ourMs / r.theirMs).toFixed(2) : '-'}`,
  );
}
console.log(`total (steps summed)\t\t\t${oursTotal.toFixed(2)}\t${theirsTotal.toFixed(2)}\t\t${(oursTotal / theirsTotal).toFixed(2)}`);
console.log(`onnxruntime nodes with no convnode step of that name: ${unmatched.toFixed(2)} ms`);
