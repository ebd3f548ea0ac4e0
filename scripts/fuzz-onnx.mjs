#!/usr/bin/env node
// A seeded mutational fuzzer for the ONNX importer and the kernels behind it.
//
// Each mutant of a fixture under test/fixtures/onnx is loaded and, when it loads, run once on
// a deterministic input, in a child process with a time and memory cap. Outcomes:
//   ok          loaded and ran (the mutation was harmless)
//   typed       refused with one of convnode's typed errors (ConvnodeError with a `code`)
//   untyped     any other exception escaped: a defect (an error users cannot act on)
//   crash       the child died of a signal or an unexpected exit: a defect
//   over-cap    over the time or memory cap: a defect (a load that blocks or balloons)
// The same seed gives the same mutants, so a finding reproduces with `--seed S --only I`.
//
// Mutations: byte and bit flips and truncation of the file; protobuf-aware edits of input dims,
// window / shape attributes (kernel_shape, strides, pads, group, dilations, perm, axes) set to
// 0, negative, huge or out of range; renamed or dangling edges, and cycles.
//
// Usage: node scripts/fuzz-onnx.mjs [--count N | --minutes M] [--seed S] [--backend js|native]
//                                   [--addon path/to/convnode.node] [--only I] [--json out.json]
// Exits 1 when any mutant is untyped, crash or over-cap (CI runs a bounded, seeded slice).
import { fork } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'onnx');
const TIME_CAP_MS = 10_000;
const RSS_CAP_BYTES = 1.5 * 2 ** 30;
const DEFECTS = ['untyped', 'crash', 'over-cap'];
/** Mutants whose inputs hold more elements than this are loaded but not run. */
const RUN_ELEMENTS = 2 ** 22;
class SkipRun extends Error {}

function parseArgs(argv) {
  const args = { count: 200, minutes: 0, seed: 1, backend: 'native', addon: '', only: -1, json: '' };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in args)) throw new Error(`fuzz-onnx: unknown flag ${argv[i]}`);
    const value = argv[++i];
    args[key] = typeof args[key] === 'number' ? Number(value) : value;
  }
  return args;
}

// ---- deterministic randomness (mulberry32) ----
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const pick = (random, list) => list[Math.floor(random() * list.length)];

const HOSTILE_INTS = [0, -1, -7, 1, 2, 3, 65536, 1e6, 1e9, 2 ** 31 - 1, 2 ** 31, 2 ** 40, -(2 ** 31)];
const WINDOW_ATTRS = ['kernel_shape', 'strides', 'pads', 'group', 'dilations', 'perm', 'axes', 'axis', 'split', 'ceil_mode', 'keepdims'];

/** One mutant's bytes, from the fixture's bytes and its decoded message. */
function mutate(bytes, ModelProto, random) {
  const kind = pick(random, ['bytes', 'bits', 'truncate', 'dims', 'attribute', 'attribute', 'edge', 'cycle']);
  if (kind === 'bytes' || kind === 'bits' || kind === 'truncate') {
    const out = Uint8Array.from(bytes);
    if (kind === 'truncate') return { kind, bytes: out.subarray(0, Math.floor(random() * out.length)) };
    const edits = 1 + Math.floor(random() * 8);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(random() * out.length);
      out[at] = kind === 'bytes' ? Math.floor(random() * 256) : out[at] ^ (1 << Math.floor(random() * 8));
    }
    return { kind, bytes: out };
  }
  const model = ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, defaults: false });
  const graph = model.graph;
  const nodes = graph.node ?? [];
  if (kind === 'dims') {
    const input = pick(random, graph.input ?? [{}]);
    const dims = input?.type?.tensorType?.shape?.dim;
    if (dims && dims.length) pick(random, dims).dimValue = pick(random, HOSTILE_INTS);
  } else if (kind === 'attribute' && nodes.length) {
    const node = pick(random, nodes);
    node.attribute ??= [];
    const name = pick(random, WINDOW_ATTRS);
    let attr = node.attribute.find((a) => a.name === name);
    if (!attr) node.attribute.push((attr = { name }));
    if (random() < 0.5 || name === 'group' || name === 'axis' || name === 'ceil_mode' || name === 'keepdims') {
      Object.assign(attr, { type: 2, i: pick(random, HOSTILE_INTS), ints: [] });
    } else {
      const length = Math.floor(random() * 5);
      Object.assign(attr, { type: 7, ints: Array.from({ length }, () => pick(random, HOSTILE_INTS)) });
    }
  } else if (kind === 'edge' && nodes.length) {
    const node = pick(random, nodes);
    const list = random() < 0.5 ? (node.input ??= []) : (node.output ??= []);
    if (list.length) list[Math.floor(random() * list.length)] = pick(random, ['dangling', '', graph.output?.[0]?.name ?? 'y', nodes[0].output?.[0] ?? 'z']);
  } else if (kind === 'cycle' && nodes.length > 1) {
    // A node reads a value produced after it (or by itself).
    const at = Math.floor(random() * nodes.length);
    const later = nodes[at + Math.floor(random() * (nodes.length - at))];
    if (nodes[at].input?.length && later.output?.length) nodes[at].input[0] = later.output[0];
  }
  return { kind, bytes: ModelProto.encode(ModelProto.fromObject(model)).finish() };
}

