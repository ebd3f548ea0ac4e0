#!/usr/bin/env node
// The model zoo benchmark (`npm run bench -- zoo`): the torchvision classification zoo at full
// width with random weights, convnode (native backend) against onnxruntime-node in one
// process, on the same input, the two timed in alternating order round after round, medians
// reported. Per model and (threads, batch): both times, the ratio convnode / onnxruntime, the
// top-1 agreement and max |difference| / max |onnxruntime output|; per (threads, batch) the
// geometric mean of the ratios. A model convnode cannot load or run is reported with its error.
//
// The models are exported on first use by scripts/onnx-fixtures/export_zoo_models.py (Debian's
// python3-torch, python3-torchvision, python3-onnx) into bench/.models/zoo/ (git-ignored).
// Needs `npm run build` first (reads dist/).
//
//   node bench/zoo.mjs [--models a,b] [--threads 1,2] [--batches 1,8] [--rounds N] [--repeat N]
//                      [--goal R] [--isa avx2|scalar|...] [--ort-spinning 1|0] [--json out.json]
//                      [--dir models/]
//
// --rounds: timed rounds per cell at batch 1 (default 7); batch > 1 runs half as many, at least
// 3. --repeat N: the whole run N times, each time the models in a fresh order (a shuffle seeded
// by the repeat's number, never the previous run's order; printed), every model loaded again; at the end, per cell, the median
// ratio over the N runs with its min-max spread (bench/zoo-summary.mjs's table), since one cell
// moves by +-0.2x between runs on this VM. --goal R lists the models whose median is above R.
// --isa forces convnode's instruction set (setIsa, before the models are loaded), to compare
// tiers in separate runs. --dir reads (and exports into) another folder than bench/.models/zoo/.
// onnxruntime's pool threads do not spin between runs unless
// --ort-spinning 1 (see bench/models.mjs: spinning steals the second core from convnode's run).
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as ort from 'onnxruntime-node';
import { median, ortSession, parseFlags, positiveIntegers, randomInput, timeInTurn } from './harness.mjs';
import { formatRunsSummary } from './zoo-summary.mjs';
import { describeCpu, describeOrtIsa, avx512Subsets } from './zoo-env.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const ZOO_DIR = join(here, '.models', 'zoo');

/** The fourteen, then the three bench/models.mjs already had. */
export const CLASSIC_MODELS = [
  'efficientnet_b0', 'efficientnet_v2_s', 'mobilenet_v3_small', 'mobilenet_v3_large', 'mnasnet1_0',
  'densenet121', 'googlenet', 'inception_v3', 'regnet_x_400mf', 'regnet_y_400mf', 'resnext50_32x4d',
  'shufflenet_v2_x0_5', 'alexnet', 'resnet50', 'resnet18', 'mobilenet_v2', 'shufflenet_v2_x1_0',
];

/**
 * Issue 12's modern CNN, transformers and segmentation models (opset 17 where they use
 * LayerNormalization; the segmentation models at 224x224, their 'out' map only). Goals: ConvNeXt
 * and segmentation within 1.3x of onnxruntime, transformers within 2x. Their top-1 column means
 * little (an argmax over a whole segmentation map); max|diff|/max|out| is the check.
 */
export const MODERN_MODELS = [
  'convnext_tiny', 'swin_t', 'vit_b_16', 'lraspp_mobilenet_v3_large', 'deeplabv3_mobilenet_v3_large', 'fcn_resnet50',
];

export const ZOO_MODELS = [...CLASSIC_MODELS, ...MODERN_MODELS];

const geometricMean = (xs) => Math.exp(xs.reduce((sum, x) => sum + Math.log(x), 0) / xs.length);

