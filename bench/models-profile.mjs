#!/usr/bin/env node
// Where a whole model's time goes: convnode's per-op wall time (model.profile, median of runs)
// for ResNet-18 / MobileNetV2 at 224x224, batch 1, grouped by op kind, with GFLOP/s per op.
// Needs `npm run build` and bench/.models/ (node bench/models.mjs exports them).
//
//   node bench/models-profile.mjs [--model resnet18|mobilenet_v2] [--runs N] [--threads N] [--top K]
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, v, i, all) => (i % 2 ? pairs : [...pairs, [v.replace(/^--/, ''), all[i + 1]]]), []));
const modelName = args.model ?? 'resnet18';
const runs = Number(args.runs ?? 9);
const threads = Number(args.threads ?? 1);
const top = Number(args.top ?? 15);

const onnx = await import(pathToFileURL(join(root, 'dist', 'onnx', 'index.js')).href);
const { Tensor } = await import(pathToFileURL(join(root, 'dist', 'tensor.js')).href);
const native = await import(pathToFileURL(join(root, 'dist', 'backends', 'native.js')).href);
native.setNumThreads(threads);
const model = await onnx.loadOnnx(join(root, 'bench', '.models', `${modelName}.onnx`));
const shape = [1, 3, 224, 224];
const input = new Tensor(shape, new Float32Array(3 * 224 * 224).map((_, i) => Math.sin(i)));
const rows = model.summaryRows(shape);
const macsByName = new Map(rows.map((r) => [r.name, r.multiplyAdds]));
const shapeByName = new Map(rows.map((r) => [r.name, r.outputShape.join('x')]));
await model.profile({ input }, { runs: 2 }); // warm-up
const { steps, totalMs } = await model.profile({ input }, { runs });

console.log(`${modelName}, batch 1, ${threads} thread(s): sum of per-op medians ${totalMs.toFixed(2)} ms over ${steps.length} ops`);
const byType = new Map();
for (const s of steps) {
  const kind = s.type;
  const entry = byType.get(kind) ?? { ms: 0, count: 0, macs: 0 };
  entry.ms += s.ms; entry.count++; entry.macs += macsByName.get(s.name) ?? 0;
  byType.set(kind, entry);
}
console.log('\nby op type:');
for (const [kind, e] of [...byType].sort((a, b) => b[1].ms - a[1].ms)) {
  const gflops = e.macs ? ((2 * e.macs) / (e.ms * 1e6)).toFixed(1) : '-';
  console.log(`  ${kind.padEnd(40)} ${String(e.count).padStart(3)} ops ${e.ms.toFixed(2).padStart(7)} ms  ${gflops.padStart(6)} GFLOP/s`);
}
console.log(`\nslowest ${top} ops:`);
for (const s of [...steps].sort((a, b) => b.ms - a.ms).slice(0, top)) {
  const macs = macsByName.get(s.name) ?? 0;
  const gflops = macs ? ((2 * macs) / (s.ms * 1e6)).toFixed(1) : '-';
  console.log(`  ${s.name.slice(0, 28).padEnd(28)} ${s.type.slice(0, 32).padEnd(32)} ${shapeByName.get(s.name)?.padEnd(14)} ${s.ms.toFixed(3).padStart(7)} ms ${gflops.padStart(6)} GFLOP/s`);
}
