#!/usr/bin/env node
// Pure-JS convolution: convnode's jsBackend kernels (Winograd F(2x2,3x3) or im2col + packed
// 4x4 GEMM, direct depthwise) against TensorFlow.js's pure-JS cpu backend on the same shapes,
// in one process. Build first (`npm run build`): this imports ../dist/. Both sides are warmed
// up, then timed `runs` times, alternating; the medians are reported. GFLOP/s counts 2 x the direct convolution's
// multiply-adds. The outputs of both are compared too, so a fast wrong answer cannot pass for a win.
//
//   node bench/js-vs-tfjs.mjs [--runs 7]
import { fileURLToPath } from 'node:url';
import { prepareConv2d } from '../dist/kernels/conv2d.js';
import { planConv } from '../dist/planner/geometry.js';
import { parseFlags } from './harness.mjs';

/** The issue's headline shape first; the ratio goal (>= 3x) is about that one. */
export const DEFAULT_SHAPES = [
  { name: 'conv 3x3 64->64 @56x56 pad 1', inChannels: 64, outChannels: 64, groups: 1, size: 56, kernel: 3, pad: 1 },
  { name: 'same, im2col+GEMM (no Winograd)', inChannels: 64, outChannels: 64, groups: 1, size: 56, kernel: 3, pad: 1, winograd: false },
  { name: 'conv 1x1 256->64 @56x56', inChannels: 256, outChannels: 64, groups: 1, size: 56, kernel: 1, pad: 0 },
  { name: 'depthwise 3x3 32 @112x112 pad 1', inChannels: 32, outChannels: 32, groups: 32, size: 112, kernel: 3, pad: 1 },
];

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Times two functions alternately (a, b, a, b ...) after warm-up and returns both medians: on a
 * shared machine, load that comes and goes then hits both sides alike instead of skewing the ratio.
 */
function timePair(a, b, warmup, runs) {
  for (let i = 0; i < warmup; i++) {
    a();
    b();
  }
  const samplesA = [];
  const samplesB = [];
  for (let i = 0; i < runs; i++) {
    let start = performance.now();
    a();
    samplesA.push(performance.now() - start);
    start = performance.now();
    b();
    samplesB.push(performance.now() - start);
  }
  return [median(samplesA), median(samplesB)];
}

function randomArray(length, seed) {
  let state = seed >>> 0;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 31 - 1;
  }
  return out;
}

async function loadTfjsCpu() {
  // tfjs greets Node users on console.warn; keep the table readable.
  const warn = console.warn;
  console.warn = () => {};
  try {
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-cpu');
    await tf.setBackend('cpu');
    await tf.ready();
    tf.tensor([0]).dispose(); // the greeting comes with the backend's first tensor
    return tf;
  } finally {
    console.warn = warn;
  }
}

