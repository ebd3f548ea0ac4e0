/**
 * Image-parallel runs (CONVNODE_IMAGE_PARALLEL; native/napi/image_runs.h, lib/onnx/plan.ts): at a
 * batch of 2+ images on 2+ threads a recordable plan runs the batch as sub-batches, each thread
 * replaying a recorded sub-batch plan whole, when the images spread evenly enough over the
 * threads. Its outputs must equal the op-by-op path's (mode 0) and the pure-JS oracle's at batch
 * 2, 3 (not divisible by the threads: op by op), 8 and 16 with 1, 2, 8 and 16 threads, in both
 * cuts (one image per sub-batch, batch / threads); a failing sub-batch fails the run with a
 * BackendError and leaves the model usable; a graph that mixes images (a Softmax over the batch
 * axis), whose one-image plan cannot be recorded or that adds a constant computed from the batch
 * size keeps the op-by-op path; dispose during and
 * after a run neither crashes nor leaks a wrong answer. The test hook failImageRunForTest proves
 * which path ran: it throws only inside an image-parallel run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path, { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { setNumThreads } from '../lib/backends/native.js';
import { BackendError, DisposedError } from '../lib/errors.js';
import { loadOnnx, type OnnxModel } from '../lib/onnx/index.js';
import { Tensor } from '../lib/tensor.js';
import { useNativeBackend } from './helpers/backends.js';
import { expectClose, randomFloats, seededRandom } from './helpers/numeric.js';
import { encodeModel, floatTensor, intTensor, node } from './onnx-model-builder.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
interface ImageRunControls {
  setImageRunsMode(mode: number): void;
  imageRunsMode(): number;
  failImageRunForTest(index: number): void;
}
const addon = (): ImageRunControls => createRequire(import.meta.url)('node-gyp-build')(ROOT) as ImageRunControls;

useNativeBackend(() => {});

const random = seededRandom(29);
const conv3x3 = { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } };
/** conv + ReLU, depthwise conv, max pool, conv with a residual, a Concat of channels, global pool, Gemm; `softmaxAxis0`: a Softmax over the batch at the end. */
function cnn(softmaxAxis0 = false): Uint8Array {
  return encodeModel({
    inputs: [{ name: 'x', shape: ['N', 3, 12, 12] }],
    outputs: [{ name: softmaxAxis0 ? 'p' : 'out' }],
    initializers: [
      floatTensor('w1', [8, 3, 3, 3], randomFloats(216, random)),
      floatTensor('b1', [8], randomFloats(8, random)),
      floatTensor('wd', [8, 1, 3, 3], randomFloats(72, random)),
      floatTensor('w2', [8, 8, 3, 3], randomFloats(576, random)),
      floatTensor('wf', [5, 16], randomFloats(80, random)),
      floatTensor('bf', [5], randomFloats(5, random)),
    ],
    nodes: [
      node('Conv', ['x', 'w1', 'b1'], ['y1'], conv3x3),
      node('Relu', ['y1'], ['a1']),
      node('Conv', ['a1', 'wd'], ['d'], { ...conv3x3, group: { i: 8 } }),
      node('MaxPool', ['d'], ['m'], { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } }),
      node('Conv', ['m', 'w2'], ['y2'], conv3x3),
      node('Add', ['y2', 'm'], ['s']),
      node('Relu', ['s'], ['r']),
      // On axis 1: contiguous per image, so the one-image plan writes it in place and has a step less.
      node('Concat', ['m', 'r'], ['cat'], { axis: { i: 1 } }),
      node('GlobalAveragePool', ['cat'], ['g']),
      node('Flatten', ['g'], ['f']),
      node('Gemm', ['f', 'wf', 'bf'], ['out'], { transB: { i: 1 } }),
      ...(softmaxAxis0 ? [node('Softmax', ['out'], ['p'], { axis: { i: 0 } })] : []),
    ],
  });
}

const dir = mkdtempSync(join(tmpdir(), 'convnode-image-runs-'));
const files = { cnn: join(dir, 'cnn.onnx'), mixing: join(dir, 'mixing.onnx') };
writeFileSync(files.cnn, cnn());
writeFileSync(files.mixing, cnn(true));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  addon().setImageRunsMode(-1);
  addon().failImageRunForTest(-1);
});

const inputOf = (batch: number) => new Tensor([batch, 3, 12, 12], randomFloats(batch * 3 * 144, seededRandom(batch)));
const outputOf = async (model: OnnxModel, x: Tensor) => (await model.run({ x }))[model.outputNames[0]].data;

