#!/usr/bin/env node
// Whole models on convnode's wasm backend against tfjs-backend-wasm (XNNPACK, SIMD), one thread,
// batch 1, in one process, rounds interleaved: the issue's "ResNet-18 and MobileNetV2 against
// tfjs-backend-wasm". tfjs has no ONNX loader, so this file builds each zoo model
// (bench/.models/zoo) in tfjs-core from the same ONNX graph and weights: NHWC (tfjs's layout),
// each Conv followed by its Relu / Clip(0, 6) as one fused op (as convnode fuses them), Add,
// MaxPool, GlobalAveragePool, Flatten, Gemm. Both outputs are compared (top-1 and the scaled
// difference), so a wrong graph shows.
//
// Per layer kind: every op of one run timed on its own (process CPU around each call: both
// backends run their kernels synchronously on the calling thread), summed by kind (conv 3x3,
// 1x1 project / expand, depthwise 3x3/2, ...), medians over the rounds. Each side is warmed until
// V8 has tiered its wasm code up (bench/wasm.mjs says why).
//
//   node bench/wasm-tfjs-models.mjs [--models resnet18,mobilenet_v2] [--rounds 7]
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { loadWasmBackend } from '../dist/backends/wasm.js';
import { loadOnnx } from '../dist/onnx/index.js';
import { decodeModel } from '../dist/onnx/decode.js';
import { constAsFloat32 } from '../dist/onnx/constant.js';
import { Tensor } from '../dist/tensor.js';
import { median, parseFlags, processCpuMs, randomInput, scaledDifference, warmUntilSettled } from './harness.mjs';

const flags = parseFlags(import.meta.url, { '--models': 'resnet18,mobilenet_v2', '--rounds': 7 });
const rounds = flags['--rounds'];
process.env.CONVNODE_WASM_THREADS ??= '1';
const wasm = loadWasmBackend();
if (wasm instanceof Error) {
  console.error(`wasm backend unavailable: ${wasm.message}`);
  process.exit(1);
}

const warn = console.warn;
console.warn = () => {};
const tf = await import('@tensorflow/tfjs-core');
const tfWasm = await import('@tensorflow/tfjs-backend-wasm');
tfWasm.setThreadsCount(1);
await tf.setBackend('wasm');
await tf.ready();
console.warn = warn;

/** The layer kind a Conv node is (the same words as bench/ort-op-compare.mjs). */
function convKind(graph, node) {
  const [cout, cinPerGroup, kh, kw] = graph.initializers.get(node.inputs[1]).dims;
  const group = node.attributes.get('group')?.value ?? 1;
  const stride = Math.max(...(node.attributes.get('strides')?.value ?? [1]));
  const window = `${kh}x${kw}${stride > 1 ? `/${stride}` : ''}`;
  if (group > 1 && cinPerGroup === 1 && group === cout) return `depthwise ${window}`;
  if (kh === 1 && kw === 1) return cout > cinPerGroup ? '1x1 expand' : '1x1 project';
  if (cinPerGroup === 3) return `stem ${window}`;
  return `conv ${window}`;
}

/** A node's kind for the per-kind table. */
function kindOf(graph, node) {
  return node.opType === 'Conv' ? convKind(graph, node) : node.opType;
}

