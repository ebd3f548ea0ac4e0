// What the benchmarks share: every bench script's command line (parseFlags: `--flag value`,
// switches, --help), and for the whole-model ones (bench/models.mjs, bench/fusion.mjs, ...)
// convnode loaded from dist/, onnxruntime sessions made the same way, deterministic inputs, and
// the timing loop that runs every contender in turn round after round (odd rounds in reverse
// order) and reports medians of wall and process CPU time. onnxruntime is loaded only by the
// scripts that make a session (a kernel bench that reads its flags here does not load it).
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * A bench script's command line, declared once as `spec`: each flag and its default, whose type
 * says how the flag is read:
 *   a number     `--rounds 9`: a finite number (Number: a number flag with no default)
 *   a string     `--models a,b` (String: a string flag with no default)
 *   false        a switch, no value: `--quick`
 *   an array     repeatable: `--addon a.node --addon b.node` gives every value, in order
 * A flag with no default that is not given is undefined.
 * Returns { '--rounds': 9, ..., _: [the arguments that are not flags] }; such positional
 * arguments are an error unless `positional` is true. `--help` (or -h) prints the
 * script's usage (its header comment, where each script documents its flags) and exits 0; an
 * unknown flag, a flag without its value or a value that is not a number prints what is wrong,
 * naming the flag, and exits 2.
 */
export function parseFlags(scriptUrl, spec, { argv = process.argv.slice(2), positional } = {}) {
  const script = `bench/${basename(fileURLToPath(scriptUrl))}`;
  const fail = (message) => {
    console.error(`${script}: ${message} (--help prints the usage)`);
    process.exit(2);
  };
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usageOf(scriptUrl));
    process.exit(0);
  }
  const flags = { _: [] };
  for (const [name, fallback] of Object.entries(spec)) {
    flags[name] = Array.isArray(fallback) ? [...fallback] : fallback === Number || fallback === String ? undefined : fallback;
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      if (!positional) fail(`unexpected argument '${arg}'`);
      flags._.push(arg);
      continue;
    }
    if (!(arg in spec)) fail(`unknown flag ${arg}; the flags: ${Object.keys(spec).join(', ')}`);
    const fallback = spec[arg];
    if (fallback === false) {
      flags[arg] = true;
      continue;
    }
    const value = argv[++i];
    if (value === undefined || value.startsWith('--')) fail(`${arg} needs a value`);
    if (typeof fallback === 'number' || fallback === Number) {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n)) fail(`${arg} takes a number, got '${value}'`);
      flags[arg] = n;
    } else if (Array.isArray(fallback)) {
      flags[arg].push(value);
    } else {
      flags[arg] = value;
    }
  }
  return flags;
}

/** `--threads 1,2`: the list as positive integers, or exit 2 naming the flag. */
export function positiveIntegers(flag, text) {
  return String(text).split(',').map((v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) {
      console.error(`${flag} takes positive integers separated by commas, got '${v}'`);
      process.exit(2);
    }
    return n;
  });
}

/** A script's leading comment (after the #! line), without the comment marks: its usage. */
function usageOf(scriptUrl) {
  const lines = readFileSync(fileURLToPath(scriptUrl), 'utf8').split('\n');
  const start = lines[0].startsWith('#!') ? 1 : 0;
  const comment = [];
  for (const line of lines.slice(start)) {
    if (!line.startsWith('//')) break;
    comment.push(line.replace(/^\/\/ ?/, ''));
  }
  return comment.join('\n');
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Deterministic inputs in [-2, 2) (an LCG), the same for every runtime. */
export function randomInput(count, seed) {
  const data = new Float32Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    data[i] = (state / 2 ** 32) * 4 - 2;
  }
  return data;
}

/** convnode's loadOnnx, Tensor, getBackend and the native module from a build's dist/ (default this checkout's). */
export async function loadConvnode(dist = join(root, 'dist')) {
  if (!existsSync(join(dist, 'onnx', 'index.js'))) throw new Error(`${dist} is missing: run \`npm run build\` first`);
  const load = (file) => import(pathToFileURL(join(dist, file)).href);
  const [onnx, tensor, backends, native] = await Promise.all([
    load('onnx/index.js'), load('tensor.js'), load('backends/index.js'), load('backends/native.js'),
  ]);
  return { ...onnx, Tensor: tensor.Tensor, getBackend: backends.getBackend, native };
}

/**
 * An onnxruntime session on `threads` intra-op threads, sequential, every graph optimisation.
 * Its pool threads do not spin between runs unless `spinning`: spinning takes the second core
 * from the convnode run timed next (see bench/models.mjs's header for the measurements).
 */
export async function ortSession(path, threads, spinning = false) {
  const ort = await import('onnxruntime-node');
  return ort.InferenceSession.create(path, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    ...(spinning ? {} : { extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } } }),
  });
}

/**
 * Times the runners in turn, so all see the same machine conditions; odd rounds reverse the
 * order. Two warm-up runs each. Returns each runner's median wall ms and median process CPU ms
 * (all threads; on a shared machine wall time also counts the time other processes held the
 * cores, CPU time does not).
 */
export async function timeInTurn(runners, runs) {
  for (let i = 0; i < 2; i++) for (const run of runners) await run();
  const times = runners.map(() => []);
  const cpu = runners.map(() => []);
  for (let i = 0; i < runs; i++) {
    const order = runners.map((_, j) => j);
    if (i % 2) order.reverse();
    for (const j of order) {
      const c = process.cpuUsage();
      const t = performance.now();
      await runners[j]();
      times[j].push(performance.now() - t);
      const used = process.cpuUsage(c);
      cpu[j].push((used.user + used.system) / 1000);
    }
  }
  return { wall: times.map(median), cpu: cpu.map(median) };
}

/** max |a - b| / max |b|: random-weight nets can have tiny outputs, so scale by the reference's range. */
export function scaledDifference(a, b) {
  let worst = 0;
  let range = 0;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
    range = Math.max(range, Math.abs(b[i]));
  }
  return range === 0 ? worst : worst / range;
}
