/**
 * Layer options are checked by name and type: a misspelt or misplaced option (PyTorch's
 * `kernel_size`, Keras's `strides`, `dilation` on AvgPool2d) used to be ignored, so the layer
 * silently ran with the default; a string where a boolean belongs ('false') was truthy.
 */
import { describe, expect, it } from 'vitest';
import {
  AvgPool2d,
  BatchNorm2d,
  Conv2d,
  DepthwiseConv2d,
  Flatten,
  GlobalAvgPool2d,
  GlobalMaxPool2d,
  HardSwish,
  InvertedResidual,
  LeakyReLU,
  Linear,
  MaxPool2d,
  ParameterError,
  ReLU,
  ReLU6,
  SeparableConv2d,
  Sigmoid,
  Softmax,
  Tensor,
  lenet5,
} from '../lib/index.js';

type Make = (extra: Record<string, unknown>) => unknown;

const layers: Array<[string, Make, string]> = [
  ['Conv2d', (o) => new Conv2d({ inChannels: 1, outChannels: 2, kernelSize: 3, ...o } as never), 'strides'],
  ['DepthwiseConv2d', (o) => new DepthwiseConv2d({ channels: 2, kernelSize: 3, ...o } as never), 'channelMultiplier'],
  ['SeparableConv2d', (o) => new SeparableConv2d({ inChannels: 2, outChannels: 4, ...o } as never), 'groups'],
  ['InvertedResidual', (o) => new InvertedResidual({ inChannels: 2, outChannels: 2, ...o } as never), 'expansion'],
  ['MaxPool2d', (o) => new MaxPool2d({ kernelSize: 2, ...o } as never), 'countIncludePad'],
  ['AvgPool2d', (o) => new AvgPool2d({ kernelSize: 2, ...o } as never), 'dilation'],
  ['Linear', (o) => new Linear({ inFeatures: 3, outFeatures: 2, ...o } as never), 'in_features'],
  ['BatchNorm2d', (o) => new BatchNorm2d({ numFeatures: 2, ...o } as never), 'momentum'],
  ['Flatten', (o) => new Flatten({ ...o } as never), 'start_dim'],
  ['LeakyReLU', (o) => new LeakyReLU({ ...o } as never), 'alpha'],
  ['Softmax', (o) => new Softmax({ ...o } as never), 'axis'],
  ['lenet5', (o) => lenet5({ ...o } as never), 'classes'],
  ['ReLU', (o) => new ReLU({ ...o } as never), 'inplace'],
  ['ReLU6', (o) => new ReLU6({ ...o } as never), 'inplace'],
  ['Sigmoid', (o) => new Sigmoid({ ...o } as never), 'beta'],
  ['HardSwish', (o) => new HardSwish({ ...o } as never), 'inplace'],
  ['GlobalAvgPool2d', (o) => new GlobalAvgPool2d({ ...o } as never), 'keepdims'],
  ['GlobalMaxPool2d', (o) => new GlobalMaxPool2d({ ...o } as never), 'keepdims'],
];

describe('layer options', () => {
  for (const [type, make, wrong] of layers) {
    it(`${type} rejects the unknown option '${wrong}', naming it and the layer`, () => {
      expect(() => make({ [wrong]: 2 })).toThrow(ParameterError);
      expect(() => make({ [wrong]: 2 })).toThrow(new RegExp(`^${type}: unknown option '${wrong}'`));
      // The valid options alone still build.
      expect(() => make({})).not.toThrow();
    });
  }

  it('names the layer by its name and lists the options it takes', () => {
    expect(() => new Conv2d({ name: 'conv1', inChannels: 1, outChannels: 2, kernel_size: 3 } as never)).toThrow(
      "Conv2d 'conv1': unknown option 'kernel_size' (Conv2d takes inChannels, outChannels, kernelSize, stride, padding, dilation, groups, bias, activation, maxPackedBytes, name)",
    );
  });

  it('checks maxPackedBytes, and a layer under it gives the same answer on a smaller form', () => {
    expect(() => new Conv2d({ name: 'c', inChannels: 8, outChannels: 8, kernelSize: 3, maxPackedBytes: -1 })).toThrow(
      "Conv2d 'c': maxPackedBytes must be a non-negative number of bytes, got -1",
    );
    const free = new Conv2d({ inChannels: 8, outChannels: 8, kernelSize: 3, padding: 1 });
    const tight = new Conv2d({ inChannels: 8, outChannels: 8, kernelSize: 3, padding: 1, maxPackedBytes: 0 });
    tight.weight = free.weight;
    tight.bias = free.bias;
    const x = new Tensor([1, 8, 6, 6], new Float32Array(288).map((_, i) => Math.sin(i)));
    const a = free.forwardSync(x);
    const b = tight.forwardSync(x);
    for (let i = 0; i < a.size; i++) expect(Math.abs(a.data[i] - b.data[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(a.data[i])));
  });

  it('rejects a non-boolean where a boolean belongs, instead of reading it as truthy', () => {
    expect(() => new Conv2d({ inChannels: 1, outChannels: 2, kernelSize: 3, bias: 'false' } as never)).toThrow(
      "Conv2d: bias must be true or false, got \"false\"",
    );
    expect(() => new Linear({ inFeatures: 3, outFeatures: 2, bias: 0 } as never)).toThrow(/^Linear: bias must be true or false, got 0$/);
    expect(() => new MaxPool2d({ kernelSize: 2, ceilMode: 'yes' } as never)).toThrow(/^MaxPool2d: ceilMode must be true or false/);
    expect(() => new AvgPool2d({ kernelSize: 2, countIncludePad: 1 } as never)).toThrow(/^AvgPool2d: countIncludePad must be true or false/);
  });

  it('keeps the behaviour of valid boolean options', () => {
    expect(new Conv2d({ inChannels: 1, outChannels: 2, kernelSize: 3, bias: false }).bias).toBeNull();
    expect(new Linear({ inFeatures: 3, outFeatures: 2 }).bias?.shape).toEqual([2]);
    // 5x5 with 2x2 windows: floor gives 2x2, ceilMode 3x3.
    expect(new MaxPool2d({ kernelSize: 2, ceilMode: true }).outputShape([1, 1, 5, 5])).toEqual([1, 1, 3, 3]);
    expect(new MaxPool2d({ kernelSize: 2, ceilMode: false }).outputShape([1, 1, 5, 5])).toEqual([1, 1, 2, 2]);
    // A 3x3 window with pad 1 over ones: the corner mean is 4/9 counting the padding, 1 without.
    const ones = Tensor.full([1, 1, 3, 3], 1);
    expect(new AvgPool2d({ kernelSize: 3, stride: 1, padding: 1 }).forwardSync(ones).data[0]).toBeCloseTo(4 / 9, 6);
    expect(new AvgPool2d({ kernelSize: 3, stride: 1, padding: 1, countIncludePad: false }).forwardSync(ones).data[0]).toBe(1);
  });
});
