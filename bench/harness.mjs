// What the whole-model benchmarks share (bench/models.mjs, bench/fusion.mjs): convnode loaded
// from dist/, onnxruntime sessions made the same way, deterministic inputs, and the timing loop
// that runs every contender in turn round after round (odd rounds in reverse order) and reports
// medians of wall and process CPU time.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as ort from 'onnxruntime-node';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

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
export function ortSession(path, threads, spinning = false) {
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