/** The ONNX graph as a list of tfjs steps (NHWC), each { name, kind, run(values) }. */
function tfjsSteps(graph) {
  const consumers = new Map();
  for (const n of graph.nodes) for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const fusedAway = new Set();
  const steps = [];
  // Initializers, and Constant nodes' values (Clip's min / max in the torchvision exports).
  const constants = new Map(graph.initializers);
  for (const n of graph.nodes) if (n.opType === 'Constant') constants.set(n.outputs[0], n.attributes.get('value').value);
  const constant = (name) => constants.get(name);
  for (const node of graph.nodes) {
    if (fusedAway.has(node) || node.opType === 'Constant') continue;
    const [x] = node.inputs;
    const out = node.outputs[0];
    const attr = (k, d) => node.attributes.get(k)?.value ?? d;
    const kind = kindOf(graph, node);
    if (node.opType === 'Conv') {
      const w = constant(node.inputs[1]);
      const data = constAsFloat32(w);
      const [o, iPerG, kh, kw] = w.dims;
      const group = attr('group', 1);
      const depthwise = group > 1 && iPerG === 1 && group === o;
      if (group > 1 && !depthwise) throw new Error(`${node.name}: grouped conv not built here`);
      const filter = new Float32Array(data.length);
      for (let oc = 0; oc < o; oc++) {
        for (let ic = 0; ic < iPerG; ic++) {
          for (let t = 0; t < kh * kw; t++) {
            filter[depthwise ? t * o + oc : (t * iPerG + ic) * o + oc] = data[(oc * iPerG + ic) * kh * kw + t];
          }
        }
      }
      const f = depthwise ? tf.tensor4d(filter, [kh, kw, o, 1]) : tf.tensor4d(filter, [kh, kw, iPerG, o]);
      const b = node.inputs[2] ? tf.tensor1d(constAsFloat32(constant(node.inputs[2]))) : undefined;
      const [top, left, bottom, right] = attr('pads', [0, 0, 0, 0]);
      const stride = attr('strides', [1, 1]);
      // The conv's only consumer a Relu or a Clip(0, 6): fused, as convnode does.
      let activation = 'linear';
      let result = out;
      const next = consumers.get(out) ?? [];
      if (next.length === 1 && next[0].opType === 'Relu') activation = 'relu';
      if (next.length === 1 && next[0].opType === 'Clip') {
        const lo = next[0].inputs[1] ? constAsFloat32(constant(next[0].inputs[1]))[0] : next[0].attributes.get('min')?.value;
        const hi = next[0].inputs[2] ? constAsFloat32(constant(next[0].inputs[2]))[0] : next[0].attributes.get('max')?.value;
        if (lo === 0 && hi === 6) activation = 'relu6';
      }
      if (activation !== 'linear') {
        fusedAway.add(next[0]);
        result = next[0].outputs[0];
      }
      const pad = [[0, 0], [top, bottom], [left, right], [0, 0]];
      const op = depthwise ? tf.fused.depthwiseConv2d : tf.fused.conv2d;
      steps.push({ name: node.name, kind, run: (v) => v.set(result, op({ x: v.get(x), filter: f, strides: stride, pad, bias: b, activation })) });
    } else if (node.opType === 'Relu') {
      steps.push({ name: node.name, kind, run: (v) => v.set(out, tf.relu(v.get(x))) });
    } else if (node.opType === 'Add') {
      steps.push({ name: node.name, kind, run: (v) => v.set(out, tf.add(v.get(x), v.get(node.inputs[1]))) });
    } else if (node.opType === 'MaxPool') {
      const pads = attr('pads', [0, 0, 0, 0]);
      const [k, s] = [attr('kernel_shape')[0], attr('strides', [1, 1])[0]];
      // ONNX pads 1 on every side; tfjs's 'same' would pad bottom / right only (TF's rule): a number pads symmetrically.
      if (pads.some((p) => p !== pads[0])) throw new Error(`${node.name}: asymmetric MaxPool pads not built here`);
      steps.push({ name: node.name, kind, run: (v) => v.set(out, tf.maxPool(v.get(x), k, s, pads[0])) });
    } else if (node.opType === 'GlobalAveragePool') {
      steps.push({ name: node.name, kind, run: (v) => v.set(out, tf.mean(v.get(x), [1, 2], true)) });
    } else if (node.opType === 'Flatten') {
      steps.push({ name: node.name, kind, run: (v) => v.set(out, tf.reshape(v.get(x), [v.get(x).shape[0], -1])) });
    } else if (node.opType === 'Gemm') {
      if (attr('transB', 0) !== 1) throw new Error(`${node.name}: Gemm without transB not built here`);
      const w = constant(node.inputs[1]);
      const wt = tf.tensor2d(constAsFloat32(w), w.dims);
      const b = node.inputs[2] ? tf.tensor1d(constAsFloat32(constant(node.inputs[2]))) : undefined;
      // Not fused.matMul's bias: with transposeB, tfjs-backend-wasm 4.22 gives wrong sums (9.9x the
      // range off on a 512 -> 1000 check against float64; ResNet-18's logits 1.2e-2 off).
      steps.push({ name: node.name, kind, run: (v) => v.set(out, b ? tf.add(tf.matMul(v.get(x), wt, false, true), b) : tf.matMul(v.get(x), wt, false, true)) });
    } else {
      throw new Error(`${node.name}: ${node.opType} not built here`);
    }
  }
  return steps;
}

/** One tfjs run (NCHW input in, NCHW-ordered output out); with `times`, each step's CPU ms added by kind. */
function runTfjs(steps, graph, input, shape, times) {
  return tf.tidy(() => {
    const [n, c, h, w] = shape;
    const nhwc = tf.transpose(tf.tensor4d(input, shape), [0, 2, 3, 1]);
    const values = new Map([[graph.inputs[0].name, nhwc]]);
    for (const step of steps) {
      const t = times ? processCpuMs() : 0;
      step.run(values);
      if (times) times.set(step.kind, (times.get(step.kind) ?? 0) + processCpuMs() - t);
    }
    void n, c, h, w;
    return values.get(graph.outputs[0].name).dataSync().slice();
  });
}

