#!/usr/bin/env node
// ConvTranspose layers (UNet / DCGAN decoders), this checkout against another checkout's build
// (`--baseline DIR`: its dist/ and its addon, e.g. the main checkout before a change), both
// loaded in one process, the two timed in alternating order round after round, CPU time, medians.
// The single-layer models are written by Debian's python3-onnx on first use into
// bench/.models/conv-transpose/ (git-ignored), random weights.
//
//   node bench/conv-transpose.mjs [--baseline /work/main] [--threads 1] [--rounds 9]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeCpu } from './zoo-env.mjs';
import { parseFlags } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const flags = parseFlags(import.meta.url, { '--threads': 1, '--rounds': 9, '--baseline': String });
const threads = flags['--threads'];
const rounds = flags['--rounds'];
const baseline = flags['--baseline'] ?? null;

// name, Cin, Cout, kernel, stride, pad, output_padding, input H = W
const LAYERS = [
  ['4x4/2 pad 1, 64->32 @32 (DCGAN)', 64, 32, 4, 2, 1, 0, 32],
  ['4x4/2 pad 1, 128->64 @16', 128, 64, 4, 2, 1, 0, 16],
  ['3x3/2 pad 1 out_pad 1, 64->32 @56', 64, 32, 3, 2, 1, 1, 56],
  ['2x2/2, 128->64 @64 (UNet: the tiled form)', 128, 64, 2, 2, 0, 0, 64],
];
const dir = join(here, '.models', 'conv-transpose');
const fileOf = (l) => join(dir, `ct_${l[1]}_${l[2]}_k${l[3]}s${l[4]}p${l[5]}o${l[6]}_${l[7]}.onnx`);
const missing = LAYERS.filter((l) => !existsSync(fileOf(l)));
if (missing.length) {
  mkdirSync(dir, { recursive: true });
  const script = `
import sys, json, numpy as np, onnx
from onnx import helper, TensorProto, numpy_helper
for path, cin, cout, k, s, p, op, size in json.loads(sys.argv[1]):
    rng = np.random.default_rng(cin * 1000 + cout)
    w = numpy_helper.from_array((rng.standard_normal((cin, cout, k, k)) * 0.05).astype(np.float32), 'w')
    b = numpy_helper.from_array(rng.standard_normal(cout).astype(np.float32), 'b')
    node = helper.make_node('ConvTranspose', ['x', 'w', 'b'], ['y'], strides=[s, s], pads=[p, p, p, p], output_padding=[op, op])
    graph = helper.make_graph([node], 'ct', [helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, cin, size, size])],
                              [helper.make_tensor_value_info('y', TensorProto.FLOAT, None)], [w, b])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)]), path)
`;
  const result = spawnSync('/usr/bin/python3', ['-c', script, JSON.stringify(missing.map((l) => [fileOf(l), ...l.slice(1)]))], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(1);
}

async function runtime(dirPath, label) {
  const onnx = await import(pathToFileURL(join(dirPath, 'dist', 'onnx', 'index.js')).href);
  const { Tensor } = await import(pathToFileURL(join(dirPath, 'dist', 'tensor.js')).href);
  const native = await import(pathToFileURL(join(dirPath, 'dist', 'backends', 'native.js')).href);
  native.setNumThreads(threads);
  return { label, onnx, Tensor };
}
const runtimes = [await runtime(root, 'this checkout')];
if (baseline) runtimes.push(await runtime(resolve(baseline), resolve(baseline)));

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`ConvTranspose layers, ${threads} thread(s), batch 1, CPU ms medians of ${rounds}, ${describeCpu()}, load ${os.loadavg()[0].toFixed(1)}`);
for (const layer of LAYERS) {
  const bytes = readFileSync(fileOf(layer));
  const [, cin, , , , , , size] = layer;
  const x = Float32Array.from({ length: cin * size * size }, (_, i) => Math.sin(i * 0.01));
  const loaded = [];
  for (const r of runtimes) {
    const model = await r.onnx.loadOnnx(bytes, { backend: 'native' });
    const feeds = { x: new r.Tensor([1, cin, size, size], x) };
    await model.run(feeds);
    loaded.push({ r, model, feeds, times: [] });
  }
  for (let round = 0; round < rounds; round++) {
    for (const l of round % 2 ? [...loaded].reverse() : loaded) {
      const t0 = cpu();
      l.out = (await l.model.run(l.feeds)).y.data;
      l.times.push(cpu() - t0);
    }
  }
  let diff = 0;
  if (loaded.length > 1) for (let i = 0; i < loaded[0].out.length; i++) diff = Math.max(diff, Math.abs(loaded[0].out[i] - loaded[1].out[i]));
  const cells = loaded.map((l) => `${median(l.times).toFixed(2)}`);
  const ratio = loaded.length > 1 ? `  ratio ${(median(loaded[0].times) / median(loaded[1].times)).toFixed(2)}, max |diff| ${diff.toExponential(1)}` : '';
  console.log(`  ${layer[0].padEnd(44)} ${cells.join(' vs ')} ms${ratio}`);
}
