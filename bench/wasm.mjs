#!/usr/bin/env node
// The wasm backend against the pure-JS backend, the native addon and TensorFlow.js's wasm
// backend (XNNPACK, SIMD, 1 thread), in one process, on one thread: the layers of
// bench/native-kernels.mjs (batch 1, bias + ReLU fused where the layer has them) and whole
// ResNet-18 / MobileNetV2 from the zoo (bench/.models/zoo, batch 1; tfjs has no ONNX loader, so
// models compare convnode's three backends only). Every contender runs in turn, round after
// round (odd rounds reversed); medians of CPU ms (on a loaded machine wall time also
// counts other processes' turns). Outputs are compared to the JS backend's, so a fast wrong
// answer shows. Build first: `npm run build`, `node scripts/build-wasm.mjs` (and the addon).
//
//   node bench/wasm.mjs [--rounds 7] [--no-models] [--no-layers] [--models resnet18,mobilenet_v2]
//                       [--ab other.wasm] [--layers 1x1,dw]
// --ab adds a second build of the module as one more contender on the layers ('wasm B', and B/A
// its CPU time over the loaded module's), to A/B a kernel change in one process. --layers keeps
// the layers whose name contains one of the words. --js-transformer-ops adds, on the models, the
// wasm backend with matMul / layerNorm / softmax on the pure-JS kernels (session 5's backend:
// what moving them into the module changed; 'JS ops/wasm'); --no-js leaves the pure-JS backend
// out of the models (ViT and Swin take seconds per run on it).
//
// Timing: process CPU time, each runner warmed first until V8 has tiered its wasm code up. V8
// starts wasm functions on its baseline compiler (Liftoff) and compiles hot ones with TurboFan
// in the background: with 2 warm-up runs the dw 3x3/2 144@56
// layer ran its first ~30 calls at 0.8-1.1 ms on Liftoff code, then 0.44 ms (Zen 4, one
// process), and process CPU also counted the TurboFan jobs (4-7 ms spikes) - session 6's 1.3-4.8 ms
// for that layer. Samples repeat a runner to at least ~2 ms.
// Threads: the wasm backend is the one-thread build here (CONVNODE_WASM_THREADS=1 unless set);
// bench/wasm-threads.mjs measures threads.
import { existsSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { jsBackend } from '../dist/backends/js.js';
import { loadNativeBackend, setNumThreads } from '../dist/backends/native.js';
import { loadWasmBackend, wasmBackendFromFile, wasmModuleInfo } from '../dist/backends/wasm.js';
import { loadOnnx } from '../dist/onnx/index.js';
import { Tensor } from '../dist/tensor.js';
import { planConv, planWindow } from '../dist/planner/geometry.js';
import { median, parseFlags, processCpuMs, randomInput, scaledDifference, warmUntilSettled } from './harness.mjs';

const flags = parseFlags(import.meta.url, {
  '--rounds': 7, '--models': 'resnet18,mobilenet_v2', '--no-models': false, '--no-layers': false, '--no-js': false,
  '--js-transformer-ops': false, '--ab': String, '--layers': '',
});
const rounds = flags['--rounds'];
process.env.CONVNODE_WASM_THREADS ??= '1';
const modelNames = flags['--models'].split(',');

const wasm = loadWasmBackend();
if (wasm instanceof Error) {
  console.error(`wasm backend unavailable: ${wasm.message}`);
  process.exit(1);
}
const abFile = flags['--ab'] ?? null;
const wasmB = abFile ? wasmBackendFromFile(abFile) : null;
const layerWords = flags['--layers'].split(',').filter(Boolean);
const native = loadNativeBackend();
if (!(native instanceof Error)) setNumThreads(1);

// bench/native-kernels.mjs's layers: [Cin, Cout, size, K, stride, pad, groups].
const LAYERS = [
  { name: '3x3 64->64 @56', conv: [64, 64, 56, 3, 1, 1, 1] },
  { name: '7x7/2 3->64 @224', conv: [3, 64, 224, 7, 2, 3, 1] },
  { name: '3x3 256->256 @14', conv: [256, 256, 14, 3, 1, 1, 1] },
  { name: '1x1 256->64 @56', conv: [256, 64, 56, 1, 1, 0, 1] },
  { name: 'dw 3x3 32 @112', conv: [32, 32, 112, 3, 1, 1, 32] },
  { name: 'dw 3x3/2 144 @56', conv: [144, 144, 56, 3, 2, 1, 144] },
  { name: 'dw 3x3 960 @7', conv: [960, 960, 7, 3, 1, 1, 960] },
  { name: 'dw 3x3/2 576 @14', conv: [576, 576, 14, 3, 2, 1, 576] },
  { name: 'linear 1280->1000', linear: [1280, 1000] },
  { name: 'maxpool 3x3/2 64 @112', pool: [64, 112, 3, 2, 1] },
];

/**
 * Warms a runner until V8 has tiered its code up (harness warmUntilSettled: at least 30 runs and
 * 0.3 s, until the last 10 runs' median is no longer 5% below the 10 before, at most 3 s). Times
 * are process CPU (every thread: once warm, V8's compiler threads are idle), not the JS thread's
 * schedstat: Linux updates it at ticks and switches only, too coarse for 0.2 ms layers.
 * Returns the repeats per sample that take ~2 ms.
 */
function warm(run) {
  const { msPerRun } = warmUntilSettled(run, { window: 10, minRuns: 30, minMs: 300, maxMs: 3000 });
  return Math.max(1, Math.round(2 / Math.max(1e-3, msPerRun)));
}

/** Times sync runners in turn, after warming each; medians of CPU ms per run. */
function timeInTurn(runners) {
  const repeats = runners.map(warm);
  const cpu = runners.map(() => []);
  for (let i = 0; i < rounds; i++) {
    const order = runners.map((_, j) => j);
    if (i % 2) order.reverse();
    for (const j of order) {
      const c = processCpuMs();
      for (let r = 0; r < repeats[j]; r++) runners[j]();
      cpu[j].push((processCpuMs() - c) / repeats[j]);
    }
  }
  return cpu.map(median);
}

async function loadTfjsWasm() {
  const warn = console.warn;
  console.warn = () => {};
  try {
    const tf = await import('@tensorflow/tfjs-core');
    const backend = await import('@tensorflow/tfjs-backend-wasm');
    backend.setThreadsCount(1);
    await tf.setBackend('wasm');
    await tf.ready();
    tf.tensor([0]).dispose();
    return tf;
  } catch (error) {
    console.log(`(tfjs-backend-wasm not compared: ${error.message})`);
    return null;
  } finally {
    console.warn = warn;
  }
}

/** NCHW -> NHWC for tfjs. */
function toNhwc(x, c, plane) {
  const out = new Float32Array(x.length);
  for (let ch = 0; ch < c; ch++) for (let p = 0; p < plane; p++) out[p * c + ch] = x[ch * plane + p];
  return out;
}

/** One layer's runners: { convnode: backend => run, tfjs: run | null, output, reference }. */
function layerCase(layer, tf) {
  if (layer.conv) {
    const [cin, cout, size, k, s, p, groups] = layer.conv;
    const g = planConv(layer.name, [1, cin, size, size], {
      inChannels: cin, outChannels: cout, groups, kernel: [k, k], stride: [s, s], dilation: [1, 1], padding: p,
    });
    const weight = randomInput((cout * cin * k * k) / groups, 1).map((v) => v * 0.1);
    const bias = randomInput(cout, 2);
    const weights = {
      inChannels: cin, outChannels: cout, groups, kernelH: k, kernelW: k, weight, bias, activation: { kind: 'relu' },
      stride: [s, s], padding: p, inputSize: [size, size],
    };
    const input = randomInput(cin * size * size, 3);
    const outLength = cout * g.outH * g.outW;
    const make = (backend) => {
      const output = new Float32Array(outLength);
      const kernel = backend.prepareConv2d(weights);
      return { run: () => kernel.runSync(input, g, output), output };
    };
    let tfjs = null;
    if (tf) {
      const depthwise = groups === cin && cin === cout;
      const perGroup = cin / groups;
      const filter = new Float32Array(weight.length);
      for (let o = 0; o < cout; o++) {
        for (let i = 0; i < perGroup; i++) {
          for (let t = 0; t < k * k; t++) filter[depthwise ? t * cin + o : (t * cin + i) * cout + o] = weight[(o * perGroup + i) * k * k + t];
        }
      }
      const x = tf.tensor4d(toNhwc(input, cin, size * size), [1, size, size, cin]);
      const f = depthwise ? tf.tensor4d(filter, [k, k, cin, 1]) : tf.tensor4d(filter, [k, k, cin, cout]);
      const b = tf.tensor1d(bias);
      const pad = [[0, 0], [p, p], [p, p], [0, 0]];
      const op = depthwise ? tf.fused.depthwiseConv2d : tf.fused.conv2d;
      tfjs = () => {
        const y = op({ x, filter: f, strides: [s, s], pad, bias: b, activation: 'relu' });
        y.dataSync();
        y.dispose();
      };
    }
    return { make, tfjs, flops: 2 * cout * g.outH * g.outW * (cin / groups) * k * k };
  }
  if (layer.linear) {
    const [inF, outF] = layer.linear;
    const weight = randomInput(inF * outF, 4).map((v) => v * 0.05);
    const bias = randomInput(outF, 5);
    const input = randomInput(inF, 6);
    const make = (backend) => {
      const output = new Float32Array(outF);
      const kernel = backend.prepareLinear({ inFeatures: inF, outFeatures: outF, weight, bias, activation: { kind: 'none' } });
      return { run: () => kernel.runSync(input, 1, output), output };
    };
    let tfjs = null;
    if (tf) {
      const x = tf.tensor2d(input, [1, inF]);
      const w = tf.tensor2d(weight, [outF, inF]);
      const b = tf.tensor1d(bias);
      // matMul, then the bias: tfjs-backend-wasm 4.22's fused.matMul with transposeB and a bias
      // gives wrong sums (bench/wasm-tfjs-models.mjs).
      tfjs = () => {
        const y = tf.add(tf.matMul(x, w, false, true), b);
        y.dataSync();
        y.dispose();
      };
    }
    return { make, tfjs, flops: 2 * inF * outF };
  }
  const [c, size, k, s, p] = layer.pool;
  const window = planWindow(layer.name, size, size, { kernel: [k, k], stride: [s, s], dilation: [1, 1], padding: p });
  const g = { ...window, batch: 1, channels: c, kind: 'max', countIncludePad: false };
  const input = randomInput(c * size * size, 7);
  const make = (backend) => {
    const output = new Float32Array(c * g.outH * g.outW);
    return { run: () => backend.pool2dSync(input, g, output), output };
  };
  let tfjs = null;
  if (tf) {
    const x = tf.tensor4d(toNhwc(input, c, size * size), [1, size, size, c]);
    const pad = [[0, 0], [p, p], [p, p], [0, 0]];
    // tfjs's maxPool takes 'same' / 'valid' / a number: pad 1 for 3x3/2 on an even map is 'same' here.
    tfjs = () => {
      const y = tf.maxPool(x, k, s, p === 0 ? 'valid' : 'same');
      y.dataSync();
      y.dispose();
    };
    void pad;
  }
  return { make, tfjs, flops: 0 };
}

const cpuModel = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(`convnode wasm backend (module tier ${wasmModuleInfo().isa}) vs pure JS vs native vs tfjs-backend-wasm`);
console.log(`${cpuModel}, 1 thread (wasm module: ${wasmModuleInfo().threaded ? 'threaded build' : 'one-thread build'}, ${wasmModuleInfo().threads} thread), batch 1, medians of ${rounds} interleaved rounds of process CPU ms after tier-up; load average ${os.loadavg()[0].toFixed(1)}\n`);

const fmt = (v) => (v === null ? '-' : v.toFixed(2));
if (!flags['--no-layers']) {
  const tf = await loadTfjsWasm();
  const header = ['layer', 'js ms', 'wasm ms', 'native ms', 'tfjs-wasm ms', 'wasm GFLOP/s', 'wasm/js', 'native/wasm', 'tfjs/wasm', 'max diff'];
  if (wasmB) header.push('wasm B ms', 'B/A', 'B max diff');
  const rows = [header];
  for (const layer of LAYERS.filter((l) => layerWords.length === 0 || layerWords.some((w) => l.name.includes(w)))) {
    const c = layerCase(layer, tf);
    const js = c.make(jsBackend);
    const w = c.make(wasm);
    const n = native instanceof Error ? null : c.make(native);
    const b = wasmB ? c.make(wasmB) : null;
    const runners = [js.run, w.run, ...(n ? [n.run] : []), ...(c.tfjs ? [c.tfjs] : []), ...(b ? [b.run] : [])];
    const ms = timeInTurn(runners);
    const jsMs = ms[0], wasmMs = ms[1];
    const nativeMs = n ? ms[2] : null;
    const tfMs = c.tfjs ? ms[runners.length - 1 - (b ? 1 : 0)] : null;
    const bMs = b ? ms[runners.length - 1] : null;
    rows.push([layer.name, fmt(jsMs), fmt(wasmMs), fmt(nativeMs), fmt(tfMs),
      c.flops ? (c.flops / (wasmMs * 1e6)).toFixed(1) : '-', `${(jsMs / wasmMs).toFixed(1)}x`,
      nativeMs ? `${(wasmMs / nativeMs).toFixed(1)}x` : '-', tfMs ? `${(wasmMs / tfMs).toFixed(2)}x` : '-',
      scaledDifference(w.output, js.output).toExponential(1),
      ...(b ? [fmt(bMs), `${(bMs / wasmMs).toFixed(2)}`, scaledDifference(b.output, js.output).toExponential(1)] : [])]);
  }
  printTable(rows);
  console.log('wasm/js: how many times faster wasm is than pure JS; native/wasm: how many times slower wasm is than native;');
  console.log('tfjs/wasm: convnode wasm time over tfjs-backend-wasm time (above 1: tfjs faster). max diff: wasm vs js, scaled by the range.\n');
}

if (!flags['--no-models']) {
  const withJs = !flags['--no-js'];
  // Session 5's wasm backend: the transformer ops on the pure-JS kernels.
  const jsOps = flags['--js-transformer-ops']
    ? { ...wasm, matMulSync: jsBackend.matMulSync, matMul: jsBackend.matMul, layerNormSync: jsBackend.layerNormSync,
      layerNorm: jsBackend.layerNorm, softmaxSync: jsBackend.softmaxSync, softmax: jsBackend.softmax }
    : null;
  const rows = [['model', 'js ms', 'wasm ms', 'native ms', 'wasm/js', 'native/wasm', 'max diff', ...(jsOps ? ['wasm JS-ops ms', 'JS ops/wasm'] : [])]];
  for (const name of modelNames) {
    const file = join('bench', '.models', 'zoo', `${name}.onnx`);
    if (!existsSync(file)) {
      console.log(`(${name}: ${file} missing; see bench/zoo.mjs)`);
      continue;
    }
    // Contenders in this order; absent ones are null (js, native).
    const backends = [withJs ? jsBackend : null, wasm, native instanceof Error ? null : native, jsOps];
    const present = backends.filter((b) => b !== null);
    const loadedPresent = await Promise.all(present.map((backend) => loadOnnx(file, { backend })));
    const shape = [1, 3, 224, 224];
    const input = new Tensor(shape, randomInput(3 * 224 * 224, 11));
    const outputsPresent = loadedPresent.map(() => null);
    const feeds = { [loadedPresent[0].inputNames[0]]: input };
    const msPresent = timeInTurn(loadedPresent.map((m, i) => () => {
      outputsPresent[i] = m.runSync(feeds);
    }));
    const ms = backends.map((b) => (b === null ? null : msPresent[present.indexOf(b)]));
    const outputs = backends.map((b) => (b === null ? null : outputsPresent[present.indexOf(b)]));
    const first = (o) => Object.values(o)[0].data;
    // Without the JS backend, differences are against native (else against the other wasm form).
    const reference = outputs[0] ?? outputs[2] ?? outputs[3];
    rows.push([name, fmt(ms[0]), fmt(ms[1]), fmt(ms[2]), ms[0] ? `${(ms[0] / ms[1]).toFixed(1)}x` : '-',
      ms[2] ? `${(ms[1] / ms[2]).toFixed(1)}x` : '-', reference ? scaledDifference(first(outputs[1]), first(reference)).toExponential(1) : '-',
      ...(jsOps ? [fmt(ms[3]), `${(ms[3] / ms[1]).toFixed(2)}x`] : [])]);
    for (const m of loadedPresent) m.dispose();
  }
  printTable(rows);
}

function printTable(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  for (const r of rows) console.log(r.map((v, i) => (i === 0 ? String(v).padEnd(widths[i]) : String(v).padStart(widths[i]))).join('  '));
}
