#!/usr/bin/env node
// What a model's run asks of the thread pool, counted (issues 11-13: the second thread). Each model
// runs in a child process per (--threads, --wake) cell with the pool recording every parallel_for
// (native/runtime/thread_pool.h, tracePoolJobs): per inference, how many jobs, how many of them
// split (two or more tasks on two or more threads), their tasks, the smallest ones' work (the CPU
// time their tasks took, summed over threads: at 1 thread that is the job's whole cost), how long
// after the job was posted a pool worker started its first task (the wake-up), and how long the
// caller waited for the workers' last tasks (the join). Counts and CPU times hold on a loaded
// machine; the latencies are what the load makes them (the load average is printed).
// Per call site (resolved with nm from the addon binary): jobs per run, tasks, work, and how long
// the cut of split jobs forces the other threads to idle (uneven tasks: each job's span if T threads
// had claimed its tasks in order, from their measured CPU times), and the work of jobs kept whole
// at T threads. With a 1-thread cell beside a T-thread one, the ceiling of the T-thread speed-up:
// 1-thread CPU / (serial + the split jobs' spans as cut), load-independent; and the same with the
// busiest thread's CPU as this run's threads actually shared the tasks (wake-ups, load).
//
//   node bench/pool-jobs.mjs [--models a,b] [--threads 1,2] [--batch 1] [--runs 20]
//                            [--wake adaptive,sleep] [--rounds 1] [--sites 12] [--dir bench/.models/zoo] [--json out.json]
//   node bench/pool-jobs.mjs --probe [--wake adaptive,sleep] [--runs 40]
//
// --wake sets CONVNODE_POOL_WAKE for the child (adaptive: the default, workers poll between a
// run's jobs unless the machine is oversubscribed; run: poll between a run's jobs whatever the
// load; sleep: they sleep after each job, the policy before session 6); 'spin=N' sets
// CONVNODE_SPIN_US=N instead; 'addon:PATH' runs another build (CONVNODE_ADDON_PATH, e.g. main's,
// with its own defaults; one without the trace gives times only). --rounds N > 1 runs each cell N times, the policies alternating, and
// prints the median wall and CPU ms per run with the ratios to the first policy (the A/B: on a
// quiet machine, `--threads 2 --wake sleep,adaptive --rounds 7`). --probe times the wake-up alone, at 2 threads: a 1M-float ReLU (one
// split job, ~150 us) 3 ms after the last, called on the JS thread (no run: the worker is asleep)
// and as an async call (a run of its own, whose start wakes the worker), --runs times each.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativeAddon, nativeModel, parseFlags, runChild } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const args = process.argv.slice(2);
// The parent's flags (the --child / --probe-child forms are this script calling itself).
const parentFlags = () => parseFlags(import.meta.url, {
  '--probe': false, '--runs': String, '--wake': String, '--dir': join(here, '.models', 'zoo'),
  '--models': 'mobilenet_v3_large,mobilenet_v2,resnet50,lraspp_mobilenet_v3_large', '--threads': '1,2', '--batch': 1,
  '--sites': 12, '--json': String, '--rounds': 1,
});
const FIELDS = ['site', 'tasks', 'threads', 'helperTasks', 'pollingWorkers', 'postNs', 'firstHelperNs', 'callerDoneNs',
  'endNs', 'callerCpuNs', 'callerTaskCpuNs', 'helperTaskCpuNs', 'idealSpanNs'];

const quantile = (xs, q) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const us = (ns) => (Number.isFinite(ns) ? (ns / 1000).toFixed(1) : '-');