/** convnode's plan, one run with each step timed by kind (the plan's runSync loop, opened up). */
function convnodeStepTimer(model, graph, data, shape) {
  const plan = [...model.plans.values()].find((p) => JSON.stringify(p.values[p.inputIds[0]].shape) === JSON.stringify(shape));
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const kinds = plan.steps.map((step) => {
    const node = byName.get(step.op.name);
    return node ? kindOf(graph, node) : step.op.type;
  });
  return (times) => {
    const arena = plan.freeArenas.pop() ?? plan.createArena();
    try {
      const { buffers } = plan.bind(arena, [data]);
      plan.steps.forEach((step, i) => {
        const t = processCpuMs();
        step.execution.runSync(step.inputIds.map((id) => buffers[id]), step.outputIds.map((id) => buffers[id]));
        times.set(kinds[i], (times.get(kinds[i]) ?? 0) + processCpuMs() - t);
      });
    } finally {
      plan.releaseArena(arena);
    }
  };
}

/** Whole models: at least 10 runs and 1 s, windows of 4 runs, at most 20 s (harness warmUntilSettled). */
const warm = (run) => warmUntilSettled(run, { window: 4, minRuns: 10, minMs: 1000, maxMs: 20000 });

console.log('convnode wasm backend vs tfjs-backend-wasm (XNNPACK, SIMD), whole models, 1 thread each, batch 1');
console.log(`${os.cpus()[0]?.model ?? 'unknown CPU'}, medians of ${rounds} interleaved rounds of process CPU ms after tier-up; load average ${os.loadavg()[0].toFixed(1)}\n`);
for (const name of flags['--models'].split(',')) {
  const file = join('bench', '.models', 'zoo', `${name}.onnx`);
  if (!existsSync(file)) {
    console.log(`(${name}: ${file} missing; see bench/zoo.mjs)`);
    continue;
  }
  const graph = decodeModel(readFileSync(file), file);
  const steps = tfjsSteps(graph);
  const model = await loadOnnx(file, { backend: wasm });
  const shape = [1, 3, 224, 224];
  const data = randomInput(3 * 224 * 224, 11);
  const feeds = { [model.inputNames[0]]: new Tensor(shape, data) };
  let ours = model.runSync(feeds);
  let theirs = runTfjs(steps, graph, data, shape);
  warm(() => model.runSync(feeds));
  warm(() => runTfjs(steps, graph, data, shape));
  const timeOurs = convnodeStepTimer(model, graph, data, shape);
  const whole = { ours: [], theirs: [] };
  const kinds = { ours: [], theirs: [] };
  for (let r = 0; r < rounds; r++) {
    for (const side of r % 2 ? ['theirs', 'ours'] : ['ours', 'theirs']) {
      let t = processCpuMs();
      if (side === 'ours') ours = model.runSync(feeds);
      else theirs = runTfjs(steps, graph, data, shape);
      whole[side].push(processCpuMs() - t);
      const byKind = new Map();
      t = processCpuMs();
      if (side === 'ours') timeOurs(byKind);
      else runTfjs(steps, graph, data, shape, byKind);
      kinds[side].push(byKind);
    }
  }
  const out = Object.values(ours)[0].data;
  const argmax = (a) => a.reduce((best, v, i) => (v > a[best] ? i : best), 0);
  const oursMs = median(whole.ours);
  const theirsMs = median(whole.theirs);
  console.log(`${name}: convnode wasm ${oursMs.toFixed(1)} ms, tfjs-backend-wasm ${theirsMs.toFixed(1)} ms: ${(oursMs / theirsMs).toFixed(2)}x `
    + `(top-1 ${argmax(out) === argmax(theirs) ? 'agrees' : 'DIFFERS'}, max diff ${scaledDifference(out, theirs).toExponential(1)})`);
  const allKinds = [...new Set(kinds.ours.flatMap((m) => [...m.keys()]).concat(kinds.theirs.flatMap((m) => [...m.keys()])))];
  const rows = [['layer kind', 'convnode ms', 'tfjs ms', 'ratio']];
  for (const kind of allKinds) {
    const a = median(kinds.ours.map((m) => m.get(kind) ?? 0));
    const b = median(kinds.theirs.map((m) => m.get(kind) ?? 0));
    rows.push([kind, a.toFixed(2), b.toFixed(2), b > 0.005 ? `${(a / b).toFixed(2)}x` : '-']);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log('  ' + r.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  '));
  console.log('');
  model.dispose();
}
