#!/usr/bin/env node
// Image-parallel runs (CONVNODE_IMAGE_PARALLEL, native/napi/image_runs.h) against op-parallel
// runs, whole models at one batch (issue 13: the second thread at batch 8). Per model, in ONE
// process, round after round in turn (odd rounds reversed), medians of wall and process CPU time
// (all threads) of each way to run a batch of B images:
//   op-split Tt      every op split over the pool's T threads (CONVNODE_IMAGE_PARALLEL=0)
//   images Tt        image-parallel, one image per sub-batch (the default)
//   share Tt         image-parallel, B / T images per sub-batch (=share)
//   whole 1t         one batch-B run on one thread
//   slices 1t xK     one thread, the batch as K model.run calls of B/K images one after another
//                    (is a smaller batch faster per image because its activations stay in cache?)
// Per way: wall and CPU ms, 1t wall / its wall (the thread speed-up), its CPU / 1t CPU (the work
// it adds), from one more traced run the pool jobs that were split (where the threads meet) and
// the load-independent ceiling of its speed-up (1t CPU / the run's CPU with each split job
// counted at its ideal span; "balanced": each split job's task CPU divided evenly over its
// threads), and the pool's joins slept and worker sleeps per run. Timings on the 2-core VM are
// noisy: the load average is printed; CPU-time ratios hold under load, wall ratios do not.
// --check only compares every way's outputs with the whole 1t run's (max |diff| / max |out|).
//
//   node bench/image-parallel.mjs [--models resnet50,mobilenet_v2] [--batch 8] [--threads 2]
//                                 [--rounds 5] [--check]
import os from 'node:os';
import { benchModelPath, loadConvnode, median, nativeAddon, parseFlags, randomInput, scaledDifference } from './harness.mjs';
import { describeCpu } from './zoo-env.mjs';

const flags = parseFlags(import.meta.url, {
  '--models': 'resnet50,inception_v3,googlenet,mnasnet1_0,resnext50_32x4d,mobilenet_v2',
  '--batch': 8, '--threads': 2, '--rounds': 5, '--check': false,
});
const batch = flags['--batch'];
const threads = flags['--threads'];
const rounds = flags['--rounds'];
const convnode = await loadConvnode();
const { native } = convnode;
const addon = nativeAddon();
if (!addon.setImageRunsMode) throw new Error('bench/image-parallel.mjs: this addon has no image-parallel runs (rebuild: node scripts/build-native.mjs)');

/** The batch's images [from, to) as a tensor of their own (a copy). */
function slice(data, shape, from, to) {
  const per = data.length / shape[0];
  return new convnode.Tensor([to - from, ...shape.slice(1)], data.slice(from * per, to * per));
}