/** Exports the models that are missing; returns name -> export error for those that failed. */
export function ensureZooModels(names, dir = ZOO_DIR) {
  const missing = names.filter((n) => !existsSync(join(dir, `${n}.onnx`)));
  const failures = new Map();
  if (!missing.length) return failures;
  const script = join(root, 'scripts', 'onnx-fixtures', 'export_zoo_models.py');
  console.log(`exporting ${missing.join(', ')} with ${script} (once; cached in ${dir}) ...`);
  const result = spawnSync('/usr/bin/python3', [script, '--out', dir, ...missing], { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  for (const name of missing) {
    if (existsSync(join(dir, `${name}.onnx`))) continue;
    const line = (result.stderr ?? '').split('\n').find((l) => l.startsWith(`${name}: export failed`));
    failures.set(name, line ?? `not exported (needs /usr/bin/python3 with torch, torchvision and onnx): ${String(result.stderr ?? result.error).slice(-300)}`);
  }
  return failures;
}

async function loadConvnode() {
  if (!existsSync(join(root, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  return import(pathToFileURL(join(root, 'dist', 'index.js')).href);
}

/** max |ours - theirs| / max |theirs| over the whole output, and how many images agree on the top-1 class. */
export function compareOutputs(ours, theirs, batch) {
  let worst = 0;
  let range = 0;
  for (let i = 0; i < theirs.length; i++) {
    worst = Math.max(worst, Math.abs(ours[i] - theirs[i]));
    range = Math.max(range, Math.abs(theirs[i]));
  }
  const classes = theirs.length / batch;
  const argmax = (data, image) => {
    let best = image * classes;
    for (let i = best + 1; i < (image + 1) * classes; i++) if (data[i] > data[best]) best = i;
    return best;
  };
  let agree = 0;
  for (let n = 0; n < batch; n++) if (argmax(ours, n) === argmax(theirs, n)) agree++;
  return { scaledDiff: range === 0 ? worst : worst / range, top1Agree: agree, maxOutput: range };
}

/**
 * Both runtimes through harness.mjs's timeInTurn: two warm-up runs each, then `rounds` rounds,
 * odd rounds onnxruntime first. Each run is timed twice: wall time, and the CPU time the whole
 * process used meanwhile (all threads, user + system). Only the runtime being timed works then
 * (neither thread pool spins when idle: convnode's workers sleep 100 us after a run's end,
 * onnxruntime's spinning is off unless --ort-spinning 1), so CPU time is that runtime's work. On
 * a shared machine it is the steadier figure: a run that loses its core to another process waits
 * longer but does not compute more. With 2 threads it sums both threads' work, so it is a work
 * ratio, not latency.
 */
async function timeInterleaved(runOurs, runTheirs, rounds) {
  const { wall, cpu } = await timeInTurn([runOurs, runTheirs], rounds);
  return { oursMs: wall[0], theirsMs: wall[1], oursCpuMs: cpu[0], theirsCpuMs: cpu[1] };
}

const firstLine = (error) => String(error?.message ?? error).split('\n')[0].slice(0, 240);

/** Benchmarks one model over every (threads, batch) cell; a failure becomes a row with `error`. */
async function benchModel(convnode, name, options, report) {
  const path = join(options.dir, `${name}.onnx`);
  const cells = options.threads.flatMap((threads) => options.batches.map((batch) => ({ threads, batch })));
  const failAll = (error) => cells.forEach((c) => report({ model: name, ...c, error }));
  let model;
  try {
    model = await convnode.loadOnnx(path);
  } catch (error) {
    return failAll(`convnode cannot load it: ${firstLine(error)}`);
  }
  const imageShape = model.inputShapes[0]?.slice(1);
  if (!imageShape || imageShape.some((d) => typeof d !== 'number' || d <= 0)) {
    return failAll(`input shape ${JSON.stringify(model.inputShapes[0])} has no fixed C x H x W`);
  }
  for (const threads of options.threads) {
    convnode.setNumThreads(threads);
    let session;
    try {
      session = await ortSession(path, threads, options.ortSpinning);
    } catch (error) {
      options.batches.forEach((batch) => report({ model: name, threads, batch, error: `onnxruntime cannot load it: ${firstLine(error)}` }));
      continue;
    }
    for (const batch of options.batches) {
      const shape = [batch, ...imageShape];
      const data = randomInput(shape.reduce((a, b) => a * b, 1), 42 + batch);
      const ourFeeds = { [model.inputNames[0]]: new convnode.Tensor(shape, data) };
      const theirFeeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, shape) };
      const cell = { model: name, threads, batch, input: shape.slice(1).join('x') };
      try {
        const ours = (await model.run(ourFeeds))[model.outputNames[0]].data;
        const theirs = (await session.run(theirFeeds))[session.outputNames[0]].data;
        const check = compareOutputs(ours, theirs, batch);
        const rounds = batch === 1 ? options.rounds : Math.max(3, Math.ceil(options.rounds / 2));
        const times = await timeInterleaved(() => model.run(ourFeeds), () => session.run(theirFeeds), rounds);
        report({ ...cell, ...times, ratio: times.oursMs / times.theirsMs, cpuRatio: times.oursCpuMs / times.theirsCpuMs, ...check });
      } catch (error) {
        report({ ...cell, error: `run failed: ${firstLine(error)}` });
      }
    }
    await session.release();
  }
}

export function formatZooTable(rows) {
  const header = ['model', 'input', 'convnode ms', 'onnxruntime ms', 'ratio', 'CPU-time ratio', 'top-1 agree', 'max|diff|/max|out|'];
  const lines = rows.map((r) =>
    r.error
      ? [r.model, r.input ?? '', 'FAILED', '', '', '', '', 'error below']
      : [
          r.model, r.input, r.oursMs.toFixed(2), r.theirsMs.toFixed(2), `${r.ratio.toFixed(2)}x`, `${r.cpuRatio.toFixed(2)}x`,
          `${r.top1Agree}/${r.batch}`, r.scaledDiff.toExponential(1),
        ],
  );
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells) => `| ${cells.map((c, i) => (i === 0 || i === 7 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  const failures = rows.filter((r) => r.error).map((r) => `- ${r.model}: ${r.error}`);
  return [fmt(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(fmt), ...failures].join('\n');
}

/**
 * Thread scaling (issue 13 asks 2 threads vs 1 at batch 8 >= 1.8x): per model and batch, the
 * 1-thread wall time over the t-thread one, convnode's and onnxruntime's, and convnode's
 * t-thread CPU time over its 1-thread CPU time (the work the split adds: 1.00 is none). Wall
 * speed-ups mean something only where the machine had t cores free (see the load average).
 */
function printThreadScaling(rows, options) {
  if (!options.threads.includes(1)) return;
  for (const threads of options.threads.filter((t) => t > 1)) {
    for (const batch of options.batches) {
      const lines = [];
      for (const model of options.models) {
        // Per repeat (1 and t threads of one repeat ran minutes apart, not hours), then the median.
        const pairs = [];
        for (let repeat = 1; repeat <= options.repeat; repeat++) {
          const find = (t) => rows.find((r) => r.model === model && r.threads === t && r.batch === batch && r.repeat === repeat && !r.error);
          const one = find(1);
          const many = find(threads);
          if (one && many) pairs.push({ ours: one.oursMs / many.oursMs, theirs: one.theirsMs / many.theirsMs, work: many.oursCpuMs / one.oursCpuMs });
        }
        if (!pairs.length) continue;
        lines.push({ model, ...Object.fromEntries(['ours', 'theirs', 'work'].map((k) => [k, median(pairs.map((p) => p[k]))])) });
      }
      if (!lines.length) continue;
      const over = options.repeat > 1 ? `, medians over ${options.repeat} runs` : '';
      console.log(`\n${threads} threads vs 1, batch ${batch} (${describeCpu()}): wall speed-up convnode / onnxruntime, convnode CPU-time growth${over}`);
      for (const l of lines) console.log(`  ${l.model.padEnd(20)} ${l.ours.toFixed(2)}x / ${l.theirs.toFixed(2)}x, CPU ${l.work.toFixed(2)}x`);
      console.log(`  geometric mean ${geometricMean(lines.map((l) => l.ours)).toFixed(2)}x / ${geometricMean(lines.map((l) => l.theirs)).toFixed(2)}x`);
    }
  }
}

function parseArgs() {
  const flags = parseFlags(import.meta.url, {
    '--models': ZOO_MODELS.join(','), '--threads': '1,2', '--batches': '1,8', '--rounds': '7', '--isa': String,
    '--ort-spinning': '0', '--json': String, '--dir': ZOO_DIR, '--repeat': '1', '--goal': Number,
  });
  const options = {
    models: flags['--models'].split(','),
    threads: positiveIntegers('--threads', flags['--threads']),
    batches: positiveIntegers('--batches', flags['--batches']),
    rounds: positiveIntegers('--rounds', flags['--rounds'])[0],
    repeat: positiveIntegers('--repeat', flags['--repeat'])[0],
    goal: flags['--goal'],
    isa: flags['--isa'],
    ortSpinning: flags['--ort-spinning'] !== '0',
    json: flags['--json'],
    dir: flags['--dir'],
  };
  const unknown = options.models.filter((m) => !ZOO_MODELS.includes(m));
  if (unknown.length) throw new Error(`bench/zoo.mjs: unknown model(s) ${unknown.join(', ')}; the zoo: ${ZOO_MODELS.join(', ')}`);
  return options;
}

async function main() {
  const options = parseArgs();
  const convnode = await loadConvnode();
  if (convnode.getBackend() !== 'native') {
    console.log('(skipped: the zoo bench times the native backend, and the addon did not load; run `npm run build:native`)');
    return;
  }
  if (options.isa) convnode.setIsa(options.isa);
  const exportErrors = ensureZooModels(options.models, options.dir);
  const started = new Date();
  const labels = [
    `CPU: ${describeCpu()}; AVX-512 subsets: ${avx512Subsets() || 'none'}`,
    `convnode: native backend, ISA ${convnode.getIsa()} (this CPU and build can run: ${convnode.availableIsas().join(', ')})`,
    `onnxruntime-node ${ort.env.versions.node}: CPU execution provider, ${describeOrtIsa()}`,
    `started ${started.toISOString()}, load average ${os.loadavg()[0].toFixed(1)}; ratio = convnode ms / onnxruntime ms (below 1: convnode is faster); medians of ${options.rounds} rounds at batch 1`,
  ];
  console.log(labels.join('\n'));
  const rows = [];
  let repeat = 1;
  const report = (row) => {
    rows.push({ ...row, repeat });
    const what = row.error
      ? `FAILED: ${row.error}`
      : `${row.oursMs.toFixed(2)} ms vs ${row.theirsMs.toFixed(2)} ms = ${row.ratio.toFixed(2)}x (CPU time ${row.cpuRatio.toFixed(2)}x), ` +
        `top-1 ${row.top1Agree}/${row.batch}, diff ${row.scaledDiff.toExponential(1)}`;
    console.log(`  ${row.model} threads ${row.threads} batch ${row.batch}: ${what}`);
  };
  let order = options.models;
  for (; repeat <= options.repeat; repeat++) {
    if (options.repeat > 1) order = shuffledAgain(options.models, order, repeat);
    if (options.repeat > 1) console.log(`repeat ${repeat} of ${options.repeat} (load average ${os.loadavg()[0].toFixed(1)}): ${order.join(', ')}`);
    for (const name of order) {
      if (exportErrors.has(name)) {
        options.threads.forEach((threads) => options.batches.forEach((batch) => report({ model: name, threads, batch, error: exportErrors.get(name) })));
        continue;
      }
      await benchModel(convnode, name, options, report);
      globalThis.gc?.(); // the next model's weights should not share the heap with this one's
    }
  }
  if (options.repeat > 1) {
    const runs = Array.from({ length: options.repeat }, (_, i) => rows.filter((r) => r.repeat === i + 1));
    console.log(`\n${describeCpu()}:${formatRunsSummary(runs, { goal: options.goal })}`);
  } else {
    printRunTables(rows, options);
  }
  printThreadScaling(rows, options);
  console.log(`\nfinished ${new Date().toISOString()}, load average ${os.loadavg()[0].toFixed(1)} (above ${os.availableParallelism()}, other processes shared the cores)`);
  if (options.json) {
    writeFileSync(options.json, JSON.stringify({ labels, options, rows }, null, 2));
    console.log(`\nrows written to ${options.json}`);
  }
}

/** `names` shuffled from `seed`, drawn again (next seeds) while it comes out as `previous`. */
function shuffledAgain(names, previous, seed) {
  let order = shuffled(names, seed);
  for (let s = seed + 1000; names.length > 1 && order.join() === previous.join(); s += 1000) order = shuffled(names, s);
  return order;
}

/** `names` in an order drawn from `seed` (Fisher-Yates over an LCG): the same seed, the same order. */
export function shuffled(names, seed) {
  const out = [...names];
  let state = (seed * 2654435761) >>> 0;
  const next = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0);
  for (let k = 0; k < 4; k++) next(); // nearby seeds' first draws are alike
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor((next() / 2 ** 32) * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** One run's tables: per (threads, batch), every model's row and the geometric mean. */
function printRunTables(rows, options) {
  for (const threads of options.threads) {
    for (const batch of options.batches) {
      const cellRows = rows.filter((r) => r.threads === threads && r.batch === batch);
      const ran = cellRows.filter((r) => !r.error);
      console.log(`\n${threads} thread(s), batch ${batch} (${describeCpu()}):`);
      console.log(formatZooTable(cellRows));
      if (ran.length) {
        const wall = geometricMean(ran.map((r) => r.ratio)).toFixed(2);
        const cpu = geometricMean(ran.map((r) => r.cpuRatio)).toFixed(2);
        console.log(`geometric mean of ratios: ${wall}x (CPU time: ${cpu}x) over ${ran.length} of ${cellRows.length} models`);
      }
    }
  }
  if (options.goal !== undefined) {
    const over = rows.filter((r) => !r.error && r.ratio > options.goal).map((r) => `${r.model} ${r.threads}t b${r.batch} ${r.ratio.toFixed(2)}x`);
    console.log(over.length ? `above ${options.goal}x (one run: see --repeat): ${over.join('; ')}` : `every ratio at or below ${options.goal}x`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main();
}
