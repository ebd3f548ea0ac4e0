/**
 * `convnode bench model.onnx`: how fast the user's own model serves on this machine (compare
 * onnxruntime's perf_test and ncnn's benchncnn). Per batch size and thread count: latency
 * p50 / p90 / p99 and images/s, the CPU and the ISA in use, the model's multiply-adds and the
 * GFLOP/s achieved; --profile adds the 10 slowest ops, --compare the same table for
 * onnxruntime-node when it is installed beside convnode (an optional peer, never a dependency).
 *
 * The repository's own benchmark sections stay `npm run bench` in a clone; `convnode bench
 * <section>` still hands section names to bench/run.mjs when it is there.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { getBackend } from '../../backends/index.js';
import { getIsa, getNumThreads, setNumThreads } from '../../backends/native.js';
import type { OnnxModel } from '../../onnx/index.js';
import { summarize } from '../../layers/summary.js';
import { Tensor } from '../../tensor.js';
import { nchwShape, positiveInt } from '../args.js';
import { UsageError, type CliIO, type Command, type ParsedArgs } from '../command.js';
import { progressBar } from '../progress.js';

// lib/cli/commands and dist/cli/commands are both three levels below the package root.
const RUNNER = fileURLToPath(new URL('../../../bench/run.mjs', import.meta.url));
const WARMUP_RUNS = 2;

/** '1,8,32' -> [1, 8, 32]: each a whole number from 1 to max. */
function intList(flag: string, value: unknown, max: number): number[] | undefined {
  if (value === undefined) return undefined;
  const parts = String(value).split(',');
  const numbers = parts.map((p) => positiveInt(flag, p.trim(), max) as number);
  return [...new Set(numbers)];
}

export interface LatencyRow {
  readonly batch: number;
  readonly threads: number;
  readonly runs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly imagesPerSecond: number;
  readonly gflops: number;
}

/** The q-quantile of sorted samples, nearest rank (p99 of 20 runs is the slowest). */
export function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function row(batch: number, threads: number, samplesMs: number[], multiplyAdds: number): LatencyRow {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const p50 = quantile(sorted, 0.5);
  return {
    batch,
    threads,
    runs: sorted.length,
    p50Ms: p50,
    p90Ms: quantile(sorted, 0.9),
    p99Ms: quantile(sorted, 0.99),
    imagesPerSecond: (batch * 1000) / p50,
    gflops: (2 * multiplyAdds) / (p50 * 1e6),
  };
}

function seededInput(shape: readonly number[]): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  let s = 12345;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s / 2 ** 32;
  }
  return new Tensor(shape, data);
}

/** The model's declared [N, C, H, W]... input with a batch of 1, when every other dimension is a number. */
function declaredShape(model: OnnxModel): number[] | undefined {
  const declared = model.inputShapes[0];
  if (!declared || declared.length < 2) return undefined;
  const rest = declared.slice(1);
  return rest.every((d) => typeof d === 'number' && d > 0) ? [1, ...(rest as number[])] : undefined;
}

interface OrtModule {
  InferenceSession: { create(path: string, options: object): Promise<{ inputNames: readonly string[]; run(feeds: object): Promise<unknown>; release?(): Promise<void> }> };
  Tensor: new (type: string, data: Float32Array, dims: readonly number[]) => unknown;
}

async function loadOrt(): Promise<OrtModule> {
  try {
    const ort = (await import('onnxruntime-node' as string)) as OrtModule & { default?: OrtModule };
    return ort.InferenceSession ? ort : (ort.default as OrtModule);
  } catch {
    throw new UsageError('--compare needs onnxruntime-node installed beside convnode (npm install onnxruntime-node); it is an optional peer, not a dependency');
  }
}

async function timeRuns(runs: number, once: () => Promise<unknown>, tick: () => void): Promise<number[]> {
  for (let i = 0; i < WARMUP_RUNS; i++) await once();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await once();
    samples.push(performance.now() - t);
    tick();
  }
  return samples;
}

const fixed = (n: number, digits: number) => n.toFixed(digits);