async function child(path, threads, batch, runs, trace) {
  const { model, feeds } = await nativeModel(path, threads, batch);
  for (let i = 0; i < 3; i++) await model.run(feeds);
  const addon = nativeAddon();
  // Another build (an 'addon:PATH' variant) may predate the trace: then only the times count.
  const traced = typeof addon.tracePoolJobs === 'function';
  const none = { pollsFound: 0, pollsTimedOut: 0, pollsPreempted: 0, sleeps: 0, joinsSlept: 0, spinMs: 0, runsPolled: 0, runsQuiet: 0 };
  const waits0 = traced ? addon.poolWaitCounters() : none;
  // Timed runs first, untraced (the trace's clock reads cost ~1% of a small model's run).
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) await model.run(feeds);
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6 / runs;
  const cpu = process.cpuUsage(cpu0);
  if (traced && trace) {
    addon.tracePoolJobs(true);
    for (let i = 0; i < runs; i++) await model.run(feeds);
    addon.tracePoolJobs(false);
  }
  const waits = traced ? addon.poolWaitCounters() : none;
  const flat = traced ? addon.poolJobs() : [];
  const jobs = [];
  for (let i = 0; i < flat.length; i += FIELDS.length) {
    jobs.push(Object.fromEntries(FIELDS.map((f, k) => [f, flat[i + k]])));
  }
  // (Over the timed and the traced runs: twice `runs` when tracing.)
  const delta = Object.fromEntries(Object.entries(waits).map(([k, v]) => [k, typeof v === 'number' ? (v - waits0[k]) / (traced && trace ? 2 : 1) : v]));
  console.log(JSON.stringify({ jobs, runs, cpuMsPerRun: (cpu.user + cpu.system) / 1000 / runs, wallMsPerRun: wallMs, waits: delta }));
}

