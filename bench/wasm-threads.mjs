#!/usr/bin/env node
// Does a second thread pay in the wasm backend? The threaded build (scripts/build-wasm.mjs
// --threads) at 1 and at N threads, and the default one-thread build, on zoo models, in one
// process, interleaved round by round (odd rounds reversed); medians.
//
// Per run: process CPU (all threads), the JS thread's own CPU (/proc/self/task/<pid>/schedstat,
// ns), the workers' CPU (the rest), and wall time. On a loaded machine wall time counts other
// processes' turns, so the figures that hold there are CPU ones:
//   - cpu ratio: process CPU at N threads over 1 thread (the cost of splitting: ~1.0 is free);
//   - balance: the JS thread's share of it (1/N is an even split);
//   - est. speed-up: CPU at 1 thread over the busiest thread's CPU at N, what a quiet machine
//     with a free core per thread would give at best (every job's wait for its last task and
//     the wake-ups are not in it). Time the wall clock on a quiet machine before believing it.
//
//   node bench/wasm-threads.mjs [--threads 2] [--batches 1,8] [--models resnet18,mobilenet_v2] [--rounds 5]
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { wasmBackendFromFile } from '../dist/backends/wasm.js';
import { loadOnnx } from '../dist/onnx/index.js';
import { Tensor } from '../dist/tensor.js';
import { median, parseFlags, randomInput, scaledDifference } from './harness.mjs';

const flags = parseFlags(import.meta.url, { '--rounds': 5, '--threads': 2, '--batches': '1,8', '--models': 'resnet18,mobilenet_v2' });
const rounds = flags['--rounds'];
const threads = flags['--threads'];
const batches = String(flags['--batches']).split(',').map(Number);
const modelNames = flags['--models'].split(',');

const oneFile = 'build-wasm/convnode.wasm';
const threadedFile = 'build-wasm/convnode-threads.wasm';
for (const [file, how] of [[oneFile, ''], [threadedFile, ' --threads']]) {
  if (!existsSync(file)) {
    console.error(`${file} missing: node scripts/build-wasm.mjs${how}`);
    process.exit(1);
  }
}
const one = wasmBackendFromFile(oneFile);
const threaded = wasmBackendFromFile(threadedFile, { threads });

/** This (the JS) thread's CPU ns: the first field of schedstat. */
function mainThreadNs() {
  return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
}

function measure(run) {
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadNs();
  const wall0 = performance.now();
  run();
  const wall = performance.now() - wall0;
  const main = (mainThreadNs() - main0) / 1e6;
  const used = process.cpuUsage(cpu0);
  const cpu = (used.user + used.system) / 1000;
  return { cpu, main, workers: Math.max(0, cpu - main), wall };
}

const fmt = (v) => v.toFixed(v < 10 ? 2 : 1);
console.log(`wasm backend: threaded build at 1 and ${threads} threads vs the one-thread build`);
console.log(`${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, medians of ${rounds} interleaved rounds; load average ${os.loadavg()[0].toFixed(1)}\n`);
const rows = [['model', 'batch', '1-build cpu', 't=1 cpu', `t=${threads} cpu`, `t=${threads} js thread`, `t=${threads} workers`,
  'cpu ratio', 'balance', 'est. speed-up', 't=1 wall', `t=${threads} wall`, 'max diff']];
for (const name of modelNames) {
  const file = join('bench', '.models', 'zoo', `${name}.onnx`);
  if (!existsSync(file)) {
    console.log(`(${name}: ${file} missing; see bench/zoo.mjs)`);
    continue;
  }
  const [a, b] = await Promise.all([loadOnnx(file, { backend: one }), loadOnnx(file, { backend: threaded })]);
  for (const batch of batches) {
    const shape = [batch, 3, 224, 224];
    const feeds = { [a.inputNames[0]]: new Tensor(shape, randomInput(batch * 3 * 224 * 224, 11)) };
    const outputs = [];
    const runners = [
      () => { outputs[0] = a.runSync(feeds); },
      () => { threaded.module.setThreads(1); outputs[1] = b.runSync(feeds); },
      () => { threaded.module.setThreads(threads); outputs[2] = b.runSync(feeds); },
    ];
    // Warm-up: V8 recompiles hot wasm functions with TurboFan in the background (bench/wasm.mjs).
    for (let w = 0; w < 3; w++) for (const run of runners) run();
    const samples = runners.map(() => []);
    for (let i = 0; i < rounds; i++) {
      const order = runners.map((_, j) => j);
      if (i % 2) order.reverse();
      for (const j of order) samples[j].push(measure(runners[j]));
    }
    const med = (j, key) => median(samples[j].map((s) => s[key]));
    const first = (o) => Object.values(o)[0].data;
    const diff = Math.max(scaledDifference(first(outputs[1]), first(outputs[0])), scaledDifference(first(outputs[2]), first(outputs[0])));
    const busiest = Math.max(med(2, 'main'), med(2, 'workers') / (threads - 1));
    rows.push([name, batch, fmt(med(0, 'cpu')), fmt(med(1, 'cpu')), fmt(med(2, 'cpu')), fmt(med(2, 'main')), fmt(med(2, 'workers')),
      `${(med(2, 'cpu') / med(1, 'cpu')).toFixed(2)}`, `${((100 * med(2, 'main')) / med(2, 'cpu')).toFixed(0)}%`,
      `${(med(1, 'cpu') / busiest).toFixed(2)}x`, fmt(med(1, 'wall')), fmt(med(2, 'wall')), diff.toExponential(1)]);
  }
  a.dispose();
  b.dispose();
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
for (const r of rows) console.log(r.map((v, i) => (i === 0 ? String(v).padEnd(widths[i]) : String(v).padStart(widths[i]))).join('  '));
console.log('\nms; cpu: process CPU; js thread / workers: its split at N threads; cpu ratio: N threads over 1 (threaded build);');
console.log('balance: the JS thread\'s share; est. speed-up: t=1 cpu over the busiest thread\'s cpu at N (an upper bound:');
console.log('no waits, a free core per thread); wall: meaningless on a loaded machine. max diff: vs the one-thread build.');