/** One shape on both sides: returns { name, path, oursMs, tfjsMs, oursGflops, tfjsGflops, ratio, maxAbsDiff }. */
function benchShape(tf, shape, warmup, runs) {
  const { inChannels: cin, outChannels: cout, groups, size, kernel: k, pad } = shape;
  const perGroupIn = cin / groups;
  const x = randomArray(cin * size * size, 1);
  const weight = randomArray(cout * perGroupIn * k * k, 2).map((v) => v * 0.1);
  const geometry = planConv(shape.name, [1, cin, size, size], {
    inChannels: cin, outChannels: cout, groups, kernel: [k, k], stride: [1, 1], dilation: [1, 1], padding: pad,
  });
  const outPlane = geometry.outH * geometry.outW;
  const multiplyAdds = cout * outPlane * perGroupIn * k * k;

  // jsBackend.prepareConv2d is this same function; calling it directly lets a row turn Winograd off.
  const conv = prepareConv2d({
    inChannels: cin, outChannels: cout, groups, kernelH: k, kernelW: k, weight, bias: null, activation: { kind: 'none' },
  }, { winograd: shape.winograd ?? true });
  const ours = new Float32Array(cout * outPlane);

  // tfjs wants NHWC input and [KH, KW, Cin, Cout] (or [KH, KW, C, multiplier]) filters.
  const nhwc = new Float32Array(x.length);
  for (let c = 0; c < cin; c++) for (let p = 0; p < size * size; p++) nhwc[p * cin + c] = x[c * size * size + p];
  const depthwise = groups === cin && cout === cin;
  const filter = new Float32Array(weight.length);
  for (let o = 0; o < cout; o++) {
    for (let i = 0; i < perGroupIn; i++) {
      for (let t = 0; t < k * k; t++) {
        const from = (o * perGroupIn + i) * k * k + t;
        filter[depthwise ? t * cin + o : (t * cin + i) * cout + o] = weight[from];
      }
    }
  }
  if (groups !== 1 && !depthwise) throw new Error(`${shape.name}: only groups 1 or depthwise are compared with tfjs`);
  const input = tf.tensor4d(nhwc, [1, size, size, cin]);
  const kernelTensor = depthwise ? tf.tensor4d(filter, [k, k, cin, 1]) : tf.tensor4d(filter, [k, k, cin, cout]);
  const pads = [[0, 0], [pad, pad], [pad, pad], [0, 0]];
  const runTfjs = () => (depthwise ? tf.depthwiseConv2d(input, kernelTensor, 1, pads) : tf.conv2d(input, kernelTensor, 1, pads));
  const [oursMs, tfjsMs] = timePair(() => conv.runSync(x, geometry, ours), () => {
    const y = runTfjs();
    y.dataSync();
    y.dispose();
  }, warmup, runs);

  const y = runTfjs();
  const theirs = y.dataSync();
  let maxAbsDiff = 0;
  for (let c = 0; c < cout; c++) {
    for (let p = 0; p < outPlane; p++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(ours[c * outPlane + p] - theirs[p * cout + c]));
  }
  y.dispose();
  input.dispose();
  kernelTensor.dispose();
  const gflops = (ms) => (2 * multiplyAdds) / (ms * 1e6);
  return { name: shape.name, path: conv.path, oursMs, tfjsMs, oursGflops: gflops(oursMs), tfjsGflops: gflops(tfjsMs), ratio: tfjsMs / oursMs, maxAbsDiff };
}

/**
 * Runs every shape on both sides and returns the rows; `log` (default console.log) gets the table.
 * Options: { shapes, runs (>= 5), warmup, log }.
 */
export async function benchJsVsTfjs({ shapes = DEFAULT_SHAPES, runs = 7, warmup = 2, log = console.log } = {}) {
  if (!Number.isInteger(runs) || runs < 5) throw new Error(`benchJsVsTfjs: runs must be an integer >= 5, got ${runs}`);
  const tf = await loadTfjsCpu();
  const rows = shapes.map((shape) => benchShape(tf, shape, warmup, runs));
  if (log) {
    log(`median of ${runs} runs (ours and tfjs alternating) after ${warmup} warm-up runs, batch 1, one thread`);
    log('GFLOP/s = 2 x the direct convolution\'s multiply-adds / time (for Winograd an effective rate: it does fewer)');
    log(`${'shape'.padEnd(34)} ${'path'.padEnd(18)} ${'convnode js'.padStart(12)} ${'GFLOP/s'.padStart(8)} ${'tfjs cpu'.padStart(10)} ${'GFLOP/s'.padStart(8)} ${'speed-up'.padStart(9)} ${'max |diff|'.padStart(11)}`);
    for (const r of rows) {
      log(
        `${r.name.padEnd(34)} ${r.path.padEnd(18)} ${`${r.oursMs.toFixed(1)} ms`.padStart(12)} ${r.oursGflops.toFixed(2).padStart(8)} ` +
          `${`${r.tfjsMs.toFixed(1)} ms`.padStart(10)} ${r.tfjsGflops.toFixed(2).padStart(8)} ${`${r.ratio.toFixed(2)}x`.padStart(9)} ${r.maxAbsDiff.toExponential(1).padStart(11)}`,
      );
    }
  }
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await benchJsVsTfjs({ runs: parseFlags(import.meta.url, { '--runs': 7 })['--runs'] });
}
