/**
 * Off the event loop, proven without a clock. Each case runs in a child process whose libuv
 * pool has one thread (UV_THREADPOOL_SIZE=1), and that thread is first made to wait on a
 * barrier this test holds: an fs.open() of a FIFO, which blocks until a writer opens it. With
 * the barrier closed no native job can run. So if a call's promise is still pending after
 * many turns of the event loop, and its output untouched, its work was queued, not done on
 * the JS thread; the same call done inline would have finished before returning. Then the
 * barrier opens, and the promise must settle with the right answer.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadNativeBackend } from '../lib/backends/native.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = JSON.stringify(path.join(ROOT, 'dist', 'index.js'));
const NATIVE = JSON.stringify(path.join(ROOT, 'dist', 'backends', 'native.js'));
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'onnx');
const nativeLoads = !(loadNativeBackend() instanceof Error);

/** Event-loop turns the pending call must survive with the pool blocked. */
const TURNS = 50;

/**
 * A child script: `start` (a JS expression, awaited) starts the call and gives
 * { promise, untouched(): boolean, verify(result): string | null }; the child prints what it saw.
 */
function barrierScript(setup: string, start: string): string {
  return `
    import fs from 'node:fs';
    import os from 'node:os';
    import path from 'node:path';
    import { execFileSync } from 'node:child_process';
    import * as convnode from ${DIST};
    import * as nativeBackend from ${NATIVE};
    const fifo = path.join(os.tmpdir(), 'convnode-barrier-' + process.pid);
    execFileSync('mkfifo', [fifo]);
    try {
      ${setup}
      // The pool's only thread now waits in open() until the writer below opens the FIFO.
      const gate = new Promise((resolve, reject) => fs.open(fifo, 'r', (error, fd) => (error ? reject(error) : resolve(fd))));
      const call = await (${start});
      let settled = false;
      const outcome = call.promise.then((value) => { settled = true; return value; }, (error) => { settled = true; throw error; });
      let turns = 0;
      while (turns < ${TURNS} && !settled) {
        await new Promise((resolve) => setImmediate(resolve));
        turns++;
      }
      const pendingWhileBlocked = !settled;
      const untouchedWhileBlocked = call.untouched();
      fs.closeSync(fs.openSync(fifo, 'w')); // opens the barrier
      fs.closeSync(await gate);
      const problem = call.verify(await outcome);
      console.log(JSON.stringify({ turns, pendingWhileBlocked, untouchedWhileBlocked, problem }));
    } finally {
      fs.rmSync(fifo, { force: true });
    }
  `;
}

function runBarrier(setup: string, start: string): Record<string, unknown> {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', barrierScript(setup, start)], {
    encoding: 'utf8',
    env: { ...process.env, UV_THREADPOOL_SIZE: '1', CONVNODE_BACKEND: 'native' },
  });
  return JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
}

/** What every case must show: pending for all the turns, nothing written, then the right answer. */
const OFF_THE_LOOP = { turns: TURNS, pendingWhileBlocked: true, untouchedWhileBlocked: true, problem: null };

/** Child-side helper source: the largest |a - b| over two arrays, as a problem string or null. */
const COMPARE = `
  const compare = (actual, expected, what) => {
    if (actual.length !== expected.length) return what + ': ' + actual.length + ' values, expected ' + expected.length;
    let worst = 0;
    for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
    return worst <= 1e-4 ? null : what + ': off by ' + worst;
  };
  const filled = (length) => new Float32Array(length).fill(Number.NaN);
  const allNaN = (array) => array.every((v) => Number.isNaN(v));
  const data = (length, seed) => Float32Array.from({ length }, (_, i) => Math.sin(i * 0.37 + seed));
`;