// ---- the child: loads and runs mutants sent by the parent, one at a time ----
async function child() {
  const lib = await import(join(ROOT, 'dist', 'index.js'));
  const { ConvnodeError } = await import(join(ROOT, 'dist', 'errors.js'));
  process.on('message', async ({ index, bytes, backend }) => {
    const data = Uint8Array.from(Buffer.from(bytes, 'base64'));
    let outcome = 'ok';
    let message = '';
    try {
      const model = await lib.loadOnnx(data, { backend });
      const feeds = {};
      const shapes = model.inputNames.map((_, i) => (model.inputShapes[i] ?? [1]).map((d) => (typeof d === 'number' && d > 0 ? d : 1)));
      // A legal but huge declared input only tests loading: running it would time the kernels.
      if (shapes.some((shape) => shape.reduce((a, b) => a * b, 1) > RUN_ELEMENTS)) throw new SkipRun();
      model.inputNames.forEach((name, i) => {
        const shape = (model.inputShapes[i] ?? [1]).map((d) => (typeof d === 'number' && d > 0 ? d : 1));
        const size = shape.reduce((a, b) => a * b, 1);
        const values = new Float32Array(size);
        for (let k = 0; k < size; k++) values[k] = Math.sin(k);
        feeds[name] = new lib.Tensor(shape, values);
      });
      await model.run(feeds);
    } catch (error) {
      if (error instanceof SkipRun) error = null;
      const typed = error instanceof ConvnodeError && typeof error.code === 'string' && error.code.startsWith('ERR_CONVNODE');
      outcome = error === null ? 'ok' : typed ? 'typed' : 'untyped';
      message = error === null ? 'loaded; input too large to run' : `${error?.constructor?.name ?? typeof error}: ${String(error?.message ?? error).split('\n')[0].slice(0, 300)}`;
    }
    const rss = process.memoryUsage().rss;
    if (rss > RSS_CAP_BYTES) {
      outcome = 'over-cap';
      message = `RSS ${(rss / 2 ** 20).toFixed(0)} MiB after this mutant (cap ${RSS_CAP_BYTES / 2 ** 20} MiB); ${message}`;
    }
    process.send({ index, outcome, message }, () => {
      // A process that ballooned starts afresh for the next mutant.
      if (outcome === 'over-cap') process.exit(0);
    });
  });
  process.send({ ready: true });
}

