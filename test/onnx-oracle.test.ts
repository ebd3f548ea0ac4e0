/**
 * Every committed fixture (exported by PyTorch, see scripts/onnx-fixtures/export_fixtures.py)
 * against onnxruntime-node, at batch 1 and 3, on every backend that loads:
 * max |convnode - onnxruntime| <= 1e-4 * max(1, |reference|).
 */
import * as ort from 'onnxruntime-node';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { availableBackends } from './helpers/backends.js';
import { loadOnnx } from '../lib/onnx/index.js';
import { Tensor } from '../lib/tensor.js';
import { randomInput, worstRelativeError } from './helpers/numeric.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/onnx/', import.meta.url));

const MODELS: Record<string, readonly number[]> = {
  lenet5: [3, 32, 32],
  resnet_small: [3, 32, 32],
  mobilenet_v2_small: [3, 64, 64],
  squeezenet_small: [3, 48, 48],
  batchnorm_unfolded: [3, 12, 12],
  se_hardswish: [3, 16, 16],
  se_hardswish_opset13: [3, 16, 16],
  opset9_flatten: [1, 24, 24],
  auto_pad: [2, 11, 9],
};




describe.each(availableBackends())('ONNX fixtures vs onnxruntime-node (%s backend)', (backend) => {
  describe.each(Object.entries(MODELS))('%s', (name, inputShape) => {
    it.each([1, 3])('matches at batch %i (run and runSync)', async (batch) => {
      const path = `${FIXTURES}${name}.onnx`;
      const shape = [batch, ...inputShape];
      const data = randomInput(shape, 17 + batch);
      const session = await ort.InferenceSession.create(path, { intraOpNumThreads: 1 });
      const reference = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', data.slice(), shape) });
      const expected = reference[session.outputNames[0]];

      const model = await loadOnnx(path, { backend });
      expect(model.inputNames).toEqual(session.inputNames);
      expect(model.outputNames).toEqual(session.outputNames);
      const feeds = { [model.inputNames[0]]: new Tensor(shape, data) };
      const asyncOut = (await model.run(feeds))[model.outputNames[0]];
      const syncOut = model.runSync(feeds)[model.outputNames[0]];

      expect(asyncOut.shape).toEqual(expected.dims);
      const expectedData = expected.data as Float32Array;
      expect(worstRelativeError(asyncOut.data, expectedData)).toBeLessThanOrEqual(1e-4);
      expect(worstRelativeError(syncOut.data, expectedData)).toBeLessThanOrEqual(1e-4);
      // The output must be neither constant nor tiny, or a 1e-4 tolerance would prove little.
      expect(new Set(expectedData).size).toBeGreaterThan(1);
      expect(Math.max(...Array.from(expectedData, Math.abs))).toBeGreaterThan(1e-2);
    });
  });
});