describe.runIf(nativeLoads)('native work stays off the event loop (libuv pool held at a barrier)', () => {
  it('Conv2d.forward: pending and unwritten while the pool is blocked, right once it runs', () => {
    const seen = runBarrier(
      `${COMPARE}
       const conv = new convnode.Conv2d({ inChannels: 16, outChannels: 32, kernelSize: 3, padding: 1, activation: 'relu' });
       const x = new convnode.Tensor([2, 16, 20, 20], data(2 * 16 * 400, 1));
       const expected = conv.forwardSync(x); // packs the weights now, inline
       const backend = nativeBackend.loadNativeBackend();
       const kernel = backend.prepareConv2d({ inChannels: 16, outChannels: 32, groups: 1, kernelH: 3, kernelW: 3,
         weight: conv.weight.data, bias: conv.bias.data, activation: { kind: 'relu' } });
       const geometry = { batch: 2, inChannels: 16, outChannels: 32, groups: 1, inH: 20, inW: 20, kernelH: 3, kernelW: 3,
         strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, pads: { top: 1, left: 1, bottom: 1, right: 1 }, outH: 20, outW: 20 };
       const out = filled(expected.data.length);`,
      `({ promise: kernel.run(x.data, geometry, out), untouched: () => allNaN(out), verify: () => compare(out, expected.data, 'conv') })`,
    );
    expect(seen).toEqual(OFF_THE_LOOP);
  });

  it('MaxPool2d, global pooling and Linear forward: the same', () => {
    for (const layer of [
      `new convnode.MaxPool2d({ kernelSize: 3, stride: 2, padding: 1 })`,
      `new convnode.GlobalAvgPool2d()`,
    ]) {
      const seen = runBarrier(
        `${COMPARE}
         const layer = ${layer};
         const x = new convnode.Tensor([2, 8, 17, 15], data(2 * 8 * 17 * 15, 2));
         const expected = layer.forwardSync(x);
         let result = null;`,
        `({ promise: layer.forward(x).then((y) => { result = y; }), untouched: () => result === null, verify: () => compare(result.data, expected.data, 'pool') })`,
      );
      expect(seen, layer).toEqual(OFF_THE_LOOP);
    }
    const seen = runBarrier(
      `${COMPARE}
       const fc = new convnode.Linear({ inFeatures: 300, outFeatures: 40, activation: 'sigmoid' });
       const x = new convnode.Tensor([3, 300], data(900, 3));
       const expected = fc.forwardSync(x);
       let result = null;`,
      `({ promise: fc.forward(x).then((y) => { result = y; }), untouched: () => result === null, verify: () => compare(result.data, expected.data, 'linear') })`,
    );
    expect(seen).toEqual(OFF_THE_LOOP);
  });

  it('OnnxModel.run: the same', () => {
    const seen = runBarrier(
      `${COMPARE}
       const model = convnode.loadOnnxSync(${JSON.stringify(path.join(FIXTURES, 'resnet_small.onnx'))});
       const feeds = { [model.inputNames[0]]: new convnode.Tensor([2, 3, 32, 32], data(2 * 3 * 1024, 4)) };
       const expected = model.runSync(feeds)[model.outputNames[0]];
       let result = null;`,
      `({ promise: model.run(feeds).then((y) => { result = y[model.outputNames[0]]; }), untouched: () => result === null,
          verify: () => compare(result.data, expected.data, 'model') })`,
    );
    expect(seen).toEqual(OFF_THE_LOOP);
  });

  it('loadOnnx packs the weights on the pool: the loop turns while a model loads, and the model is right', () => {
    // Before packing moved off the JS thread, the load settled within the first turn.
    const seen = runBarrier(
      `${COMPARE}
       const bytes = fs.readFileSync(${JSON.stringify(path.join(FIXTURES, 'mobilenet_v2_small.onnx'))});
       const reference = convnode.loadOnnxSync(bytes, { backend: 'js' });
       const feeds = { [reference.inputNames[0]]: new convnode.Tensor([1, 3, 64, 64], data(3 * 64 * 64, 5)) };
       const expected = reference.runSync(feeds)[reference.outputNames[0]];
       let model = null;`,
      `({ promise: convnode.loadOnnx(bytes).then((m) => { model = m; }), untouched: () => model === null,
          verify: () => compare(model.runSync(feeds)[model.outputNames[0]].data, expected.data, 'loaded model') })`,
    );
    expect(seen).toEqual(OFF_THE_LOOP);
  });
});
