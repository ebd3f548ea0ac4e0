#!/usr/bin/env node
// How much of a model's run the thread pool can share out, measured in CPU time, so the figure
// holds on a loaded machine where wall-clock speed-ups are noise (issue 13: 2 threads vs 1 at
// batch 8). Each model runs in a child process at `--threads` (default 2) with the pool counting
// the CPU time of the jobs it shares (two or more tasks: native/runtime/thread_pool.h,
// countSharedWork); the rest of the 1-thread run's CPU time (ops run whole on the calling thread,
// JS between native calls, single-task jobs) is serial. With T idle cores the run would take
// serial + shared / T, so the speed-up Amdahl allows is work / (serial + shared / T): an upper
// bound (wake-ups, memory bandwidth and tasks of unequal size come on top). The CPU per run at
// 1 and T threads is printed too: what the split itself costs.
//
//   node bench/thread-share.mjs [--models a,b] [--threads 2] [--batch 8] [--runs 10] [--dir bench/.models/zoo]
//                               [--wake run] [--min-split-us N]
//
// The work is the 1-thread run's CPU time (the T-thread run's holds the pool's polling, which is
// not work); serial = work - shared. --wake sets CONVNODE_POOL_WAKE for the children ('run' polls whatever the load, so on a
// loaded machine the jobs split as they would on a quiet one, where the grain rule's threshold is
// the polling 10 us, not the sleeping 60 us); --min-split-us sets CONVNODE_MIN_SPLIT_US.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativeAddon, nativeModel, parseFlags, runChild } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);

async function child(path, threads, batch, runs) {
  const { model, feeds } = await nativeModel(path, threads, batch);
  await model.run(feeds);
  const addon = nativeAddon();
  addon.countSharedWork(true);
  const spin0 = addon.poolWaitCounters().spinMs;
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < runs; i++) await model.run(feeds);
  const cpu = process.cpuUsage(cpu0);
  const spinMs = addon.poolWaitCounters().spinMs - spin0;
  const shared = addon.sharedWork();
  addon.countSharedWork(false);
  const total = (cpu.user + cpu.system) / 1000;
  console.log(JSON.stringify({
    cpuMsPerRun: total / runs, sharedMsPerRun: shared.cpuMs / runs, jobsPerRun: shared.jobs / runs, spinMsPerRun: spinMs / runs,
  }));
}

if (args[0] === '--child') {
  await child(args[1], Number(args[2]), Number(args[3]), Number(args[4]));
} else {
  const flags = parseFlags(import.meta.url, {
    '--dir': join(here, '.models', 'zoo'), '--models': 'resnet18,resnet50,mobilenet_v2', '--threads': 2, '--batch': 8, '--runs': 10,
    '--wake': '', '--min-split-us': '',
  });
  const childEnv = { ...process.env };
  if (flags['--wake']) childEnv.CONVNODE_POOL_WAKE = flags['--wake'];
  if (flags['--min-split-us'] !== '') childEnv.CONVNODE_MIN_SPLIT_US = String(flags['--min-split-us']);
  const dir = flags['--dir'];
  const models = flags['--models'].split(',');
  const { '--threads': threads, '--batch': batch, '--runs': runs } = flags;
  const measure = (path, t) => runChild(import.meta.url, ['--child', path, t, batch, runs], childEnv);
  console.log(`batch ${batch}, ${threads} threads vs 1, ${runs} runs; CPU ms per run`);
  const speedups = [];
  for (const name of models) {
    const path = join(dir, `${name}.onnx`);
    const one = measure(path, 1);
    const many = measure(path, threads);
    // The work is the 1-thread run's CPU time: the T-thread run's includes the pool's polling
    // (workers between jobs, callers at joins), which is not work.
    const work = one.cpuMsPerRun;
    const serial = Math.max(0, work - many.sharedMsPerRun);
    const speedup = work / (serial + many.sharedMsPerRun / threads);
    speedups.push(speedup);
    console.log(
      `${name}: ${many.cpuMsPerRun.toFixed(1)} ms (polling ${many.spinMsPerRun.toFixed(1)} ms wall), of it shared ${many.sharedMsPerRun.toFixed(1)} ` +
        `in ${many.jobsPerRun.toFixed(0)} jobs: serial ${((100 * serial) / work).toFixed(1)}% of the 1-thread CPU, Amdahl bound ${speedup.toFixed(2)}x; ` +
        `CPU at 1 thread ${one.cpuMsPerRun.toFixed(1)} ms (${threads} threads: ${(many.cpuMsPerRun / one.cpuMsPerRun).toFixed(2)}x)`,
    );
  }
  const geomean = Math.exp(speedups.reduce((s, x) => s + Math.log(x), 0) / speedups.length);
  console.log(`geometric mean of the ideal speed-ups: ${geomean.toFixed(2)}x`);
}