function table(title: string, rows: readonly LatencyRow[], ratios?: readonly number[]): string {
  const head = ['batch', 'threads', 'p50 ms', 'p90 ms', 'p99 ms', 'images/s', 'GFLOP/s', ...(ratios ? ['ort/convnode p50'] : [])];
  const body = rows.map((r, i) => [
    String(r.batch), String(r.threads), fixed(r.p50Ms, 3), fixed(r.p90Ms, 3), fixed(r.p99Ms, 3), fixed(r.imagesPerSecond, 1), fixed(r.gflops, 2),
    ...(ratios ? [fixed(ratios[i], 2)] : []),
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...body.map((b) => b[c].length)));
  const line = (cells: string[]) => cells.map((cell, c) => cell.padStart(widths[c])).join('  ');
  return [title, line(head), ...body.map(line)].join('\n');
}

async function benchModel(path: string, values: ParsedArgs['values'], io: CliIO): Promise<number> {
  if (!existsSync(path)) throw new UsageError(`model file '${path}' does not exist`);
  const given = nchwShape('input', values.input);
  const runs = positiveInt('runs', values.runs, 100000) ?? 20;
  const { loadOnnx } = await import('../../onnx/index.js');
  const model = await loadOnnx(path);
  const baseShape = given ?? declaredShape(model);
  if (baseShape === undefined) {
    throw new UsageError(`'${path}' does not declare a fixed input size; give one with --input, e.g. --input 1x3x224x224`);
  }
  const batches = intList('batch', values.batch, 4096) ?? [baseShape[0]];
  const native = getBackend() === 'native';
  const defaultThreads = native ? getNumThreads() : 1;
  const threadList = intList('threads', values.threads, 256) ?? [defaultThreads];
  if (!native && values.threads !== undefined && threadList.some((t) => t !== 1)) {
    throw new UsageError('--threads needs the native backend; the pure-JS backend runs on one thread');
  }
  const ort = values.compare === true ? await loadOrt() : undefined;
  const combos = batches.flatMap((batch) => threadList.map((threads) => ({ batch, threads })));
  const progress = progressBar(io, values.json === true ? 0 : combos.length * runs * (ort ? 2 : 1), 'runs');
  let done = 0;
  const tick = () => progress.advance(++done);

  const rows: LatencyRow[] = [];
  const ortRows: LatencyRow[] = [];
  const inputName = model.inputNames[0];
  for (const { batch, threads } of combos) {
    const shape = [batch, ...baseShape.slice(1)];
    const input = seededInput(shape);
    // A rank or fixed-size mismatch is the model's ShapeError here, before any timing.
    const multiplyAdds = summarize(model, shape).totals.multiplyAdds;
    if (native) setNumThreads(threads);
    rows.push(row(batch, threads, await timeRuns(runs, () => model.run({ [inputName]: input }), tick), multiplyAdds));
    if (ort) {
      const session = await ort.InferenceSession.create(path, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential' });
      const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input.data, shape) };
      ortRows.push(row(batch, threads, await timeRuns(runs, () => session.run(feeds), tick), multiplyAdds));
      await session.release?.();
    }
  }
  if (native) setNumThreads(defaultThreads);

  let slowest: { name: string; type: string; ms: number }[] | undefined;
  if (values.profile === true) {
    const first = combos[0];
    if (native) setNumThreads(first.threads);
    const profiled = await model.profile({ [inputName]: seededInput([first.batch, ...baseShape.slice(1)]) }, { runs: Math.min(runs, 10) });
    if (native) setNumThreads(defaultThreads);
    slowest = [...profiled.steps].sort((a, b) => b.ms - a.ms).slice(0, 10).map((s) => ({ name: s.name, type: s.type, ms: s.ms }));
  }
  progress.finish();

  const cpu = os.cpus()[0]?.model?.trim() ?? 'unknown CPU';
  const isa = native ? getIsa() : 'js';
  const multiplyAdds = summarize(model, [1, ...baseShape.slice(1)]).totals.multiplyAdds;
  const ratios = ort ? rows.map((r, i) => ortRows[i].p50Ms / r.p50Ms) : undefined;
  if (values.json === true) {
    const report = {
      model: path,
      input: [1, ...baseShape.slice(1)],
      cpu,
      logicalCpus: os.availableParallelism(),
      backend: getBackend(),
      isa,
      multiplyAddsPerImage: multiplyAdds,
      runs,
      convnode: rows,
      ...(ort ? { onnxruntime: ortRows, ortOverConvnodeP50: ratios } : {}),
      ...(slowest ? { slowestOps: slowest } : {}),
    };
    io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  }
  const lines = [
    `${path}: input ${[1, ...baseShape.slice(1)].join('x')} per image, ${(multiplyAdds / 1e6).toFixed(1)} M multiply-adds per image`,
    `${cpu} (${os.availableParallelism()} logical CPUs); convnode ${getBackend()} backend, ISA ${isa}; ${runs} runs after ${WARMUP_RUNS} warm-up`,
    '',
    table('convnode', rows, ratios),
  ];
  if (ort) lines.push('', table('onnxruntime-node', ortRows));
  if (slowest) {
    lines.push('', `10 slowest ops (batch ${combos[0].batch}, ${combos[0].threads} thread(s), median ms):`);
    for (const s of slowest) lines.push(`  ${s.ms.toFixed(3).padStart(9)}  ${s.type.padEnd(18)} ${s.name}`);
  }
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

