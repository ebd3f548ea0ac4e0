#!/usr/bin/env node
// Resident memory after loading a model and running it 3 times (batch 1, 1 thread), convnode
// (native backend) vs onnxruntime-node, each in a fresh child process so neither sees the
// other's pages. Needs `npm run build`. Models: ONNX files given with --models a.onnx,b.onnx
// (default: bench/.models/{resnet18,mobilenet_v2}.onnx, as bench/models.mjs exports them).
//
//   node bench/memory.mjs [--models ...] [--max-packed <bytes>] [--runs 3]
// --max-packed passes loadOnnx's maxPackedWeightBytes (the conv plans' memory limit).
import { spawnSync } from 'node:child_process';
import { dirname, join, basename } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseFlags } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const args = process.argv.slice(2);

async function child(kind, path, runs, maxPacked) {
  const shape = [1, 3, 224, 224];
  const data = new Float32Array(3 * 224 * 224).map((_, i) => Math.sin(i * 0.01));
  if (kind === 'ort') {
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
    const input = new ort.Tensor('float32', data, shape);
    for (let i = 0; i < runs; i++) await session.run({ [session.inputNames[0]]: input });
  } else {
    const onnx = await import(pathToFileURL(join(root, 'dist', 'onnx', 'index.js')).href);
    const { Tensor } = await import(pathToFileURL(join(root, 'dist', 'tensor.js')).href);
    const native = await import(pathToFileURL(join(root, 'dist', 'backends', 'native.js')).href);
    native.setNumThreads(1);
    const model = await onnx.loadOnnx(path, { backend: 'native', ...(maxPacked !== undefined ? { maxPackedWeightBytes: Number(maxPacked) } : {}) });
    const input = new Tensor(shape, data);
    for (let i = 0; i < runs; i++) await model.run({ [model.inputNames[0]]: input });
  }
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
  console.log(JSON.stringify({ rss, heapUsed, external, arrayBuffers }));
}

if (args[0] === '--child') {
  await child(args[1], args[2], Number(args[3]), args[4] === 'none' ? undefined : args[4]);
} else {
  const flags = parseFlags(import.meta.url, { '--models': String, '--runs': 3, '--max-packed': Number });
  const models = flags['--models']?.split(',') ?? ['resnet18', 'mobilenet_v2'].map((n) => join(here, '.models', `${n}.onnx`));
  const runs = flags['--runs'];
  const maxPacked = flags['--max-packed'] === undefined ? 'none' : String(flags['--max-packed']);
  const mb = (b) => (b / 2 ** 20).toFixed(1);
  console.log(`RSS after load + ${runs} runs (batch 1, 1 thread), MiB; max-packed ${maxPacked}`);
  for (const path of models) {
    const measure = (kind) => {
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', kind, path, String(runs), maxPacked], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${kind} ${path}: ${r.stderr.slice(-500)}`);
      return JSON.parse(r.stdout.trim().split('\n').pop());
    };
    const ours = measure('convnode');
    const theirs = measure('ort');
    console.log(`${basename(path)}: convnode ${mb(ours.rss)} (external ${mb(ours.external)}, of it array buffers ${mb(ours.arrayBuffers)}; JS heap ${mb(ours.heapUsed)}), onnxruntime ${mb(theirs.rss)}: ${(ours.rss / theirs.rss).toFixed(2)}x`);
  }
}
