// The lecture's worked examples, exactly, on every backend this machine has.
import { afterAll, describe, expect, it } from 'vitest';
import {
  Conv2d,
  DepthwiseConv2d,
  MaxPool2d,
  SeparableConv2d,
  Sequential,
  Tensor,
  getBackend,
  lenet5,
  nextReceptiveField,
  outputSize,
  setBackend,
  summarize,
} from '../lib/index.js';
import { availableBackends } from './helpers/backends.js';

const initialBackend = getBackend();
afterAll(() => setBackend(initialBackend));

describe.each(availableBackends())('lecture examples on the %s backend', (backend) => {
  it('Sobel vertical edge filter on the bright/dark 5x5 image gives -1020, -1020, 0 (cross-correlation, no flip)', async () => {
    setBackend(backend);
    const image = Tensor.from([[Array.from({ length: 5 }, () => [255, 255, 0, 0, 0])]]);
    const conv = new Conv2d({ inChannels: 1, outChannels: 1, kernelSize: 3, bias: false });
    conv.weight = Tensor.from([[[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]]]);
    const out = await conv.forward(image);
    expect(out.shape).toEqual([1, 1, 3, 3]);
    // Every row sees the same columns, so every row is the lecture's first row.
    expect(out.toArray()).toEqual([[[[-1020, -1020, 0], [-1020, -1020, 0], [-1020, -1020, 0]]]]);
    expect(conv.forwardSync(image).toArray()).toEqual(out.toArray());
  });

  it('2x2 max pool with stride 2 on the 4x4 map gives [[6, 8], [3, 4]]', async () => {
    setBackend(backend);
    const map = Tensor.from([[[[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]]]);
    const out = await new MaxPool2d({ kernelSize: 2, stride: 2 }).forward(map);
    expect(out.toArray()).toEqual([[[[6, 8], [3, 4]]]]);
  });
});

describe('the output-size formula O = floor((W - K + 2P) / S) + 1', () => {
  it.each([
    [7, 3, 0, 1, 5],
    [7, 3, 1, 1, 7],
    [7, 3, 0, 2, 3],
    [32, 5, 2, 1, 32],
  ])('W=%i K=%i P=%i S=%i gives %i', (w, k, p, s, expected) => {
    expect(outputSize(w, k, s, p, p)).toBe(expected);
    const conv = new Conv2d({ inChannels: 1, outChannels: 1, kernelSize: k, padding: p, stride: s });
    expect(conv.outputShape([1, 1, w, w])).toEqual([1, 1, expected, expected]);
  });
});

describe('parameters and cost', () => {
  it('10 filters 5x5 on 3x32x32 with P=2: 760 params, 768,000 multiply-adds, output 10x32x32', () => {
    const conv = new Conv2d({ inChannels: 3, outChannels: 10, kernelSize: 5, padding: 2 });
    const s = summarize(conv, [1, 3, 32, 32]);
    expect(s.totals.params).toBe(760);
    expect(s.totals.multiplyAdds).toBe(768_000);
    expect(s.outputShape).toEqual([1, 10, 32, 32]);
    // Batching multiplies the cost, not the parameters.
    expect(summarize(conv, [4, 3, 32, 32]).totals.multiplyAdds).toBe(4 * 768_000);
  });

  it('LeNet-5 on 3x32x32 has 62,006 params, split 456 / 2,416 / 48,120 / 10,164 / 850', () => {
    const s = summarize(lenet5(), [1, 3, 32, 32]);
    expect(s.totals.params).toBe(62_006);
    const withParams = s.layers.filter((r) => r.params > 0);
    expect(withParams.map((r) => [r.name, r.params])).toEqual([
      ['conv1', 456],
      ['conv2', 2_416],
      ['fc1', 48_120],
      ['fc2', 10_164],
      ['fc3', 850],
    ]);
    expect(s.layers.find((r) => r.name === 'pool2')?.outputShape).toEqual([1, 16, 5, 5]);
    expect(s.outputShape).toEqual([1, 10]);
  });

  it('1x1 bottleneck 256 -> 64 -> 64 (3x3) -> 256 has 70,016 params', () => {
    const block = new Sequential([
      new Conv2d({ inChannels: 256, outChannels: 64, kernelSize: 1 }),
      new Conv2d({ inChannels: 64, outChannels: 64, kernelSize: 3, padding: 1 }),
      new Conv2d({ inChannels: 64, outChannels: 256, kernelSize: 1 }),
    ]);
    expect(block.params).toBe(70_016);
  });

  it('grouped conv G=4, 64 -> 64, 3x3, no bias has 9,216 params', () => {
    expect(new Conv2d({ inChannels: 64, outChannels: 64, kernelSize: 3, groups: 4, bias: false }).params).toBe(9_216);
  });

  it('depthwise-separable 64 -> 64, 3x3, no bias has 4,672 params (vs 36,864 for a full 3x3 conv)', () => {
    expect(new SeparableConv2d({ inChannels: 64, outChannels: 64, kernelSize: 3, bias: false }).params).toBe(4_672);
    expect(new DepthwiseConv2d({ channels: 64, kernelSize: 3, bias: false }).params).toBe(576);
    expect(new Conv2d({ inChannels: 64, outChannels: 64, kernelSize: 3, bias: false }).params).toBe(36_864);
  });
});

describe('receptive fields: RF_l = RF_{l-1} + (K_l - 1) * prod of earlier strides', () => {
  const conv = (stride: number) => new Conv2d({ inChannels: 1, outChannels: 1, kernelSize: 3, stride, padding: 1 });

  it('3, 5, 9 for (K=3,S=1), (K=3,S=2), (K=3,S=1)', () => {
    const s = summarize(new Sequential([conv(1), conv(2), conv(1)]), [1, 1, 32, 32]);
    expect(s.layers.map((r) => r.receptiveField?.[0])).toEqual([3, 5, 9]);
    expect(s.layers.map((r) => r.jump?.[0])).toEqual([1, 2, 2]);
  });

  it('3, 5, 7, 11 after 1, 2, 3, 5 stacked 3x3 stride-1 layers', () => {
    const s = summarize(new Sequential([conv(1), conv(1), conv(1), conv(1), conv(1)]), [1, 1, 32, 32]);
    const fields = s.layers.map((r) => r.receptiveField?.[0]);
    expect([fields[0], fields[1], fields[2], fields[4]]).toEqual([3, 5, 7, 11]);
  });

  it('one step for every window (layers, pools, the ONNX planner): nextReceptiveField, hand-worked', () => {
    const afterStride2 = nextReceptiveField({ size: [1, 1], jump: [1, 1] }, [3, 3], [1, 1], [2, 2]);
    expect(afterStride2).toEqual({ size: [3, 3], jump: [2, 2] });
    // A dilated 3x3 (K_eff 5) after it: 3 + (5 - 1) * 2 = 11; a 1x7 only grows the width.
    expect(nextReceptiveField(afterStride2, [3, 3], [2, 2], [1, 1])).toEqual({ size: [11, 11], jump: [2, 2] });
    expect(nextReceptiveField(afterStride2, [1, 7], [1, 1], [1, 1])).toEqual({ size: [3, 15], jump: [2, 2] });
    expect(nextReceptiveField(null, [3, 3], [1, 1], [1, 1])).toBeNull();
  });

  it('dilation widens the field without extra weights: a 3x3 with D=2 sees 5x5', () => {
    const dilated = new Conv2d({ inChannels: 1, outChannels: 1, kernelSize: 3, dilation: 2, padding: 2 });
    expect(summarize(dilated, [1, 1, 16, 16]).layers[0].receptiveField).toEqual([5, 5]);
    expect(dilated.params).toBe(10);
  });
});
