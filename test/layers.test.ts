import { afterAll, describe, expect, it } from 'vitest';
import {
  AvgPool2d,
  BatchNorm2d,
  Conv2d,
  Flatten,
  GlobalAvgPool2d,
  GlobalMaxPool2d,
  InvertedResidual,
  LeakyReLU,
  Linear,
  MaxPool2d,
  ReLU,
  ReLU6,
  Sequential,
  Softmax,
  Tensor,
  formatSummary,
  getBackend,
  lenet5,
  setBackend,
  summarize,
} from '../lib/index.js';
import { availableBackends } from './helpers/backends.js';

const initialBackend = getBackend();
afterAll(() => setBackend(initialBackend));

function random(shape: number[], seed = 1): Tensor {
  const t = new Tensor(shape);
  let s = seed;
  for (let i = 0; i < t.size; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    t.data[i] = s / 2 ** 31 - 1;
  }
  return t;
}

function maxAbsDiff(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape);
  let d = 0;
  for (let i = 0; i < a.size; i++) d = Math.max(d, Math.abs(a.data[i] - b.data[i]));
  return d;
}

describe('padding modes through the shared geometry', () => {
  it("'same' keeps H x W at stride 1 for odd and even kernels (extra pixel bottom/right)", () => {
    for (const k of [1, 2, 3, 4, 5, 7]) {
      const conv = new Conv2d({ inChannels: 1, outChannels: 1, kernelSize: k, padding: 'same' });
      expect(conv.outputShape([1, 1, 9, 10])).toEqual([1, 1, 9, 10]);
      const pads = conv.geometry([1, 1, 9, 10]).pads;
      expect(pads.top + pads.bottom).toBe(k - 1);
      expect(pads.bottom - pads.top).toBe((k - 1) % 2);
    }
  });

  it("'same' at stride 2 gives ceil(W / 2); 'valid' shrinks by K - 1; 'full' grows by K - 1", () => {
    const same2 = new Conv2d({ inChannels: 1, outChannels: 1, kernelSize: 3, stride: 2, padding: 'same' });
    expect(same2.outputShape([1, 1, 7, 8])).toEqual([1, 1, 4, 4]);
    expect(new Conv2d({ inChannels: 1, outChannels: 1, kernelSize: 3, padding: 'valid' }).outputShape([1, 1, 7, 7])).toEqual([1, 1, 5, 5]);
    expect(new Conv2d({ inChannels: 1, outChannels: 1, kernelSize: 3, padding: 'full' }).outputShape([1, 1, 7, 7])).toEqual([1, 1, 9, 9]);
  });

  it('asymmetric [top, left, bottom, right] padding', () => {
    const conv = new Conv2d({ inChannels: 1, outChannels: 1, kernelSize: 3, padding: [0, 1, 2, 3] });
    expect(conv.outputShape([1, 1, 5, 5])).toEqual([1, 1, 5, 7]);
  });
});

describe('bad input gives errors that name the layer and the rule', () => {
  it('wrong channel count names the layer, the expected and the actual shape', () => {
    const conv = new Conv2d({ name: 'conv1', inChannels: 3, outChannels: 8, kernelSize: 3 });
    expect(() => conv.forwardSync(Tensor.zeros([1, 4, 8, 8]))).toThrow(
      "Conv2d 'conv1': expected input of shape N x 3 x H x W (3 channels), got [1, 4, 8, 8] with 4 channels",
    );
    expect(() => conv.forwardSync(Tensor.zeros([3, 8, 8]))).toThrow(/expected input of shape N x 3 x H x W, got \[3, 8, 8\] \(rank 3\)/);
  });

  it('a kernel larger than the padded input names the numbers', () => {
    const conv = new Conv2d({ name: 'conv2', inChannels: 1, outChannels: 1, kernelSize: 5, dilation: 2 });
    expect(() => conv.outputShape([1, 1, 7, 20])).toThrow(
      "Conv2d 'conv2': kernelSize 5 with dilation 2 spans 9 pixels but the padded input is 7 high (height 7 + padding 0)",
    );
  });

  it('groups must divide both channel counts', () => {
    expect(() => new Conv2d({ inChannels: 6, outChannels: 8, kernelSize: 3, groups: 4 })).toThrow(
      'Conv2d: groups 4 must divide both inChannels 6 and outChannels 8',
    );
  });

  it('zero, negative and fractional sizes are rejected with the option name', () => {
    expect(() => new Conv2d({ inChannels: 0, outChannels: 1, kernelSize: 3 })).toThrow(/inChannels must be a positive integer, got 0/);
    expect(() => new Conv2d({ inChannels: 1, outChannels: 1, kernelSize: 3, stride: 0 })).toThrow(/stride must be a positive integer/);
    expect(() => new Conv2d({ inChannels: 1, outChannels: 1, kernelSize: [3, 2.5] })).toThrow(/kernelSize must be a positive integer/);
    expect(() => new Conv2d({ inChannels: 1, outChannels: 1, kernelSize: 3, padding: -1 })).toThrow(/padding must hold non-negative integers/);
    expect(() => new Conv2d({ inChannels: 1, outChannels: 1, kernelSize: 3, padding: 'half' as never })).toThrow(/padding must be/);
    expect(() => new Linear({ inFeatures: 4, outFeatures: -2 })).toThrow(/outFeatures must be a positive integer, got -2/);
    expect(() => new MaxPool2d({ kernelSize: 2, padding: 2 })).toThrow(/padding 2 must be at most half the window/);
  });

  it('weights of the wrong shape are rejected', () => {
    const conv = new Conv2d({ inChannels: 2, outChannels: 4, kernelSize: 3 });
    expect(() => (conv.weight = Tensor.zeros([4, 2, 3, 2]))).toThrow(/weight must have shape 4x2x3x3, got 4x2x3x2/);
    expect(() => (conv.bias = Tensor.zeros([3]))).toThrow(/bias must have shape 4, got 3/);
  });

  it('Linear on an unflattened input hints at Flatten', () => {
    expect(() => new Linear({ name: 'fc1', inFeatures: 12, outFeatures: 2 }).forwardSync(Tensor.zeros([1, 3, 2, 2]))).toThrow(
      "Linear 'fc1': expected input of shape N x 12, got [1, 3, 2, 2] (add a Flatten before it)",
    );
  });

  it('a non-Tensor input, and a plain object posing as one, are rejected', () => {
    const relu = new ReLU();
    expect(() => relu.forwardSync([1, 2] as never)).toThrow(/input must be a Tensor/);
    const fake = Object.create(Tensor.prototype, { shape: { value: [1, 1, 2, 2] }, data: { value: new Float32Array(3) } });
    expect(() => new Conv2d({ inChannels: 1, outChannels: 1, kernelSize: 1 }).forwardSync(fake)).toThrow(
      /input data holds 3 elements but its shape 1x1x2x2 needs 4/,
    );
  });
});