/** K runs of B/K images one after another; returns the outputs joined. */
async function sequential(model, name, data, shape, k) {
  const step = batch / k;
  const parts = [];
  for (let i = 0; i < batch; i += step) parts.push((await model.run({ [name]: slice(data, shape, i, i + step) }))[model.outputNames[0]].data);
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

async function benchModel(modelName) {
  const model = await convnode.loadOnnx(benchModelPath(import.meta.url, modelName), { backend: 'native' });
  const name = model.inputNames[0];
  const shape = [batch, ...model.inputShapes[0].slice(1).map((d) => (typeof d === 'number' ? d : 224))];
  const data = randomInput(shape.reduce((a, b) => a * b), 7);
  const feeds = { [name]: new convnode.Tensor(shape, data) };
  const whole = async () => (await model.run(feeds))[model.outputNames[0]].data;
  const ways = [
    { label: `op-split ${threads}t`, threads, mode: 0, run: whole },
    { label: `images ${threads}t`, threads, mode: 1, run: whole },
    { label: `share ${threads}t`, threads, mode: 2, run: whole },
    { label: 'whole 1t', threads: 1, mode: 0, run: whole },
    ...[batch, 2].filter((k, i, a) => k > 1 && batch % k === 0 && a.indexOf(k) === i)
      .map((k) => ({ label: `slices 1t x${k}`, threads: 1, mode: 0, run: () => sequential(model, name, data, shape, k) })),
  ];
  const base = ways.findIndex((w) => w.label === 'whole 1t');
  const use = (way) => {
    native.setNumThreads(way.threads);
    addon.setImageRunsMode(way.mode);
  };
  use(ways[base]);
  const reference = await ways[base].run();
  const diffs = [];
  for (const way of ways) {
    use(way);
    const out = await way.run();
    diffs.push(scaledDifference(out, reference));
  }
  console.log(`\n${modelName} batch ${batch} (load ${os.loadavg()[0].toFixed(1)})`);
  if (flags['--check']) {
    ways.forEach((w, i) => console.log(`  ${w.label.padEnd(16)} max|diff|/max|out| vs whole 1t ${diffs[i].toExponential(1)}`));
    return;
  }
  const wall = ways.map(() => []);
  const cpu = ways.map(() => []);
  const joins = ways.map(() => []);
  const sleeps = ways.map(() => []);
  for (let round = -1; round < rounds; round++) {
    const order = ways.map((_, i) => i);
    if (round % 2) order.reverse();
    for (const i of order) {
      use(ways[i]);
      await ways[i].run();  // settles the pool (its workers just started) and the caches
      const w0 = addon.poolWaitCounters();
      const c = process.cpuUsage();
      const t = performance.now();
      await ways[i].run();
      const used = process.cpuUsage(c);
      const ms = performance.now() - t;
      const w1 = addon.poolWaitCounters();
      if (round < 0) continue;
      wall[i].push(ms);
      cpu[i].push((used.user + used.system) / 1000);
      joins[i].push(w1.joinsSlept - w0.joinsSlept);
      sleeps[i].push(w1.sleeps - w0.sleeps);
    }
  }
  // One traced run per way: its pool jobs that were split (the threads met), and the speed-up
  // its cut allows whatever the load (ThreadPool::JobTrace.ideal_span_ns: each split job as if
  // its tasks, at the CPU time they took, were claimed in order by free threads; the run's other
  // CPU time serial). For image runs the one split job's tasks are the threads' shares.
  const traced = [];
  for (const way of ways) {
    use(way);
    await way.run();
    addon.tracePoolJobs(true);
    const c = process.cpuUsage();
    await way.run();
    const used = process.cpuUsage(c);
    const fields = addon.poolJobs();
    addon.tracePoolJobs(false);
    let split = 0;
    let taskNs = 0;
    let spanNs = 0;
    let balancedNs = 0;
    for (let at = 0; at < fields.length; at += 13) {
      const [tasks, jobThreads] = [fields[at + 1], fields[at + 2]];
      if (!(jobThreads > 1 && tasks > 1)) continue;
      split++;
      const cpu = fields[at + 10] + fields[at + 11];
      taskNs += cpu;
      spanNs += fields[at + 12];
      balancedNs += cpu / Math.min(jobThreads, tasks);
    }
    const runMs = (used.user + used.system) / 1000;
    traced.push({ split, spanMs: runMs - taskNs / 1e6 + spanNs / 1e6, balancedMs: runMs - taskNs / 1e6 + balancedNs / 1e6 });
  }
  const oneThreadCpu = median(cpu[base]);
  ways.forEach((w, i) => {
    const mw = median(wall[i]);
    const mc = median(cpu[i]);
    console.log(`  ${w.label.padEnd(16)} wall ${mw.toFixed(1).padStart(8)} ms (1t/this ${(median(wall[base]) / mw).toFixed(2)}x)` +
      `  CPU ${mc.toFixed(1).padStart(8)} ms (this/1t ${(mc / median(cpu[base])).toFixed(2)}x)` +
      `  split jobs ${traced[i].split}, ceiling ${(oneThreadCpu / traced[i].spanMs).toFixed(2)}x (balanced ${(oneThreadCpu / traced[i].balancedMs).toFixed(2)}x)` +
      `  joins slept ${median(joins[i])}, worker sleeps ${median(sleeps[i])}, max|diff|/max|out| ${diffs[i].toExponential(1)}`);
  });
}

console.log(`CPU: ${describeCpu()}; batch ${batch}, ${threads} threads, ${rounds} rounds`);
for (const m of flags['--models'].split(',')) await benchModel(m);
addon.setImageRunsMode(-1);
