/**
 * Miniatures of the model-zoo architectures (bench/zoo.mjs), exported by PyTorch with
 * scripts/onnx-fixtures/export_zoo_fixtures.py, against onnxruntime-node on the same input, at
 * batch 1 and 3, on every backend that loads:
 *   max |convnode - onnxruntime| <= 1e-4 x max |onnxruntime output|.
 * The scale is the whole output's, as the zoo bench reports it: logits of random nets differ in
 * size from model to model, and a per-element relative rule would be loose on large outputs and
 * meaningless near zero.
 */
import * as ort from 'onnxruntime-node';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { BackendName } from '../lib/backends/backend.js';
import { backendByName } from '../lib/backends/index.js';
import { loadOnnx } from '../lib/onnx/index.js';
import { Tensor } from '../lib/tensor.js';
import { randomInput } from './helpers/numeric.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/zoo/', import.meta.url));
const TOLERANCE = 1e-4;

/** Fixture -> what of the full architecture it carries (the test titles say it). */
const ZOO_FIXTURES: Record<string, string> = {
  efficientnet_b0_mini: 'MBConv, SE, SiLU as x * Sigmoid(x), 5x5 depthwise',
  efficientnet_v2_s_mini: 'Fused-MBConv and MBConv with SE',
  mobilenet_v3_small_mini: 'HardSwish, SE with HardSigmoid',
  mobilenet_v3_large_mini: 'HardSwish, SE with HardSigmoid, 5x5 depthwise',
  mnasnet_mini: '3x3 and 5x5 inverted residuals, ReduceMean head',
  densenet_mini: 'BN-ReLU pre-activation, dense concat, transitions',
  googlenet_mini: 'Inception branches, ceil-mode pools',
  inception_v3_mini: 'Inception A-E, factorised 1x7 / 7x1 convs, Pad + AveragePool',
  regnet_x_mini: 'grouped 3x3 bottlenecks',
  regnet_y_mini: 'grouped 3x3 bottlenecks, SE with ReLU / Sigmoid',
  resnext_mini: 'grouped bottlenecks (groups of 4-16 channels)',
  resnet50_mini: 'bottlenecks with projection shortcuts',
  alexnet_mini: '11x11/4 stem, adaptive 6x6 pool, three Linear',
  shufflenet_v2_mini: 'channel split and shuffle',
};

function availableBackends(): BackendName[] {
  const names: BackendName[] = ['js'];
  try {
    backendByName('native');
    names.push('native');
  } catch (error) {
    console.log(`onnx zoo tests: skipping the native backend (${(error as Error).message})`);
  }
  return names;
}

/** max |actual - expected| and max |expected| over the whole output. */
function differenceAndRange(actual: Float32Array, expected: Float32Array): { worst: number; range: number } {
  let worst = 0;
  let range = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
    range = Math.max(range, Math.abs(expected[i]));
  }
  return { worst, range };
}

describe.each(availableBackends())('zoo miniatures vs onnxruntime-node (%s backend)', (backend) => {
  describe.each(Object.entries(ZOO_FIXTURES))('%s (%s)', (name) => {
    it.each([1, 3])('matches at batch %i', async (batch) => {
      const path = `${FIXTURES}${name}.onnx`;
      const session = await ort.InferenceSession.create(path, { intraOpNumThreads: 1 });
      const imageShape = session.inputMetadata[0].isTensor ? session.inputMetadata[0].shape.slice(1) : [];
      expect(imageShape.every((d) => typeof d === 'number' && d > 0), `${name}: fixed C x H x W`).toBe(true);
      const shape = [batch, ...(imageShape as number[])];
      const data = randomInput(shape, 29 + batch);
      const reference = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', data.slice(), shape) });
      const expected = reference[session.outputNames[0]];
      const expectedData = expected.data as Float32Array;

      const model = await loadOnnx(path, { backend });
      const output = (await model.run({ [model.inputNames[0]]: new Tensor(shape, data) }))[model.outputNames[0]];

      expect(output.shape).toEqual(expected.dims);
      const { worst, range } = differenceAndRange(output.data, expectedData);
      // A constant or vanishing output would make the tolerance prove nothing.
      expect(new Set(expectedData).size).toBeGreaterThan(batch);
      expect(range).toBeGreaterThan(1e-2);
      expect(worst / range, `${name} batch ${batch}: max |diff| ${worst} vs max |output| ${range}`).toBeLessThanOrEqual(TOLERANCE);
    });
  });
});
