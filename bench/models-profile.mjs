#!/usr/bin/env node
// Where a whole model's time goes: convnode's per-op wall time (model.profile, median of runs),
// summed by op kind, with a rate for each kind so the slow ones stand out:
//   - GFLOP/s = 2 x multiply-adds / s, for kinds that multiply-add (Conv, Gemm, MatMul);
//   - GB/s = bytes read + written / s, for every kind (activations in and out, weights read).
// Convs are split by form (1x1, kxk, depthwise kxk, grouped), because one "Conv" line would
// average a 100 GFLOP/s 1x1 with a 3 GFLOP/s 5x5 depthwise. Fused ops keep their fused type
// ('Conv+Relu'); the form goes in brackets after it.
//
// Models: any zoo model (bench/.models/zoo/, exported by `node bench/zoo.mjs`) or one of
// bench/models.mjs's (bench/.models/: resnet18, mobilenet_v2, shufflenet_v2). Needs `npm run build`.
//
//   node bench/models-profile.mjs [--model efficientnet_b0] [--batch 1] [--threads 1] [--runs 9] [--top 15]
//
// Each op is awaited on its own in a profile (a run queues consecutive native ops instead), so on
// the native backend every op's time includes one round trip to the JS thread, ~35 us on a
// loaded 2-core VM; a kind of many tiny ops looks slower than it is by about that much per op.
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { benchModelPath, convForm, decodedGraph, parseFlags } from './harness.mjs';
import { describeCpu } from './zoo-env.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const flags = parseFlags(import.meta.url, { '--model': 'resnet18', '--batch': 1, '--threads': 1, '--runs': 9, '--top': 15 });
const { '--model': modelName, '--batch': batch, '--runs': runs, '--threads': threads, '--top': top } = flags;

const path = benchModelPath(import.meta.url, modelName);

const convnode = await import(pathToFileURL(join(root, 'dist', 'index.js')).href);
convnode.setNumThreads(threads);
const model = await convnode.loadOnnx(path);
const { graph, nodeByName } = await decodedGraph(path);
const shape = [batch, ...model.inputShapes[0].slice(1)];
const input = new convnode.Tensor(shape, new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i)));
const feeds = { [model.inputNames[0]]: input };

const rows = model.summaryRows(shape);
const rowByName = new Map(rows.map((r) => [r.name, r]));
await model.profile(feeds, { runs: 2 }); // warm-up
const { steps, totalMs } = await model.profile(feeds, { runs });
const stepShapes = plannedStepShapes(shape, steps.length);

/**
 * The activation shapes each executed step reads and writes, from the execution plan model.profile
 * just used. They are private to lib/onnx/plan.ts (no public API says what a step reads), so this
 * reads them as a bench may; if the plan's layout changes, the bench falls back to output bytes
 * only and says so.
 */
function plannedStepShapes(inputShape, stepCount) {
  const key = JSON.stringify(inputShape);
  const plan = [...(model.plans?.values() ?? [])].find(
    (p) => p.steps?.length === stepCount && JSON.stringify(p.values?.[p.inputIds?.[0]]?.shape) === key,
  );
  if (!plan) return null;
  return plan.steps.map((s) => ({ inputs: s.inputIds.map((id) => plan.values[id].shape), outputs: s.outputIds.map((id) => plan.values[id].shape) }));
}

const numel = (dims) => dims.reduce((a, b) => a * b, 1);

function kindOf(step) {
  const node = nodeByName.get(step.name);
  return node?.opType === 'Conv' ? `${step.type} [${convForm(node, graph)}]` : step.type;
}

/** Bytes one step reads and writes: activations in and out (float32) plus its weights. */
function bytesOf(step, i) {
  const weights = (rowByName.get(step.name)?.params ?? 0) * 4;
  if (stepShapes) {
    const { inputs, outputs } = stepShapes[i];
    return weights + 4 * [...inputs, ...outputs].reduce((sum, dims) => sum + numel(dims), 0);
  }
  const out = rowByName.get(step.name)?.outputShape;
  return weights + (out ? 4 * numel(out) : 0);
}

const byKind = new Map();
const perStep = steps.map((s, i) => ({ ...s, kind: kindOf(s), macs: rowByName.get(s.name)?.multiplyAdds ?? 0, bytes: bytesOf(s, i) }));
for (const s of perStep) {
  const entry = byKind.get(s.kind) ?? { ms: 0, count: 0, macs: 0, bytes: 0 };
  entry.ms += s.ms;
  entry.count++;
  entry.macs += s.macs;
  entry.bytes += s.bytes;
  byKind.set(s.kind, entry);
}

const rate = (amount, ms) => (ms > 0 ? (amount / (ms * 1e6)).toFixed(1) : '-');
const gflops = (macs, ms) => (macs ? rate(2 * macs, ms) : '-');

console.log(`${modelName}, input ${shape.join('x')}, ${threads} thread(s), ISA ${convnode.getIsa()}, ${describeCpu()}`);
console.log(`sum of per-op medians over ${runs} runs: ${totalMs.toFixed(2)} ms over ${steps.length} ops`);
if (!stepShapes) console.log('(the plan\'s step shapes were not readable: GB/s counts weights and outputs only, not the inputs)');
const header = ['op kind', 'ops', 'ms', '% time', 'GFLOP/s', 'GB/s'];
const table = [...byKind]
  .sort((a, b) => b[1].ms - a[1].ms)
  .map(([kind, e]) => [kind, String(e.count), e.ms.toFixed(2), ((100 * e.ms) / totalMs).toFixed(1), gflops(e.macs, e.ms), rate(e.bytes, e.ms)]);
printTable(header, table, 1);

console.log(`\nslowest ${top} ops:`);
printTable(
  ['op', 'kind', 'output', 'ms', 'GFLOP/s', 'GB/s'],
  [...perStep]
    .sort((a, b) => b.ms - a.ms)
    .slice(0, top)
    .map((s) => [s.name.length > 44 ? `…${s.name.slice(-43)}` : s.name, s.kind, rowByName.get(s.name)?.outputShape.join('x') ?? '', s.ms.toFixed(3), gflops(s.macs, s.ms), rate(s.bytes, s.ms)]),
  3,
);

/** A markdown table: the first `textColumns` columns left-aligned, the numbers right-aligned. */
function printTable(head, lines, textColumns) {
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells) => `| ${cells.map((c, i) => (i < textColumns ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log([fmt(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(fmt)].join('\n'));
}
