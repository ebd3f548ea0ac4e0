// Which native build, or which native environment switch, is faster on whole models: per step
// and per conv form, in one process, the contenders' runs interleaved.
//
//   node bench/model-ab.mjs --models resnet50,resnet18 [--rounds 15] [--batch 1]
//                           [--addon other.node ...] [--env 'CONVNODE_X=0' ...]
//                           [--steps 'layer1'] [--thrash 64] [--threads 1]
//
// The contenders: this checkout's addon, then one per --addon (another build), then one per
// --env (this checkout's addon with the given variables, 'A=1,B=2'). Each runs in a worker
// thread of its own (every JS environment loads the addon once), on --threads threads (default 1:
// each contender's addon image has its own pool; the steps run synchronously, so its workers
// sleep between steps as in model.profile), batch --batch,
// the same input; a round runs each contender once (odd rounds in reverse order). Native
// switches are read once per loaded binary with getenv, which sees the process environment
// (a worker's process.env is a copy): so each --env contender gets its own copy of the addon
// file (in the OS temp folder; dlopen keeps one image per file, hence one latched switch per
// copy), and the main thread sets the variables only while that worker loads and warms up.
// Printed per model: per conv form (and other op type) the sum over its steps of each step's
// fastest wall time over the rounds (the step's own time on a loaded machine: a preempted run
// only raises a sample), the total, and the median whole-run process CPU time; ratios are each
// contender against the first. --steps REGEX also prints the steps whose names match.
// --thrash MB writes MB of other memory before every run (caches cold, as in a server that
// runs other work between requests). Two contenders that are the same build show this
// machine's noise: on 2 loaded cores (load 20+) sums of step minima moved 2-8% between them.
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

import { benchModelPath, convForm, decodedGraph, median, parseFlags, timeEachStep } from './harness.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

if (isMainThread) {
  const flags = parseFlags(import.meta.url, {
    '--models': 'resnet50',
    '--rounds': 15,
    '--batch': 1,
    '--addon': [],
    '--env': [],
    '--steps': String,
    '--thrash': 0,
    '--threads': 1,
  });
  const checkoutAddon = join(root, 'build', 'Release', 'convnode.node');
  const copies = mkdtempSync(join(tmpdir(), 'model-ab-'));
  const contenders = [
    { name: 'this checkout', addon: undefined, env: {} },
    ...flags['--addon'].map((addon) => ({ name: addon, addon, env: {} })),
    ...flags['--env'].map((text, i) => {
      const env = Object.fromEntries(text.split(',').map((kv) => kv.split('=')));
      const addon = join(copies, `env-${i}.node`);
      copyFileSync(checkoutAddon, addon);
      return { name: `this checkout, ${text}`, addon, env };
    }),
  ];
  for (const name of flags['--models'].split(',')) await compare(name, contenders, flags);
} else {
  await serve(workerData);
}

async function compare(name, contenders, flags) {
  const path = benchModelPath(import.meta.url, name);
  const { graph, nodeByName } = await decodedGraph(path);
  const workers = [];
  let steps;
  for (const c of contenders) {
    // The worker's JS reads CONVNODE_ADDON_PATH from its own process.env; the native switches
    // read the process environment, set here only while this contender loads and warms up.
    const saved = Object.fromEntries(Object.keys(c.env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, c.env);
    const env = { ...process.env };
    if (c.addon) env.CONVNODE_ADDON_PATH = c.addon;
    const worker = new Worker(new URL(import.meta.url), { workerData: { path, batch: flags['--batch'], thrashMb: flags['--thrash'], threads: flags['--threads'] }, env });
    steps = await ask(worker, 'load');
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    workers.push(worker);
  }
  const fastest = contenders.map(() => steps.map(() => Infinity));
  const cpu = contenders.map(() => []);
  for (let round = 0; round < flags['--rounds']; round++) {
    const order = contenders.map((_, i) => i);
    if (round % 2) order.reverse();
    for (const i of order) {
      const run = await ask(workers[i], 'run');
      run.steps.forEach((ms, s) => { fastest[i][s] = Math.min(fastest[i][s], ms); });
      cpu[i].push(run.cpuMs);
    }
  }
  await Promise.all(workers.map((w) => w.terminate()));

  const ratios = (values) => values.slice(1).map((v) => (v / values[0]).toFixed(3)).join(' ');
  const row = (label, values) => `  ${label.padEnd(46)} ${values.map((v) => v.toFixed(3).padStart(8)).join(' ')}   ${ratios(values)}`;
  console.log(`\n${name}, batch ${flags['--batch']}, ${flags['--threads']} thread(s), ${flags['--rounds']} rounds${flags['--thrash'] ? `, ${flags['--thrash']} MB written before each run` : ''}`);
  contenders.forEach((c, i) => console.log(`  [${i}] ${c.name}`));
  console.log(`  ${'ms (sum of per-step minima)'.padEnd(46)} ${contenders.map((_, i) => `[${i}]`.padStart(8)).join(' ')}   ratio to [0]`);
  const kinds = new Map();
  steps.forEach((step, s) => {
    const node = nodeByName.get(step.name);
    const kind = node?.opType === 'Conv' ? convForm(node, graph) : step.type;
    const sums = kinds.get(kind) ?? contenders.map(() => 0);
    fastest.forEach((f, i) => { sums[i] += f[s]; });
    kinds.set(kind, sums);
  });
  for (const [kind, sums] of [...kinds].sort((a, b) => b[1][0] - a[1][0])) console.log(row(kind, sums));
  console.log(row('all steps', fastest.map((f) => f.reduce((a, b) => a + b, 0))));
  console.log(row('whole run, process CPU ms (median)', cpu.map(median)));
  if (flags['--steps']) {
    const pattern = new RegExp(flags['--steps']);
    steps.forEach((step, s) => { if (pattern.test(step.name)) console.log(row(step.name.slice(-46), fastest.map((f) => f[s]))); });
  }
}

function ask(worker, message) {
  return new Promise((resolve, reject) => {
    const failed = (error) => reject(error);
    worker.once('error', failed);
    worker.once('message', (answer) => {
      worker.off('error', failed);
      resolve(answer);
    });
    worker.postMessage(message);
  });
}

/** A contender: loads the model on the native backend, then times one run per 'run' message. */
async function serve({ path, batch, thrashMb, threads }) {
  const convnode = await import(pathToFileURL(join(root, 'dist', 'index.js')).href);
  convnode.setNumThreads(threads);
  const model = await convnode.loadOnnx(path, { backend: 'native' });
  const shape = [batch, ...model.inputShapes[0].slice(1)];
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i));
  model.runSync({ [model.inputNames[0]]: new convnode.Tensor(shape, data) });
  const plan = [...model.plans.values()].find((p) => JSON.stringify(p.values[p.inputIds[0]].shape) === JSON.stringify(shape));
  const thrash = thrashMb > 0 ? new Float32Array(thrashMb * 262144) : null;
  const timedRun = () => timeEachStep(plan, data);
  parentPort.on('message', (message) => {
    if (message === 'load') {
      for (let i = 0; i < 2; i++) timedRun();
      parentPort.postMessage(plan.steps.map((step) => ({ name: step.op.name, type: step.op.type })));
      return;
    }
    if (thrash) for (let i = 0; i < thrash.length; i += 16) thrash[i] += 1;
    const before = process.cpuUsage();
    const stepsMs = timedRun();
    const used = process.cpuUsage(before);
    parentPort.postMessage({ steps: stepsMs, cpuMs: (used.user + used.system) / 1000 });
  });
}