// ---- the parent: makes mutants, feeds them to a child, classifies, restarts after a death ----
async function parent(args) {
  const { ModelProto } = await import(join(ROOT, 'dist', 'onnx', 'schema.js'));
  const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.onnx')).sort();
  const sources = fixtures.map((f) => ({ name: f, bytes: readFileSync(join(FIXTURES, f)) }));
  const deadline = args.minutes > 0 ? Date.now() + args.minutes * 60_000 : Infinity;
  const total = args.minutes > 0 ? Infinity : args.count;
  const counts = { ok: 0, typed: 0, untyped: 0, crash: 0, 'over-cap': 0 };
  const findings = [];
  const reasons = new Map();
  const env = { ...process.env, CONVNODE_FUZZ_CHILD: '1' };
  if (args.addon) env.CONVNODE_ADDON_PATH = args.addon;

  let worker = null;
  let pending = null; // { index, resolve, timer }
  const startWorker = () =>
    new Promise((resolve) => {
      const self = fork(fileURLToPath(import.meta.url), [], { env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: ['--max-old-space-size=1024'] });
      worker = self;
      let stderr = '';
      self.stderr.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
      self.on('message', (m) => {
        if (m.ready) return resolve();
        if (worker === self && pending && m.index === pending.index) {
          clearTimeout(pending.timer);
          const done = pending;
          pending = null;
          done.resolve(m);
        }
      });
      self.on('exit', (code, signal) => {
        // A child killed for its time cap was already counted and replaced.
        if (worker !== self) return;
        worker = null;
        if (pending) {
          clearTimeout(pending.timer);
          const done = pending;
          pending = null;
          done.resolve({ index: done.index, outcome: 'crash', message: `child exited (code ${code}, signal ${signal}): ${stderr.trim().split('\n').slice(-3).join(' | ')}` });
        }
      });
    });

  const runOne = (index, bytes) =>
    new Promise((resolve) => {
      pending = {
        index,
        resolve,
        timer: setTimeout(() => {
          const done = pending;
          pending = null;
          worker?.kill('SIGKILL');
          worker = null;
          done.resolve({ index, outcome: 'over-cap', message: `no answer within ${TIME_CAP_MS / 1000} s` });
        }, TIME_CAP_MS),
      };
      worker.send({ index, bytes: Buffer.from(bytes).toString('base64'), backend: args.backend });
    });

  const started = Date.now();
  for (let index = 0; index < total && Date.now() < deadline; index++) {
    const random = rng(args.seed * 1_000_003 + index);
    const source = sources[index % sources.length];
    if (args.only >= 0 && index !== args.only) continue;
    let mutant;
    try {
      mutant = mutate(source.bytes, ModelProto, random);
    } catch {
      continue; // the edit made a message protobufjs will not encode: nothing to test
    }
    if (!worker) await startWorker();
    const result = await runOne(index, mutant.bytes);
    counts[result.outcome]++;
    if (result.outcome === 'typed') {
      // What refused it, with names and numbers blurred, to see how deep mutants get.
      const key = result.message.replace(/'[^']*'/g, "'…'").replace(/\[[^\]]*\]/g, '[…]').replace(/\d+/g, 'N').slice(0, 90);
      reasons.set(key, (reasons.get(key) ?? 0) + 1);
    }
    if (DEFECTS.includes(result.outcome) || args.only >= 0) {
      findings.push({ index, fixture: source.name, mutation: mutant.kind, ...result });
      console.log(`fuzz-onnx: #${index} ${source.name} (${mutant.kind}): ${result.outcome}: ${result.message}`);
    }
    if (!worker) continue;
    if ((index + 1) % 250 === 0) console.log(`fuzz-onnx: ${index + 1} mutants, ${JSON.stringify(counts)}`);
  }
  worker?.kill();
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  const mutants = Object.values(counts).reduce((a, b) => a + b, 0);
  console.log(`fuzz-onnx: seed ${args.seed}, backend ${args.backend}${args.addon ? ` (addon ${args.addon})` : ''}: ${mutants} mutants in ${seconds} s: ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')}`);
  if (args.json) writeFileSync(args.json, JSON.stringify({ seed: args.seed, backend: args.backend, counts, findings, typedReasons: Object.fromEntries([...reasons].sort((a, b) => b[1] - a[1])) }, null, 2));
  return findings.some((f) => DEFECTS.includes(f.outcome)) ? 1 : 0;
}

if (process.env.CONVNODE_FUZZ_CHILD === '1') {
  await child();
} else {
  process.exitCode = await parent(parseArgs(process.argv.slice(2)));
}