describe('the planner', () => {
  it('warns when a stride does not divide (W - K + 2P) exactly, and still floors', () => {
    const conv = new Conv2d({ name: 'c', inChannels: 1, outChannels: 1, kernelSize: 3, stride: 2 });
    const s = summarize(conv, [1, 1, 8, 8]);
    expect(s.outputShape).toEqual([1, 1, 3, 3]);
    expect(s.warnings).toEqual([
      "Conv2d 'c': height: (8 - 3 + 0) = 5 is not divisible by stride 2, so the last 1 row(s)/column(s) are never covered; width: (8 - 3 + 0) = 5 is not divisible by stride 2, so the last 1 row(s)/column(s) are never covered",
    ]);
    expect(summarize(conv, [1, 1, 9, 9]).warnings).toEqual([]);
  });

  it('formats LeNet-5 as an aligned table with totals', () => {
    const text = formatSummary(summarize(lenet5(), [1, 3, 32, 32]));
    expect(text).toMatch(/conv1\s+Conv2d\s+1x6x28x28\s+456\s+352,800\s+5\s+1/);
    expect(text).toMatch(/pool2\s+MaxPool2d\s+1x16x5x5\s+0\s+0\s+16\s+4/);
    expect(text).toMatch(/fc1\s+Linear\s+1x120\s+48,120\s+48,000\s+-\s+-/);
    expect(text).toContain('Total params:        62,006');
  });

  it('reports activation memory: per layer, sum, and the peak of input + output', () => {
    const s = summarize(lenet5(), [2, 3, 32, 32]);
    expect(s.layers[0].activationBytes).toBe(2 * 6 * 28 * 28 * 4);
    expect(s.totals.inputBytes).toBe(2 * 3 * 32 * 32 * 4);
    // conv1 (6x28x28) and relu1 (its copy) are alive together: the largest pair in LeNet-5.
    expect(s.totals.peakActivationBytes).toBe(2 * s.layers[0].activationBytes);
    expect(s.totals.activationBytes).toBe(s.layers.reduce((sum, r) => sum + r.activationBytes, 0));
  });

  it('formatSummary refuses anything but a summary', () => {
    expect(() => formatSummary(null as never)).toThrow('formatSummary: summary must be what summarize(model, inputShape) returned');
    expect(() => formatSummary({ layers: 3 } as never)).toThrow(/summary must be what summarize/);
  });

  it('global pooling covers the whole map in the receptive field', () => {
    const net = new Sequential([new Conv2d({ inChannels: 1, outChannels: 2, kernelSize: 3 }), new GlobalAvgPool2d()]);
    const s = summarize(net, [1, 1, 10, 10]);
    expect(s.layers[1].receptiveField).toEqual([10, 10]);
    expect(s.layers[1].outputShape).toEqual([1, 2, 1, 1]);
  });
});

