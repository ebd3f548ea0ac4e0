#!/usr/bin/env node
// What the wasm backend's copies in and out cost per model: every module call copies its JS
// operands into the module's memory and its outputs back out (wasm cannot address JS memory).
// Runs each zoo model once on a wasm backend whose WasmModule.run is wrapped to record the
// lengths it copies (inputs in, outputs out), then times exactly those copies (the same
// Float32Array.set calls run() makes, between a JS array and the module's memory) against the
// model's whole run, both in process CPU ms, medians of interleaved rounds, in one process.
// The share is what keeping activations in module memory between layers could save at most.
//
//   node bench/wasm-copies.mjs [--models resnet18,mobilenet_v2,efficientnet_b0] [--rounds 7]
import { existsSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { wasmBackendFromFile } from '../dist/backends/wasm.js';
import { loadOnnx } from '../dist/onnx/index.js';
import { Tensor } from '../dist/tensor.js';
import { median, parseFlags, randomInput } from './harness.mjs';

const flags = parseFlags(import.meta.url, {
  '--models': 'resnet18,mobilenet_v2,efficientnet_b0', '--rounds': 7, '--wasm': 'build-wasm/convnode.wasm',
});
const rounds = flags['--rounds'];

function cpuMs() {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
}

const backend = wasmBackendFromFile(flags['--wasm'], { threads: 1 });
const m = backend.module;
const originalRun = m.run.bind(m);
let record = null;  // [{ inputs: lengths, outputs: lengths }] while recording
m.run = (inputs, outputs, call) => {
  record?.push({ inputs: inputs.filter((a) => a !== null).map((a) => a.length), outputs: outputs.map((a) => a.length) });
  return originalRun(inputs, outputs, call);
};

/**
 * Replays one run's copies: JS arrays into module memory and back, as WasmModule.run does. Each
 * operand has its own JS array, as in the model (its activations are separate arrays), so the
 * copies meet the caches as the run's do; the module side is one buffer (run()'s slots are
 * reused from call to call too).
 */
function copyReplay(calls) {
  const largest = Math.max(...calls.flatMap((c) => [...c.inputs, ...c.outputs]));
  const pointer = m.copyIn(new Float32Array(largest));
  const arrays = calls.map((c) => ({ inputs: c.inputs.map((n) => new Float32Array(n).fill(1)), outputs: c.outputs.map((n) => new Float32Array(n)) }));
  return {
    run() {
      const heap = new Float32Array(m.memory.buffer);
      const base = pointer >>> 2;
      for (const c of arrays) {
        for (const a of c.inputs) heap.set(a, base);
        for (const a of c.outputs) a.set(heap.subarray(base, base + a.length));
      }
    },
    dispose: () => m.api.cn_free(pointer),
  };
}

console.log('wasm backend: the copies in and out of the module per model run (batch 1, 1 thread)');
console.log(`${os.cpus()[0]?.model ?? 'unknown CPU'}, medians of ${rounds} interleaved rounds of process CPU ms; load average ${os.loadavg()[0].toFixed(1)}\n`);
const rows = [['model', 'calls', 'MB in', 'MB out', 'run ms', 'copies ms', 'share']];
for (const name of flags['--models'].split(',')) {
  const file = join('bench', '.models', 'zoo', `${name}.onnx`);
  if (!existsSync(file)) {
    console.log(`(${name}: ${file} missing; see bench/zoo.mjs)`);
    continue;
  }
  const model = await loadOnnx(file, { backend });
  const shape = [1, ...model.inputShapes[0].slice(1)];
  const feeds = { [model.inputNames[0]]: new Tensor(shape, randomInput(shape.reduce((a, b) => a * b, 1), 5)) };
  record = [];
  model.runSync(feeds);
  const calls = record;
  record = null;
  const replay = copyReplay(calls);
  for (let i = 0; i < 5; i++) {
    model.runSync(feeds);
    replay.run();
  }
  const runMs = [];
  const copyMs = [];
  for (let r = 0; r < rounds; r++) {
    for (const side of r % 2 ? ['copy', 'run'] : ['run', 'copy']) {
      const t = cpuMs();
      if (side === 'run') model.runSync(feeds);
      else replay.run();
      (side === 'run' ? runMs : copyMs).push(cpuMs() - t);
    }
  }
  replay.dispose();
  model.dispose();
  const mb = (key) => (calls.reduce((s, c) => s + c[key].reduce((a, b) => a + b, 0), 0) * 4) / 1e6;
  const run = median(runMs);
  const copy = median(copyMs);
  rows.push([name, String(calls.length), mb('inputs').toFixed(1), mb('outputs').toFixed(1), run.toFixed(2), copy.toFixed(2),
    `${((100 * copy) / run).toFixed(1)}%`]);
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
for (const r of rows) console.log(r.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  '));
console.log('\nMB in / out: floats copied into / out of the module per run (operands and weights already in it are not).');
await backend.dispose();