describe('image-parallel runs', () => {
  it('are on by default, one image per sub-batch, unless CONVNODE_IMAGE_PARALLEL says otherwise', () => {
    const env = process.env.CONVNODE_IMAGE_PARALLEL;
    const expected = env === '0' || env === 'off' ? 0 : env === 'share' ? 2 : 1;
    expect(addon().imageRunsMode()).toBe(expected);
    expect(() => addon().setImageRunsMode(3)).toThrow(/mode must be -1/);
  });

  /** Whether a run goes image-parallel (lib/onnx/plan.ts, imageRunsFor): the busiest thread within 1/8 of an even share. */
  const imageParallel = (batch: number, threads: number) => threads > 1 && batch / threads / Math.ceil(batch / threads) >= 0.875;

  it.each([2, 3, 8, 16])('give the op-by-op answers and the pure-JS answers at batch %i on 1, 2, 8 and 16 threads', async (batch) => {
    const model = await loadOnnx(files.cnn, { backend: 'native' });
    const oracle = await loadOnnx(files.cnn, { backend: 'js' });
    const x = inputOf(batch);
    const expected = await outputOf(oracle, x);
    for (const threads of [1, 2, 8, 16]) {
      setNumThreads(threads);
      addon().setImageRunsMode(0);
      const opByOp = await outputOf(model, x);
      expectClose(opByOp, expected, `op by op, ${threads} threads`, 1e-5);
      for (const mode of [1, 2]) {
        addon().setImageRunsMode(mode);
        const out = await outputOf(model, x);
        expectClose(out, expected, `mode ${mode}, ${threads} threads vs pure JS`, 1e-5);
        expectClose(out, opByOp, `mode ${mode}, ${threads} threads vs op by op`, 1e-5);
        // The same plan again (its slots recorded now) and runSync (op by op) agree too.
        expect(await outputOf(model, x)).toEqual(out);
        expectClose(model.runSync({ x })[model.outputNames[0]].data, expected, `runSync, ${threads} threads`, 1e-5);
      }
      // Which path ran: the test hook fails a sub-batch only inside an image-parallel run.
      addon().failImageRunForTest(0);
      if (imageParallel(batch, threads)) await expect(model.run({ x })).rejects.toThrow(BackendError);
      else await expect(outputOf(model, x)).resolves.toEqual(opByOp);
      addon().failImageRunForTest(-1);
    }
    // Memory: one sub-batch arena per thread that ran a share (one image each at mode 1).
    const slots = Math.max(0, ...[2, 8, 16].filter((t) => imageParallel(batch, t)));
    const perImage = model.peakActivationBytes([1, 3, 12, 12]);
    expect(model.imageRunBytes(x.shape)).toBeGreaterThanOrEqual(slots * perImage);
    if (slots === 0) expect(model.imageRunBytes(x.shape)).toBe(0);
    model.dispose();
  });

  it('fail the whole run with a BackendError naming the failed sub-batch, and the next run is right', async () => {
    const model = await loadOnnx(files.cnn, { backend: 'native' });
    const oracle = await loadOnnx(files.cnn, { backend: 'js' });
    const x = inputOf(4);
    setNumThreads(2);
    addon().setImageRunsMode(1);
    addon().failImageRunForTest(2);
    const error = await model.run({ x }).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as BackendError).code).toBe('ERR_CONVNODE_BACKEND');
    expect((error as Error).message).toMatch(/image run 2 failed/);
    addon().failImageRunForTest(-1);
    expectClose(await outputOf(model, x), await outputOf(oracle, x), 'after the failure', 1e-5);
    model.dispose();
  });

  it('never run a graph that mixes images (a Softmax over the batch axis) as sub-batches', async () => {
    const model = await loadOnnx(files.mixing, { backend: 'native' });
    const oracle = await loadOnnx(files.mixing, { backend: 'js' });
    const x = inputOf(4);
    setNumThreads(2);
    addon().setImageRunsMode(1);
    addon().failImageRunForTest(0);  // would throw if it ran image-parallel
    expectClose(await outputOf(model, x), await outputOf(oracle, x), 'softmax over the batch', 1e-5);
    expect(model.imageRunBytes(x.shape)).toBe(0);
    model.dispose();
  });

  it('keep the op-by-op path when the one-image plan cannot be recorded (a Concat it can place only in part)', async () => {
    // Concat(x, conv(x)) on axis 1: at one image conv(x) is written in place and x is copied by a
    // JS step, which a recording cannot hold; at batch 4 the Concat is one strided copy.
    const file = join(dir, 'partial-concat.onnx');
    writeFileSync(file, encodeModel({
      inputs: [{ name: 'x', shape: ['N', 3, 6, 6] }],
      outputs: [{ name: 'out' }],
      initializers: [floatTensor('w', [4, 3, 3, 3], randomFloats(108, random)), floatTensor('wf', [2, 7], randomFloats(14, random))],
      nodes: [
        node('Conv', ['x', 'w'], ['c'], conv3x3),
        node('Concat', ['x', 'c'], ['cat'], { axis: { i: 1 } }),
        node('GlobalAveragePool', ['cat'], ['g']),
        node('Flatten', ['g'], ['f']),
        node('Gemm', ['f', 'wf'], ['out'], { transB: { i: 1 } }),
      ],
    }));
    const model = await loadOnnx(file, { backend: 'native' });
    const oracle = await loadOnnx(file, { backend: 'js' });
    const x = new Tensor([4, 3, 6, 6], randomFloats(432, seededRandom(5)));
    setNumThreads(2);
    addon().setImageRunsMode(1);
    const expected = (await oracle.run({ x })).out.data;
    expectClose((await model.run({ x })).out.data, expected, 'partial concat', 1e-5);
    expect(model.imageRunBytes(x.shape)).toBe(0);
    model.dispose();
  });

  it('keep the op-by-op path when a step reads a constant computed from the batch size (Shape -> Gather -> Cast -> Add)', async () => {
    const file = join(dir, 'batch-constant.onnx');
    writeFileSync(file, encodeModel({
      inputs: [{ name: 'x', shape: ['N', 3, 6, 6] }],
      outputs: [{ name: 'out' }],
      initializers: [floatTensor('w', [4, 3, 3, 3], randomFloats(108, random)), floatTensor('wf', [2, 4], randomFloats(8, random)),
        intTensor('zero', [], [0])],
      nodes: [
        node('Shape', ['x'], ['s']),
        node('Gather', ['s', 'zero'], ['n']),
        node('Cast', ['n'], ['nf'], { to: { i: 1 } }),
        node('Conv', ['x', 'w'], ['c'], conv3x3),
        // (A pool between: a conv would take the Add into its epilogue, a step that is not recorded.)
        node('MaxPool', ['c'], ['mp'], { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } }),
        node('Add', ['mp', 'nf'], ['shifted']),
        node('GlobalAveragePool', ['shifted'], ['g']),
        node('Flatten', ['g'], ['f']),
        node('Gemm', ['f', 'wf'], ['out'], { transB: { i: 1 } }),
      ],
    }));
    const model = await loadOnnx(file, { backend: 'native' });
    const oracle = await loadOnnx(file, { backend: 'js' });
    const x = new Tensor([4, 3, 6, 6], randomFloats(432, seededRandom(6)));
    setNumThreads(2);
    addon().setImageRunsMode(1);
    addon().failImageRunForTest(0);  // would throw if it ran image-parallel
    expectClose((await model.run({ x })).out.data, (await oracle.run({ x })).out.data, 'batch-size constant', 1e-5);
    expect(model.imageRunBytes(x.shape)).toBe(0);
    model.dispose();
  });

  it('keep the op-by-op path when the weights, not the arithmetic, set the pace (a Linear of 36 MiB on 2,304 features)', async () => {
    // Image runs read every weight once per sub-batch: 4 sub-batches would stream the Gemm's
    // 9.4 M weights 4 times for ~0.1 M multiply-adds of conv per image (AlexNet's case, 2x slower).
    const file = join(dir, 'weight-bound.onnx');
    const features = 16 * 12 * 12;
    writeFileSync(file, encodeModel({
      inputs: [{ name: 'x', shape: ['N', 3, 12, 12] }],
      outputs: [{ name: 'out' }],
      initializers: [floatTensor('w', [16, 3, 3, 3], randomFloats(432, random)),
        floatTensor('wf', [4096, features], randomFloats(4096 * features, random))],
      nodes: [
        node('Conv', ['x', 'w'], ['c'], conv3x3),
        node('Flatten', ['c'], ['f']),
        node('Gemm', ['f', 'wf'], ['out'], { transB: { i: 1 } }),
      ],
    }));
    const model = await loadOnnx(file, { backend: 'native' });
    const oracle = await loadOnnx(file, { backend: 'js' });
    const x = inputOf(4);
    setNumThreads(2);
    addon().setImageRunsMode(1);
    addon().failImageRunForTest(0);  // would throw if it ran image-parallel
    expectClose(await outputOf(model, x), await outputOf(oracle, x), 'weight-bound model', 1e-4);
    expect(model.imageRunBytes(x.shape)).toBe(0);
    model.dispose();
    oracle.dispose();
  });

  it('survive dispose during a run (it finishes right or rejects with a DisposedError) and refuse runs after it', async () => {
    const oracle = await loadOnnx(files.cnn, { backend: 'js' });
    const x = inputOf(8);
    const expected = await outputOf(oracle, x);
    setNumThreads(2);
    addon().setImageRunsMode(1);
    for (let i = 0; i < 4; i++) {
      const model = await loadOnnx(files.cnn, { backend: 'native' });
      if (i % 2) await outputOf(model, x);  // slots recorded before the dispose, or not yet
      const running = outputOf(model, x);
      model.dispose();
      const result = await running.then((out) => out, (e: unknown) => e);
      if (result instanceof Float32Array) expectClose(result, expected, `run ${i} across dispose`, 1e-5);
      else expect(result).toBeInstanceOf(DisposedError);
      await expect(model.run({ x })).rejects.toThrow(DisposedError);
    }
  });
});
