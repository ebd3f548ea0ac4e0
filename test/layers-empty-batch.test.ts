/**
 * An empty batch (N = 0, as imagesToBatch returns when no image decodes) goes through every
 * layer and comes out as an empty tensor of the right shape, on every backend. The native
 * addon refuses zero-sized geometry, so before the layers skipped it, the same model threw a
 * code-less RangeError on 'native' and returned [0, 10] on 'js'.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  AvgPool2d,
  Conv2d,
  DepthwiseConv2d,
  GlobalAvgPool2d,
  GlobalMaxPool2d,
  InvertedResidual,
  Layer,
  Linear,
  MaxPool2d,
  Tensor,
  getBackend,
  lenet5,
  setBackend,
} from '../lib/index.js';
import { availableBackends } from './helpers/backends.js';

const initialBackend = getBackend();
afterAll(() => setBackend(initialBackend));

const cases: Array<[string, () => Layer, number[], number[]]> = [
  ['Conv2d', () => new Conv2d({ inChannels: 3, outChannels: 4, kernelSize: 3, padding: 1 }), [0, 3, 5, 5], [0, 4, 5, 5]],
  ['DepthwiseConv2d', () => new DepthwiseConv2d({ channels: 3, kernelSize: 3, stride: 2 }), [0, 3, 7, 7], [0, 3, 3, 3]],
  ['InvertedResidual', () => new InvertedResidual({ inChannels: 4, outChannels: 4, expandRatio: 2, stride: 1 }), [0, 4, 6, 6], [0, 4, 6, 6]],
  ['MaxPool2d', () => new MaxPool2d({ kernelSize: 2 }), [0, 2, 4, 4], [0, 2, 2, 2]],
  ['MaxPool2d, no channels', () => new MaxPool2d({ kernelSize: 2 }), [1, 0, 4, 4], [1, 0, 2, 2]],
  ['AvgPool2d', () => new AvgPool2d({ kernelSize: 3, stride: 2, padding: 1 }), [0, 2, 5, 5], [0, 2, 3, 3]],
  ['GlobalAvgPool2d', () => new GlobalAvgPool2d(), [0, 2, 4, 4], [0, 2, 1, 1]],
  ['GlobalMaxPool2d', () => new GlobalMaxPool2d(), [0, 2, 4, 4], [0, 2, 1, 1]],
  ['Linear', () => new Linear({ inFeatures: 3, outFeatures: 2, activation: 'relu' }), [0, 3], [0, 2]],
  ['LeNet-5', () => lenet5(), [0, 3, 32, 32], [0, 10]],
];

for (const backend of availableBackends()) {
  describe(`an empty batch on the ${backend} backend`, () => {
    for (const [label, make, inShape, outShape] of cases) {
      it(`${label}: ${inShape.join('x')} -> ${outShape.join('x')}, sync and async`, async () => {
        setBackend(backend);
        const layer = make();
        expect(layer.outputShape(inShape)).toEqual(outShape);
        const sync = layer.forwardSync(Tensor.zeros(inShape));
        expect(sync.shape).toEqual(outShape);
        expect(sync.size).toBe(0);
        const async = await layer.forward(Tensor.zeros(inShape));
        expect(async.shape).toEqual(outShape);
        expect(async.size).toBe(0);
      });
    }
  });
}