/** Names call sites: each site is an offset from convnode::ThreadPool::instance(); nm gives both. */
function siteNamer() {
  const binary = join(root, 'build', 'Release', 'convnode.node');
  let symbols = [];
  let base = null;
  try {
    const out = execFileSync('nm', ['-C', '--defined-only', binary], { encoding: 'utf8', maxBuffer: 256 << 20 });
    for (const line of out.split('\n')) {
      const m = /^([0-9a-f]+) [tTwW] (.*)$/.exec(line);
      if (!m) continue;
      const addr = parseInt(m[1], 16);
      symbols.push([addr, m[2]]);
      if (m[2] === 'convnode::ThreadPool::instance()') base = addr;
    }
  } catch {
    symbols = [];
  }
  symbols.sort((a, b) => a[0] - b[0]);
  const short = (name) => name.replace(/\(.*$/s, '').replace(/^convnode::/, '').replace(/\{lambda.*$/, 'lambda');
  return (offset) => {
    if (base === null || symbols.length === 0) return `site ${offset}`;
    const addr = base + offset - 1;
    let lo = 0;
    let hi = symbols.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (symbols[mid][0] <= addr) lo = mid;
      else hi = mid - 1;
    }
    return short(symbols[lo][1]);
  };
}

function summarize(name, cell, result, nameSite, siteCount) {
  const { jobs, runs } = result;
  const split = jobs.filter((j) => j.tasks >= 2 && j.threads >= 2);
  const work = (j) => j.callerTaskCpuNs + j.helperTaskCpuNs;
  const helped = split.filter((j) => j.firstHelperNs > 0);
  const wake = helped.map((j) => j.firstHelperNs - j.postNs);
  const join = split.map((j) => j.endNs - j.callerDoneNs);
  const splitWork = split.map(work);
  const allWork = jobs.map(work);
  // The busiest thread of a split job: its tasks' CPU on the caller or on the helpers (summed over
  // helpers, shared by threads - 1). Beside the job's whole work it says how long the other
  // thread idled at the join (uneven tasks, a late wake-up).
  const busiest = (j) => Math.max(j.callerTaskCpuNs, j.helperTaskCpuNs / Math.max(1, j.threads - 1));
  const line = {
    model: name, ...cell,
    jobsPerRun: jobs.length / runs,
    splitPerRun: split.length / runs,
    tasksP50: quantile(split.map((j) => j.tasks), 0.5),
    splitUnder10us: split.filter((j) => work(j) < 10e3).length / runs,
    splitUnder50us: split.filter((j) => work(j) < 50e3).length / runs,
    workP10us: quantile(splitWork.length ? splitWork : allWork, 0.1) / 1000,
    workP50us: quantile(splitWork.length ? splitWork : allWork, 0.5) / 1000,
    noHelperShare: split.length ? 1 - helped.length / split.length : NaN,
    wakeP10us: quantile(wake, 0.1) / 1000,
    wakeP50us: quantile(wake, 0.5) / 1000,
    wakeP90us: quantile(wake, 0.9) / 1000,
    joinP50us: quantile(join, 0.5) / 1000,
    joinP90us: quantile(join, 0.9) / 1000,
    splitWorkMs: splitWork.reduce((a, b) => a + b, 0) / runs / 1e6,
    splitBusiestMs: split.map(busiest).reduce((a, b) => a + b, 0) / runs / 1e6,
    splitIdealMs: split.map((j) => j.idealSpanNs).reduce((a, b) => a + b, 0) / runs / 1e6,
    cpuMsPerRun: result.cpuMsPerRun,
    wallMsPerRun: result.wallMsPerRun,
    waits: result.waits,
  };
  console.log(
    `${name} ${cell.threads}t ${cell.wake}: ${line.jobsPerRun.toFixed(0)} jobs/run, ${line.splitPerRun.toFixed(0)} split ` +
      `(tasks p50 ${line.tasksP50}; ${line.splitUnder10us.toFixed(0)} under 10 us of work, ${line.splitUnder50us.toFixed(0)} under 50 us; ` +
      `work p10 ${line.workP10us.toFixed(1)} p50 ${line.workP50us.toFixed(1)} us); ` +
      `wake p10/p50/p90 ${line.wakeP10us.toFixed(1)}/${line.wakeP50us.toFixed(1)}/${line.wakeP90us.toFixed(1)} us, ` +
      `no helper in ${(100 * line.noHelperShare).toFixed(0)}%; join p50/p90 ${line.joinP50us.toFixed(1)}/${line.joinP90us.toFixed(1)} us; ` +
      `CPU ${line.cpuMsPerRun.toFixed(2)} ms/run, wall ${line.wallMsPerRun.toFixed(2)}; ` +
      `polls found ${(result.waits.pollsFound / runs).toFixed(0)}/run, timed out ${(result.waits.pollsTimedOut / runs).toFixed(1)}, ` +
      `preempted ${(result.waits.pollsPreempted / runs).toFixed(1)}, sleeps ${(result.waits.sleeps / runs).toFixed(0)}, ` +
      `joins slept ${(result.waits.joinsSlept / runs).toFixed(0)}, spin ${(result.waits.spinMs / runs).toFixed(2)} ms/run; ` +
      `runs polled ${result.waits.runsPolled}, found oversubscribed ${result.waits.runsQuiet}`,
  );
  if (siteCount > 0) {
    const bySite = new Map();
    for (const j of jobs) {
      const key = nameSite(j.site);
      const s = bySite.get(key) ?? { jobs: 0, split: 0, work: [], tasks: [], idle: 0, whole: 0 };
      s.jobs++;
      if (j.tasks >= 2 && j.threads >= 2) {
        s.split++;
        s.idle += j.threads * j.idealSpanNs - work(j);
      } else if (cell.threads > 1) {
        s.whole += work(j);
      }
      s.work.push(work(j));
      s.tasks.push(j.tasks);
      bySite.set(key, s);
    }
    const rows = [...bySite.entries()].sort((a, b) => b[1].jobs - a[1].jobs).slice(0, siteCount);
    for (const [site, s] of rows) {
      const total = s.work.reduce((a, b) => a + b, 0);
      console.log(
        `    ${site}: ${(s.jobs / runs).toFixed(1)} jobs/run (${(s.split / runs).toFixed(1)} split), tasks p50 ${quantile(s.tasks, 0.5)}, ` +
          `work min ${us(Math.min(...s.work))} p50 ${us(quantile(s.work, 0.5))} us, ${(total / runs / 1e6).toFixed(3)} ms/run` +
          (s.split > 0 ? `, idle the cut forces ${(s.idle / runs / 1e6).toFixed(3)} ms/run` : '') +
          (s.whole > 0 ? `, kept whole ${(s.whole / runs / 1e6).toFixed(3)} ms/run` : ''),
      );
    }
    line.sites = Object.fromEntries(rows.map(([site, s]) => [site, { jobsPerRun: s.jobs / runs, splitPerRun: s.split / runs, workP50us: quantile(s.work, 0.5) / 1000 }]));
  }
  return line;
}

async function probeChild(runs) {
  const addon = nativeAddon();
  addon.setNumThreads(2);
  const n = 1 << 20;
  const input = new Float32Array(n).map((_, i) => Math.sin(i));
  const output = new Float32Array(n);
  const relu = { activation: 'relu', alpha: 0, beta: 0, min: 0, max: 0 };
  const pause = () => new Promise((resolve) => setTimeout(resolve, 3));
  const wakes = {};
  for (const mode of ['sync', 'async']) {
    for (let i = 0; i < 3; i++) addon.unarySync(input, output, relu);
    addon.tracePoolJobs(true);
    for (let i = 0; i < runs; i++) {
      await pause();
      if (mode === 'sync') addon.unarySync(input, output, relu);
      else await addon.unary(input, output, relu);
    }
    addon.tracePoolJobs(false);
    const flat = addon.poolJobs();
    const list = [];
    let missed = 0;
    for (let i = 0; i < flat.length; i += FIELDS.length) {
      const j = Object.fromEntries(FIELDS.map((f, k) => [f, flat[i + k]]));
      if (j.tasks < 2) continue;
      if (j.firstHelperNs > 0) list.push(j.firstHelperNs - j.postNs);
      else missed++;
    }
    wakes[mode] = { p10: quantile(list, 0.1), p50: quantile(list, 0.5), p90: quantile(list, 0.9), missed, jobs: list.length + missed };
  }
  console.log(JSON.stringify(wakes));
}

let flags;
if (args[0] === '--probe-child') {
  await probeChild(Number(args[1]));
} else if (args[0] === '--child') {
  await child(args[1], Number(args[2]), Number(args[3]), Number(args[4]), args[5] !== '0');
} else if ((flags = parentFlags())['--probe']) {
  const runs = Number(flags['--runs'] ?? 40);
  console.log(`${os.cpus()[0]?.model ?? 'unknown CPU'}; wake-up of a pool worker, 2 threads; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  for (const wake of (flags['--wake'] ?? 'adaptive,sleep').split(',')) {
    const env = { ...process.env };
    delete env.CONVNODE_SPIN_US;
    delete env.CONVNODE_POOL_WAKE;
    if (wake.startsWith('spin=')) env.CONVNODE_SPIN_US = wake.slice(5);
    else env.CONVNODE_POOL_WAKE = wake;
    const w = runChild(import.meta.url, ['--probe-child', runs], env);
    for (const mode of ['sync', 'async']) {
      const m = w[mode];
      console.log(`${wake}, ${mode === 'sync' ? 'JS-thread call (no run)' : 'async call (a run)'}: post -> first worker task p10/p50/p90 ` +
        `${us(m.p10)}/${us(m.p50)}/${us(m.p90)} us; the caller took every task in ${m.missed} of ${m.jobs} jobs`);
    }
  }
} else {
  const dir = flags['--dir'];
  const models = flags['--models'].split(',');
  const threadList = String(flags['--threads']).split(',').map(Number);
  const wakes = (flags['--wake'] ?? 'run,sleep').split(',');
  const batch = flags['--batch'];
  const runs = Number(flags['--runs'] ?? 20);
  const siteCount = flags['--sites'];
  const jsonPath = flags['--json'] ?? null;
  const nameSite = siteNamer();
  console.log(`${os.cpus()[0]?.model ?? 'unknown CPU'}; batch ${batch}, ${runs} runs per cell; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const rounds = flags['--rounds'];
  const lines = [];
  const timing = [];
  for (const name of models) {
    for (const threads of threadList) {
      const cells = threads === 1 ? [wakes[0]] : wakes;
      const perCell = new Map(cells.map((w) => [w, []]));
      // Rounds alternate the policies, each in a fresh process, so they share the machine's load.
      for (let round = 0; round < rounds; round++) {
        for (const wake of cells) {
          const env = { ...process.env };
          delete env.CONVNODE_SPIN_US;
          delete env.CONVNODE_POOL_WAKE;
          delete env.CONVNODE_ADDON_PATH;
          if (wake.startsWith('spin=')) env.CONVNODE_SPIN_US = wake.slice(5);
          else if (wake.startsWith('addon:')) env.CONVNODE_ADDON_PATH = wake.slice(6);
          else env.CONVNODE_POOL_WAKE = wake;
          const result = runChild(import.meta.url, ['--child', join(dir, `${name}.onnx`), threads, batch, runs, round === 0 ? '1' : '0'], env);
          perCell.get(wake).push(result);
          if (round === 0) lines.push(summarize(name, { threads, wake, batch }, result, nameSite, threads === 1 ? siteCount : Math.min(siteCount, 6)));
        }
      }
      if (rounds > 1) {
        const base = cells[0];
        const med = (wake, key) => quantile(perCell.get(wake).map((r) => r[key]), 0.5);
        for (const wake of cells) {
          const row = { model: name, threads, wake, wallMs: med(wake, 'wallMsPerRun'), cpuMs: med(wake, 'cpuMsPerRun') };
          timing.push(row);
          console.log(
            `  ${name} ${threads}t ${wake}: median of ${rounds} rounds wall ${row.wallMs.toFixed(2)} ms/run, CPU ${row.cpuMs.toFixed(2)} ms/run` +
              (wake === base ? '' : ` (vs ${base}: wall ${(row.wallMs / med(base, 'wallMsPerRun')).toFixed(2)}x, CPU ${(row.cpuMs / med(base, 'cpuMsPerRun')).toFixed(2)}x)`),
          );
        }
      }
    }
    // The ceiling of the speed-up at T threads: the 1-thread CPU over the busiest thread's path at T
    // (the serial part, i.e. the 1-thread CPU less what the T-thread run split, plus each split
    // job's busiest thread). CPU times, so it holds under load; wake-ups and bandwidth come on top.
    const one = lines.find((l) => l.model === name && l.threads === 1);
    for (const many of lines.filter((l) => l.model === name && l.threads > 1)) {
      if (!one) break;
      const serial = Math.max(0, one.cpuMsPerRun - many.splitWorkMs);
      const path = serial + many.splitIdealMs;
      const seen = serial + many.splitBusiestMs;
      console.log(
        `  ${name} ceiling at ${many.threads}t: 1-thread CPU ${one.cpuMsPerRun.toFixed(2)} ms / busiest path ${path.toFixed(2)} ms ` +
          `(serial ${serial.toFixed(2)} + split jobs' span as cut ${many.splitIdealMs.toFixed(2)} of their ${many.splitWorkMs.toFixed(2)} work) = ` +
          `${(one.cpuMsPerRun / path).toFixed(2)}x; as this run's threads ran them (wake-ups, load) ${(one.cpuMsPerRun / seen).toFixed(2)}x`,
      );
      many.ceiling = one.cpuMsPerRun / path;
      many.ceilingSeen = one.cpuMsPerRun / seen;
    }
  }
  console.log(`load average at the end ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  if (jsonPath) writeFileSync(jsonPath, JSON.stringify({ lines, timing }, null, 2));
}
