// Stress harness for the threaded wasm build (issue 17: a rare "null function or function signature
// mismatch" trap under load). Not a benchmark and not CI: it runs the patterns the wasm tests use
// in many child processes at once, beside busy loops, and counts the runs that fail.
//   npm run build && node scripts/build-wasm.mjs --threads
//   node bench/stress-wasm-threads.mjs [--runs 60] [--parallel 3] [--threads 2,4,8] [--busy 2]
//     [--patterns accuracy,cycles] [--iterations 40] [--images 2000] [--module file.wasm] [--json]
// Patterns (each child runs one, at one thread count):
//   accuracy  the built-in LeNet-5 on Fashion-MNIST test images on CONVNODE_BACKEND=wasm, as
//             test/cli-accuracy.test.ts does (needs Debian's dataset-fashion-mnist)
//   cycles    one module from wasmBackendFromFile: conv kernels prepared, run and disposed against
//             the JS oracle, setThreads 1 <-> N, stopWorkers, the module disposed and made again
//   boot      a module made, one conv run at once (its workers boot during the first jobs),
//             disposed; many times
//   vitest    the CI step that trapped: npx vitest run on the wasm files of .ci/run's
//             "vitest on CONVNODE_BACKEND=wasm" step (cli-accuracy, image-classifier, onnx-ops)
// With a --heap-check build (node scripts/build-wasm.mjs --threads --heap-check, then
// --module build-wasm/convnode-threads-heapcheck.wasm) each child also checks the red zones around
// every allocation after each step (cn_debug_heap_check) and fails on a damaged one.
// --busy N starts N busy loops (nice 0) for the whole run. A child that fails prints why; the
// summary counts runs, failures and traps per pattern and thread count.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parseFlags } from './harness.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const flags = parseFlags(import.meta.url, {
  '--runs': 60, '--parallel': 3, '--threads': '2,4,8', '--busy': 2, '--patterns': 'accuracy,cycles,boot',
  '--iterations': 40, '--images': 2000, '--module': path.join(root, 'build-wasm', 'convnode-threads.wasm'),
  '--json': false, '--child': String, '--child-threads': Number, '--seed': 1,
});

/** The modules the child made: after a failure their workers' own reports (messages) are printed. */
const modulesMade = [];

if (flags['--child'] !== undefined) {
  try {
    await child(flags['--child'], flags['--child-threads'], flags['--iterations'], flags['--seed']);
  } catch (error) {
    // A worker's reason (its trap message) comes as a message after the call failed: give it time.
    await new Promise((done) => setTimeout(done, 300));
    for (const m of modulesMade) if (m.workerFailure !== undefined) console.error(`worker failure reported: ${m.workerFailure}`);
    throw error;
  }
} else {
  await parent();
}

async function parent() {
  const module = path.resolve(flags['--module']);
  if (!existsSync(module)) {
    console.error(`bench/stress-wasm-threads.mjs: no ${module} (node scripts/build-wasm.mjs --threads)`);
    process.exit(2);
  }
  const threadCounts = flags['--threads'].split(',').map(Number);
  const patterns = flags['--patterns'].split(',');
  const cells = patterns.flatMap((p) => threadCounts.map((t) => ({ pattern: p, threads: t })));
  const busy = Array.from({ length: flags['--busy'] }, () => spawn('nice', ['-n', '0', process.execPath, '-e', 'for(;;){}'], { stdio: 'ignore' }));
  // Interrupted: end the busy loops too (they would spin on after this process).
  process.on('SIGINT', () => {
    for (const b of busy) b.kill();
    process.exit(130);
  });
  const tally = new Map(cells.map((c) => [`${c.pattern}@${c.threads}`, { runs: 0, failures: 0, traps: 0 }]));
  const failures = [];
  const started = Date.now();
  let next = 0;
  const loads = [];
  async function worker() {
    while (next < flags['--runs']) {
      const i = next++;
      const cell = cells[i % cells.length];
      const result = await runChild(cell, i);
      const t = tally.get(`${cell.pattern}@${cell.threads}`);
      t.runs++;
      loads.push(loadavg()[0]);
      if (!result.ok) {
        t.failures++;
        if (/trapped|null function|signature mismatch|unreachable|out of bounds/.test(result.output)) t.traps++;
        failures.push({ ...cell, run: i, output: result.output.slice(-1500) });
        console.error(`run ${i} ${cell.pattern}@${cell.threads} FAILED (exit ${result.code}):\n${result.output.slice(-1500)}`);
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: flags['--parallel'] }, worker));
  } finally {
    for (const b of busy) b.kill();
  }
  const summary = {
    cpu: cpus()[0]?.model, seconds: (Date.now() - started) / 1000, module,
    load: { min: Math.min(...loads), max: Math.max(...loads) },
    cells: Object.fromEntries(tally), failures: failures.length,
  };
  if (flags['--json']) console.log(JSON.stringify({ ...summary, failureOutputs: failures }));
  else {
    console.log(`${summary.cpu}, load ${summary.load.min.toFixed(1)}-${summary.load.max.toFixed(1)}, ${summary.seconds.toFixed(0)} s`);
    for (const [cell, t] of tally) console.log(`  ${cell.padEnd(14)} runs ${String(t.runs).padStart(4)}  failures ${t.failures}  traps ${t.traps}`);
  }
  process.exitCode = failures.length > 0 ? 1 : 0;
}