describe.each(availableBackends())('layers on the %s backend', (backend) => {
  it('Sequential fuses an activation into the conv / linear epilogue with the same result as running it apart', async () => {
    setBackend(backend);
    const conv = new Conv2d({ inChannels: 3, outChannels: 5, kernelSize: 3, padding: 1 });
    const relu6 = new ReLU6();
    const x = random([2, 3, 7, 9], 3).reshape([2, 3, 7, 9]);
    for (let i = 0; i < x.size; i++) x.data[i] *= 20;
    const apart = relu6.forwardSync(conv.forwardSync(x));
    const fused = await new Sequential([conv, relu6]).forward(x);
    expect(maxAbsDiff(apart, fused)).toBeLessThan(1e-4);
    expect(Math.max(...fused.data)).toBeLessThanOrEqual(6);
    expect(Math.min(...fused.data)).toBeGreaterThanOrEqual(0);
  });

  it('InvertedResidual adds its input through the fused shortcut', async () => {
    setBackend(backend);
    const block = new InvertedResidual({ inChannels: 4, outChannels: 4, expandRatio: 3 });
    expect(block.useShortcut).toBe(true);
    const x = random([2, 4, 6, 6], 5);
    const [expand, depthwise, project] = block.layers as Conv2d[];
    const body = project.forwardSync(depthwise.forwardSync(expand.forwardSync(x)));
    const expected = new Tensor(body.shape, body.data.map((v, i) => v + x.data[i]));
    expect(maxAbsDiff(await block.forward(x), expected)).toBeLessThan(1e-4);
    expect(maxAbsDiff(block.forwardSync(x), expected)).toBeLessThan(1e-4);
    expect(new InvertedResidual({ inChannels: 4, outChannels: 8, stride: 2 }).useShortcut).toBe(false);
  });

  it('pooling, flatten, linear, softmax, batchnorm compute hand-checked values', async () => {
    setBackend(backend);
    const x = Tensor.from([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]]);
    expect((await new AvgPool2d({ kernelSize: 2, stride: 1 }).forward(x)).toArray()).toEqual([[[[3, 4], [6, 7]]]]);
    // countIncludePad: the corner window holds 1 real cell and 3 padded zeros.
    const padded = await new AvgPool2d({ kernelSize: 2, stride: 2, padding: 1 }).forward(x);
    expect(padded.data[0]).toBeCloseTo(0.25);
    const real = await new AvgPool2d({ kernelSize: 2, stride: 2, padding: 1, countIncludePad: false }).forward(x);
    expect(real.data[0]).toBeCloseTo(1);
    expect(Array.from((await new GlobalMaxPool2d().forward(x)).data)).toEqual([9]);
    expect(Array.from((await new GlobalAvgPool2d().forward(x)).data)).toEqual([5]);
    expect((await new MaxPool2d({ kernelSize: 2, stride: 2, ceilMode: true }).forward(x)).toArray()).toEqual([[[[5, 6], [8, 9]]]]);

    const flat = new Flatten().forwardSync(x);
    expect(flat.shape).toEqual([1, 9]);
    const fc = new Linear({ inFeatures: 9, outFeatures: 2 });
    fc.weight = new Tensor([2, 9], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, -1]);
    fc.bias = Tensor.from([0.5, 0]);
    expect(Array.from((await fc.forward(flat)).data)).toEqual([45.5, -8]);

    const probs = new Softmax().forwardSync(Tensor.from([[1, 2, 3], [1000, 1000, 1000]]));
    const e = [Math.exp(-2), Math.exp(-1), 1];
    const z = e[0] + e[1] + e[2];
    expect(Array.from(probs.data.slice(0, 3))).toEqual(e.map((v) => Math.fround(v / z)));
    expect(Array.from(probs.data.slice(3))).toEqual([1 / 3, 1 / 3, 1 / 3].map(Math.fround));

    const bn = new BatchNorm2d({ numFeatures: 1 });
    bn.runningMean.data[0] = 5;
    bn.runningVar.data[0] = 4 - 1e-5;
    bn.weight.data[0] = 3;
    bn.bias.data[0] = 1;
    expect(Array.from(bn.forwardSync(x).data.slice(0, 3))).toEqual([-5, -3.5, -2].map(Math.fround));

    const leaky = new LeakyReLU({ negativeSlope: 0.1 }).forwardSync(Tensor.from([-10, 0, 10]));
    expect(Array.from(leaky.data)).toEqual([-1, 0, 10]);
  });

  it('forward and forwardSync agree on LeNet-5 with a batch', async () => {
    setBackend(backend);
    const net = lenet5();
    const x = random([3, 3, 32, 32], 9);
    const a = await net.forward(x);
    const b = net.forwardSync(x);
    expect(a.shape).toEqual([3, 10]);
    expect(maxAbsDiff(a, b)).toBe(0);
  });
});

describe('summaries of loaded ONNX graphs', () => {
  it('use the memory plan for the peak, which a branching ResNet needs', async () => {
    const { loadOnnx } = await import('../lib/index.js');
    const model = await loadOnnx(new URL('./fixtures/onnx/resnet_small.onnx', import.meta.url).pathname);
    const s = summarize(model, [2, 3, 32, 32]);
    expect(s.totals.peakActivationBytes).toBe(model.peakActivationBytes([2, 3, 32, 32]));
    expect(s.totals.peakActivationBytes).toBeLessThan(s.totals.activationBytes);
    expect(s.totals.params).toBe(44_090);
  });
});
