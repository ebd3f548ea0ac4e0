/**
 * A model's async run on the native backend is one native job (lib/onnx/plan.ts run,
 * native/napi/async_job.h batches): every step of the zoo miniatures (squeeze-and-excitation
 * gates, ShuffleNet's Transpose / Split / Concat, DenseNet's concats at batch 3 included) is
 * queued, and the queued calls of a run go to one libuv job. Counted with async_hooks: each
 * libuv job the addon queues is one 'convnode:forward' async resource. The outputs must equal
 * runSync's (which calls each kernel in turn on this thread), bit for bit, at 1, 2, 8 and 16
 * threads, and match the 1-thread output within float tolerance (the split changes no sum's
 * order today, but the rule here is only what a user can rely on).
 */
import { createHook } from 'node:async_hooks';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getNumThreads, loadNativeBackend, setNumThreads } from '../lib/backends/native.js';
import { loadOnnx } from '../lib/onnx/index.js';
import { Tensor } from '../lib/tensor.js';
import { expectClose, randomInput } from './helpers/numeric.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/zoo/', import.meta.url));
const MODELS = [
  'mobilenet_v3_small_mini', 'mobilenet_v3_large_mini', 'efficientnet_b0_mini', 'shufflenet_v2_mini', 'densenet_mini',
  'mnasnet_mini', 'regnet_y_mini', 'googlenet_mini', 'inception_v3_mini', 'resnext_mini',
];

const nativeLoaded = !(loadNativeBackend() instanceof Error);
if (!nativeLoaded && process.env.CONVNODE_REQUIRE_NATIVE === '1') throw loadNativeBackend() as Error;

let jobs = 0;
const hook = createHook({
  init(_id, type) {
    if (type === 'convnode:forward') jobs++;
  },
});
let threadsBefore = 1;
beforeAll(() => {
  if (!nativeLoaded) return;
  threadsBefore = getNumThreads();
  hook.enable();
});
afterAll(() => {
  hook.disable();
  if (nativeLoaded) setNumThreads(threadsBefore);
});

describe.skipIf(!nativeLoaded)('a native model run is one job', () => {
  for (const name of MODELS) {
    it(`${name}: one libuv job per run at batch 1 and 3, outputs equal runSync's at 1, 2, 8 and 16 threads`, async () => {
      const model = await loadOnnx(`${FIXTURES}${name}.onnx`, { backend: 'native' });
      for (const batch of [1, 3]) {
        const shape = [batch, ...(model.inputShapes[0]!.slice(1) as number[])];
        const feeds = { [model.inputNames[0]]: new Tensor(shape, randomInput(shape, 7 + batch)) };
        let reference: Float32Array | undefined;
        for (const threads of [1, 2, 8, 16]) {
          setNumThreads(threads);
          jobs = 0;
          const ran = (await model.run(feeds))[model.outputNames[0]].data;
          expect(jobs, `${name} batch ${batch} threads ${threads}: libuv jobs in one run`).toBe(1);
          const inline = model.runSync(feeds)[model.outputNames[0]].data;
          expect(Array.from(ran), `${name} batch ${batch} threads ${threads}: run vs runSync`).toEqual(Array.from(inline));
          if (reference) expectClose(ran, reference, `${name} batch ${batch} threads ${threads} vs 1 thread`, 1e-5);
          else reference = ran;
        }
      }
    });
  }

  it('copies each run\'s own input in: consecutive runs on one arena give each input\'s output', async () => {
    setNumThreads(2);
    // The first run records the arena's steps; later runs replay them on a copy of their input.
    const model = await loadOnnx(`${FIXTURES}mobilenet_v3_small_mini.onnx`, { backend: 'native', maxConcurrentRuns: 1 });
    const shape = [2, ...(model.inputShapes[0]!.slice(1) as number[])];
    const outputs: Float32Array[] = [];
    for (const seed of [1, 2, 3, 1]) {
      const feeds = { [model.inputNames[0]]: new Tensor(shape, randomInput(shape, seed)) };
      const ran = (await model.run(feeds))[model.outputNames[0]].data;
      expect(Array.from(ran), `seed ${seed}`).toEqual(Array.from(model.runSync(feeds)[model.outputNames[0]].data));
      outputs.push(ran);
    }
    expect(Array.from(outputs[0])).not.toEqual(Array.from(outputs[1]));
    expect(Array.from(outputs[3])).toEqual(Array.from(outputs[0]));
    // Each run returns arrays of its own: the next run does not overwrite them.
    expect(outputs[0]).not.toBe(outputs[3]);
  });

  it('runs concurrent runs of one model on their own arenas, each still one job', async () => {
    setNumThreads(2);
    const model = await loadOnnx(`${FIXTURES}shufflenet_v2_mini.onnx`, { backend: 'native' });
    const shape = [1, ...(model.inputShapes[0]!.slice(1) as number[])];
    const inputs = [1, 2, 3].map((seed) => new Tensor(shape, randomInput(shape, seed)));
    const expected = inputs.map((t) => model.runSync({ [model.inputNames[0]]: t })[model.outputNames[0]].data);
    jobs = 0;
    const results = await Promise.all(inputs.map((t) => model.run({ [model.inputNames[0]]: t })));
    expect(jobs).toBe(3);
    results.forEach((r, i) => expect(Array.from(r[model.outputNames[0]].data)).toEqual(Array.from(expected[i])));
  });
});