function runChild(cell, i) {
  return new Promise((resolve) => {
    const args = [fileURLToPath(import.meta.url), '--child', cell.pattern, '--child-threads', String(cell.threads),
      '--iterations', String(flags['--iterations']), '--images', String(flags['--images']), '--module', path.resolve(flags['--module']),
      '--seed', String(i + 1)];
    const env = {
      ...process.env, CONVNODE_BACKEND: 'wasm', CONVNODE_WASM_THREADS: String(cell.threads), CONVNODE_WASM_PATH: path.resolve(flags['--module']),
    };
    const c = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    c.stdout.on('data', (d) => { output += d; });
    c.stderr.on('data', (d) => { output += d; });
    // A hang is a failure too (a worker that died without telling the pool).
    const timer = setTimeout(() => { output += '\n[harness] timed out after 300 s: killed'; c.kill('SIGKILL'); }, 300_000);
    c.on('close', (code) => {
      clearTimeout(timer);
      resolve({ ok: code === 0, code, output });
    });
  });
}

/** Fails when the module is a --heap-check build and a red zone around some allocation was overwritten. */
function checkHeap(m, what) {
  const check = m.api.cn_debug_heap_check;
  if (check === undefined) return;
  const damaged = check(0);
  if (damaged !== 0) throw new Error(`${what}: ${damaged} heap block(s) with a damaged red zone`);
}

