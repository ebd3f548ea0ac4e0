// What the benchmarks share: every bench script's command line (parseFlags: `--flag value`,
// switches, --help), and for the whole-model ones (bench/models.mjs, bench/fusion.mjs, ...)
// convnode loaded from dist/, onnxruntime sessions made the same way, deterministic inputs, and
// the timing loop that runs every contender in turn round after round (odd rounds in reverse
// order) and reports medians of wall and process CPU time. onnxruntime is loaded only by the
// scripts that make a session (a kernel bench that reads its flags here does not load it).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
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

/** Process CPU ms so far (user + system, all threads). */
export function processCpuMs() {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
}

/**
 * Runs `run` (synchronous) until its time per call settles: V8 starts wasm (and JS) on its
 * baseline tier and compiles hot functions in the background, so the first calls are slower and
 * process CPU also counts the optimising compiler's jobs. Stops once at least `minRuns` runs and
 * `minMs` of wall time have passed and the median of the last `window` calls (timed with `clock`,
 * ms) is no longer 5% below the median of the `window` before it; or after `maxMs` of wall time
 * whatever the times do. Returns { runs, settled, msPerRun: the median of the last window }.
 */
export function warmUntilSettled(run, { clock = processCpuMs, window = 10, minRuns = 30, minMs = 300, maxMs = 3000 } = {}) {
  if (!(Number.isInteger(window) && window >= 1)) throw new RangeError(`warmUntilSettled: window must be a whole number >= 1, got ${window}`);
  const times = [];
  const start = performance.now();
  for (;;) {
    const t = clock();
    run();
    times.push(clock() - t);
    const n = times.length;
    const elapsed = performance.now() - start;
    const settled = n >= Math.max(minRuns, 2 * window) && elapsed >= minMs &&
      median(times.slice(n - window)) > 0.95 * median(times.slice(n - 2 * window, n - window));
    if (settled || elapsed > maxMs) return { runs: n, settled, msPerRun: median(times.slice(-window)) };
  }
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

/**
 * A bench model by name: the zoo's (bench/.models/zoo/, exported by bench/zoo.mjs) or one of
 * bench/models.mjs's (bench/.models/). Missing: says how to export it and exits 2.
 */
export function benchModelPath(scriptUrl, name) {
  const bench = dirname(fileURLToPath(import.meta.url));
  const path = [join(bench, '.models', 'zoo', `${name}.onnx`), join(bench, '.models', `${name}.onnx`)].find(existsSync);
  if (!path) {
    console.error(`bench/${basename(fileURLToPath(scriptUrl))}: no ${name}.onnx in bench/.models/zoo/ or bench/.models/; run \`node bench/zoo.mjs --models ${name}\` (or bench/models.mjs) first`);
    process.exit(2);
  }
  return path;
}

/** The ONNX graph at `path` as convnode's importer decodes it (dist/), with its nodes by name: what a step was. */
export async function decodedGraph(path) {
  const { decodeModel } = await import(pathToFileURL(join(root, 'dist', 'onnx', 'decode.js')).href);
  const graph = decodeModel(readFileSync(path), path);
  return { graph, nodeByName: new Map(graph.nodes.map((n) => [n.name, n])) };
}

/**
 * A conv's form, from its ONNX node and weights, in the lecture's words: 'depthwise 3x3/2',
 * '3x3 groups of 8', '1x1 expand' / '1x1 project' (more outputs than inputs, or not), '3x3/2',
 * '3x3 d2' (dilation). '' when the weights are not a constant 4-D initializer.
 */
export function convForm(node, graph) {
  const weight = graph.initializers.get(node.inputs[1]);
  if (!weight || weight.dims.length !== 4) return '';
  const [cout, cinPerGroup, kh, kw] = weight.dims;
  const attr = (name) => node.attributes.get(name)?.value;
  const group = attr('group') ?? 1;
  const stride = Math.max(...(attr('strides') ?? [1]));
  const dilation = Math.max(...(attr('dilations') ?? [1]));
  const window = `${kh}x${kw}${stride > 1 ? `/${stride}` : ''}${dilation > 1 ? ` d${dilation}` : ''}`;
  if (group > 1 && cinPerGroup === 1 && group === cout) return `depthwise ${window}`;
  if (group > 1) return `${window} groups of ${cinPerGroup}`;
  if (kh === 1 && kw === 1) return `${window} ${cout > cinPerGroup ? 'expand' : 'project'}`;
  return window;
}

/** The addon this checkout loads (node-gyp-build), or CONVNODE_ADDON_PATH's build. */
export function nativeAddon() {
  const require = createRequire(import.meta.url);
  const forced = process.env.CONVNODE_ADDON_PATH;
  return forced ? require(forced) : require(join(root, 'node_modules', 'node-gyp-build'))(root);
}

/**
 * A model on the native backend at `threads`, for a bench's child process: its feeds are one
 * [batch, C, H, W] input (free dimensions 224) of sin(i / 100), the same in every child.
 */
export async function nativeModel(path, threads, batch) {
  const load = (file) => import(pathToFileURL(join(root, 'dist', file)).href);
  const [onnx, { Tensor }, native] = await Promise.all([load('onnx/index.js'), load('tensor.js'), load('backends/native.js')]);
  native.setNumThreads(threads);
  const model = await onnx.loadOnnx(path, { backend: 'native' });
  const shape = [batch, ...model.inputShapes[0].slice(1).map((d) => (typeof d === 'number' ? d : 224))];
  const input = new Tensor(shape, new Float32Array(shape.reduce((a, b) => a * b)).map((_, i) => Math.sin(i * 0.01)));
  return { model, feeds: { [model.inputNames[0]]: input } };
}

/**
 * One synchronous run of a loaded model's execution plan with a timer around each step (the
 * plan's runSync loop, opened up): `data` fills the plan's one input; returns ms per step, in
 * plan.steps order. bench/ort-op-compare.mjs and bench/model-ab.mjs time per step with it.
 */
export function timeEachStep(plan, data) {
  const arena = plan.freeArenas.pop() ?? plan.createArena();
  try {
    const { buffers } = plan.bind(arena, [data]);
    return plan.steps.map((step) => {
      const start = performance.now();
      step.execution.runSync(step.inputIds.map((id) => buffers[id]), step.outputIds.map((id) => buffers[id]));
      return performance.now() - start;
    });
  } finally {
    plan.releaseArena(arena);
  }
}

/**
 * Runs the bench script `scriptUrl` again as a child (`args` say which part: '--child ...'), so
 * each measurement has a process of its own; returns the JSON its last line of output prints.
 */
export function runChild(scriptUrl, args, env = process.env) {
  const r = spawnSync(process.execPath, [fileURLToPath(scriptUrl), ...args.map(String)], { encoding: 'utf8', env, maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`${basename(fileURLToPath(scriptUrl))} ${args.join(' ')}: ${r.error?.message ?? (r.stderr ?? '').slice(-400)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}
