#!/usr/bin/env node
// Whole-model benchmark: ResNet-18, MobileNetV2 and ShuffleNetV2 x1.0 at 224x224 (full width, random weights),
// convnode vs onnxruntime-node side by side in one process, same thread count, batch 1 and 8.
// The models are exported on first use by scripts/onnx-fixtures/export_bench_models.py into
// bench/.models/ (git-ignored). Needs `npm run build` first (reads dist/).
//
//   node bench/models.mjs [--runs N] [--threads 1,2] [--batches 1,8] [--models resnet18,mobilenet_v2,shufflenet_v2]
//                         [--ort-spinning 1|0] [--isas avx2,avx512]
// On the native backend each vector ISA tier this CPU has (or --isas) runs its own copy of the
// model, timed in turn with onnxruntime in the same rounds: one row per tier.
// With more than one thread, onnxruntime's pool threads spin after each of its runs (its default)
// and take CPU from the convnode run timed next: measured on the 2-core VM, ResNet-18 batch 1 on
// 2 threads read 38.3 ms for convnode with spinning on, 29.9 and 25.4 ms in two runs with
// `--ort-spinning 0`, and 25.2 ms with no onnxruntime session in the process. (onnxruntime's own
// time barely moves: 17.2-19.0 ms.) One thread is unaffected. So spinning is off by default
// here, which leaves onnxruntime's own times as they were and stops it taxing convnode's run;
// `--ort-spinning 1` restores onnxruntime's default.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { loadConvnode, ortSession, parseFlags, positiveIntegers, randomInput, scaledDifference, timeInTurn } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const MODELS_DIR = join(here, '.models');
const MODEL_NAMES = ['resnet18', 'mobilenet_v2', 'shufflenet_v2'];

/** Exports the models if they are missing; returns false (with a reason printed) when it cannot. */
function ensureModels(names) {
  if (names.every((n) => existsSync(join(MODELS_DIR, `${n}.onnx`)))) return true;
  const script = join(root, 'scripts', 'onnx-fixtures', 'export_bench_models.py');
  console.log(`exporting benchmark models with ${script} ...`);
  const result = spawnSync('/usr/bin/python3', [script, MODELS_DIR], { stdio: ['ignore', 'inherit', 'pipe'] });
  if (result.status !== 0) {
    console.log(`(skipped: could not export the models; needs /usr/bin/python3 with torch and torchvision)\n${String(result.stderr).slice(-400)}`);
    return false;
  }
  return true;
}

/**
 * Runs the model section and returns its rows. options: models, batches, threads (counts),
 * runs (timed runs per cell; the median is reported), ortSpinning (false: onnxruntime's pool
 * threads block instead of spinning between runs).
 */
export async function benchModels(options = {}) {
  const models = options.models ?? MODEL_NAMES;
  const batches = options.batches ?? [1, 8];
  const allThreads = os.availableParallelism();
  const threads = options.threads ?? [...new Set([1, allThreads])];
  const runs = options.runs ?? 7;
  if (!ensureModels(models)) return [];
  const convnode = await loadConvnode();
  const backend = convnode.getBackend();
  // The ISA tiers to compare (native only): each gets its own copy of the model, prepared after
  // setIsa, so its layers keep that tier's kernels. Default: every vector tier this CPU has.
  const initialIsa = backend === 'native' ? convnode.native.getIsa() : null;
  const isas = backend !== 'native' ? [null] : options.isas ?? convnode.native.availableIsas().filter((i) => i !== 'scalar');
  const rows = [];
  for (const name of models) {
    const path = join(MODELS_DIR, `${name}.onnx`);
    const loaded = [];
    for (const isa of isas) {
      if (isa) convnode.native.setIsa(isa);
      loaded.push({ isa, model: await convnode.loadOnnx(path) });
    }
    for (const threadCount of threads) {
      if (backend === 'native') convnode.native.setNumThreads(threadCount);
      const session = await ortSession(path, threadCount, options.ortSpinning ?? false);
      for (const batch of batches) {
        const shape = [batch, 3, 224, 224];
        const data = randomInput(batch * 3 * 224 * 224, 42 + batch);
        const ourInput = new convnode.Tensor(shape, data);
        const theirInput = new ort.Tensor('float32', data, shape);
        const reference = (await session.run({ input: theirInput })).output.data;
        const checks = [];
        for (const { isa, model } of loaded) {
          if (isa) convnode.native.setIsa(isa);  // a lazily prepared layer takes the active tier
          checks.push(scaledDifference((await model.run({ input: ourInput })).output.data, reference));
        }
        const { wall: times, cpu } = await timeInTurn(
          [...loaded.map(({ model }) => () => model.run({ input: ourInput })), () => session.run({ input: theirInput })],
          batch === 1 ? runs : Math.max(3, Math.ceil(runs / 2)),
        );
        const theirsMs = times[loaded.length];
        loaded.forEach(({ isa }, i) => {
          rows.push({
            model: name, backend, isa, batch, threads: threadCount, oursMs: times[i], theirsMs, ratio: times[i] / theirsMs,
            oursCpuMs: cpu[i], theirsCpuMs: cpu[loaded.length], difference: checks[i],
          });
        });
      }
      await session.release();
    }
  }
  if (initialIsa) convnode.native.setIsa(initialIsa);
  return rows;
}

export function formatModelRows(rows) {
  const header = ['model', 'isa', 'batch', 'threads', 'convnode ms', 'img/s', 'onnxruntime ms', 'img/s', 'ratio', 'cpu ms', 'ort cpu ms', 'cpu ratio', 'max diff / max |ref|'];
  const lines = rows.map((r) => [
    r.model, r.isa ?? '-', String(r.batch), String(r.threads), r.oursMs.toFixed(1), ((1000 * r.batch) / r.oursMs).toFixed(1),
    r.theirsMs.toFixed(1), ((1000 * r.batch) / r.theirsMs).toFixed(1), `${r.ratio.toFixed(2)}x`,
    r.oursCpuMs.toFixed(1), r.theirsCpuMs.toFixed(1), `${(r.oursCpuMs / r.theirsCpuMs).toFixed(2)}x`, r.difference.toExponential(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells) => `| ${cells.map((c, i) => c.padStart(widths[i])).join(' | ')} |`;
  return [fmt(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(fmt)].join('\n');
}

/** The command line as benchModels' options: a flag not given leaves its option undefined (benchModels' default). */
function parseArgs() {
  const flags = parseFlags(import.meta.url, { '--runs': Number, '--threads': String, '--batches': String, '--models': String, '--ort-spinning': String, '--isas': String });
  const list = (name) => flags[name]?.split(',');
  return {
    runs: flags['--runs'],
    threads: flags['--threads'] && positiveIntegers('--threads', flags['--threads']),
    batches: flags['--batches'] && positiveIntegers('--batches', flags['--batches']),
    models: list('--models'),
    ortSpinning: flags['--ort-spinning'] === undefined ? undefined : flags['--ort-spinning'] !== '0',
    isas: list('--isas'),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const options = parseArgs();
  const rows = await benchModels(options);
  if (rows.length) {
    console.log(`${os.cpus()[0]?.model ?? 'unknown CPU'}; convnode backend: ${rows[0].backend}; onnxruntime-node ${ort.env.versions.node}; ratio = convnode ms / onnxruntime ms (lower is better for convnode)`);
    console.log(formatModelRows(rows));
  }
}