async function child(pattern, threads, iterations, seed) {
  const dist = (p) => import(path.join(root, 'dist', p));
  if (pattern === 'vitest') {
    const files = ['test/cli-accuracy.test.ts', 'test/image-classifier.test.ts', 'test/onnx-ops.test.ts'];
    const r = spawnSync('npx', ['vitest', 'run', ...files], { cwd: root, encoding: 'utf8', env: process.env, maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`vitest exit ${r.status}:\n${(r.stdout + r.stderr).slice(-3000)}`);
    return;
  }
  if (pattern === 'accuracy') {
    const { ImageClassifier } = await dist('image/classifier.js');
    const { evaluateFashionMnist, FASHION_MNIST_DIR, fashionMnistMissing } = await dist('image/fashion-mnist.js');
    const { getBackend } = await dist('backends/index.js');
    const missing = fashionMnistMissing(FASHION_MNIST_DIR);
    if (missing) throw new Error(missing);
    const { loadWasmModule: loaded } = await dist('backends/wasm-module.js');
    modulesMade.push(loaded());
    const result = await evaluateFashionMnist(await ImageClassifier.load(), { limit: flags['--images'] });
    if (getBackend() !== 'wasm') throw new Error(`backend ${getBackend()}, not wasm`);
    const { loadWasmModule } = await dist('backends/wasm-module.js');
    checkHeap(loadWasmModule(), 'accuracy');
    // LeNet-5 is ~90% accurate: far below means wrong answers (memory corrupted without a trap).
    if (result.accuracy < 0.85) throw new Error(`accuracy ${result.accuracy}: wrong answers`);
    return;
  }
  const { wasmBackendFromFile } = await dist('backends/wasm.js');
  const { jsBackend } = await dist('backends/js.js');
  const { planConv } = await dist('planner/geometry.js');
  let state = seed >>> 0 || 1;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const shapes = [
    { cin: 16, cout: 48, groups: 1, k: 3, s: 1, pad: 1, size: 28, batch: 4 },
    { cin: 64, cout: 96, groups: 1, k: 1, s: 1, pad: 0, size: 28, batch: 1 },
    { cin: 96, cout: 96, groups: 96, k: 3, s: 2, pad: 1, size: 40, batch: 3 },
    { cin: 32, cout: 32, groups: 4, k: 3, s: 1, pad: 1, size: 20, batch: 2 },
    { cin: 3, cout: 32, groups: 1, k: 7, s: 2, pad: 3, size: 64, batch: 2 },
    { cin: 1, cout: 6, groups: 1, k: 5, s: 1, pad: 2, size: 28, batch: 500 },
  ];
  const cases = shapes.map((c) => {
    const floats = (n) => Float32Array.from({ length: n }, () => random() * 2 - 1);
    const weights = {
      inChannels: c.cin, outChannels: c.cout, groups: c.groups, kernelH: c.k, kernelW: c.k,
      weight: floats((c.cout * c.cin * c.k * c.k) / c.groups), bias: floats(c.cout), activation: { kind: 'relu' }, stride: [c.s, c.s],
    };
    const g = planConv('conv', [c.batch, c.cin, c.size, c.size], {
      inChannels: c.cin, outChannels: c.cout, groups: c.groups, kernel: [c.k, c.k], stride: [c.s, c.s], dilation: [1, 1], padding: c.pad,
    });
    const input = floats(c.batch * c.cin * c.size * c.size);
    const run = (backend) => {
      const output = new Float32Array(c.batch * c.cout * g.outH * g.outW);
      const kernel = backend.prepareConv2d(weights);
      kernel.runSync(input, g, output);
      kernel.dispose?.();
      return output;
    };
    return { c, run, expected: run(jsBackend) };
  });
  const check = (out, expected, what) => {
    for (let i = 0; i < out.length; i++) {
      if (!(Math.abs(out[i] - expected[i]) <= 1e-3 * (1 + Math.abs(expected[i])))) throw new Error(`${what}: wrong value at ${i}: ${out[i]} vs ${expected[i]}`);
    }
  };
  const file = path.resolve(flags['--module']);
  if (pattern === 'boot') {
    for (let i = 0; i < iterations; i++) {
      const b = wasmBackendFromFile(file, { threads, threadLimit: threads });
      modulesMade.push(b.module);
      const k = cases[Math.floor(random() * cases.length)];
      check(k.run(b), k.expected, `boot ${i}`);
      checkHeap(b.module, `boot ${i}`);
      await b.dispose();
    }
    return;
  }
  if (pattern === 'cycles') {
    let b = wasmBackendFromFile(file, { threads, threadLimit: threads });
    modulesMade.push(b.module);
    for (let i = 0; i < iterations; i++) {
      const r = random();
      if (r < 0.15) b.module.setThreads(1);
      else if (r < 0.3) b.module.stopWorkers();
      else if (r < 0.5) b.module.setThreads(threads);
      else if (r < 0.55) {
        await b.dispose();
        b = wasmBackendFromFile(file, { threads, threadLimit: threads });
        modulesMade.push(b.module);
      }
      const k = cases[Math.floor(random() * cases.length)];
      check(k.run(b), k.expected, `cycle ${i}`);
      checkHeap(b.module, `cycle ${i}`);
      if (random() < 0.3) await new Promise((done) => setTimeout(done, random() * 5));
    }
    await b.dispose();
    return;
  }
  throw new Error(`unknown pattern ${pattern}`);
}