async function runSections(positionals: string[], io: CliIO): Promise<number> {
  if (!existsSync(RUNNER)) {
    io.stderr.write(`convnode bench: '${positionals[0]}' is not an .onnx model, and the repository's benchmark sections (bench/run.mjs) ship with the source repository, not the npm package\n`);
    return 2;
  }
  const child = spawn(process.execPath, [RUNNER, ...positionals], { stdio: 'inherit' });
  return new Promise((resolve) => {
    child.on('error', (error) => {
      io.stderr.write(`convnode bench: cannot start ${RUNNER}: ${error.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function run({ values, positionals }: ParsedArgs, io: CliIO): Promise<number> {
  if (positionals.length === 0) {
    const where = existsSync(RUNNER) ? `here: ${RUNNER} (npm run bench)` : 'in a clone of the source repository: npm run bench';
    throw new UsageError(`give a model to time, e.g. convnode bench model.onnx --batch 1,8; the repository's own benchmarks are ${where}`);
  }
  const [target] = positionals;
  if (target.toLowerCase().endsWith('.onnx')) {
    if (positionals.length > 1) throw new UsageError(`bench times one model, got ${positionals.length} arguments`);
    return benchModel(target, values, io);
  }
  return runSections(positionals, io);
}

export const bench: Command = {
  name: 'bench',
  summary: 'Time an .onnx model on this machine: latency p50/p90/p99, images/s and GFLOP/s per batch and thread count.',
  usage: 'bench <model.onnx> [--input NxCxHxW] [--batch 1,8,32] [--threads 1,2,4] [--runs N] [--profile] [--compare] [--json]',
  minPositionals: 0,
  maxPositionals: Infinity,
  options: {
    input: { type: 'string', short: 'i', value: '<NxCxHxW>', help: "input shape (default: the model's declared shape, batch 1)" },
    batch: { type: 'string', short: 'b', value: '<list>', help: 'batch sizes to time, e.g. 1,8,32 (default: the input shape\'s N)' },
    threads: { type: 'string', short: 't', value: '<list>', help: 'native thread counts to time, e.g. 1,2,4 (default: the pool size)' },
    runs: { type: 'string', short: 'n', value: '<N>', help: 'timed runs per batch and thread count (default 20, after 2 warm-up runs)' },
    profile: { type: 'boolean', help: 'also list the 10 slowest ops (first batch and thread count)' },
    compare: { type: 'boolean', help: 'time onnxruntime-node on the same inputs too (needs it installed)' },
    json: { type: 'boolean', help: 'print the report as JSON (no progress line)' },
  },
  examples: [
    'convnode bench resnet18.onnx --batch 1,8 --threads 1,2',
    'convnode bench model.onnx --input 1x3x224x224 --runs 50 --profile',
    'convnode bench model.onnx --compare --json > report.json',
  ],
  run,
};
