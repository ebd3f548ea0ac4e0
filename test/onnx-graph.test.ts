/**
 * The importer's graph work: fusion (checked by what ops remain and by fused == unfused
 * results), the static memory plan, per-op summary rows against the lecture's LeNet numbers,
 * dynamic batch without reloading, and concurrent runs on one model.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadOnnx, loadOnnxSync } from '../lib/onnx/index.js';
import { planMemory, type BufferLifetime } from '../lib/onnx/memory-plan.js';
import { summarize } from '../lib/layers/summary.js';
import { Tensor } from '../lib/tensor.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/onnx/${name}.onnx`, import.meta.url));

function randomData(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32) * 4 - 2;
  });
}

function maxRelativeDifference(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return worst;
}

describe('fusion at load', () => {
  it('folds BatchNormalization into the preceding conv and fuses the residual Add and activations', () => {
    const model = loadOnnxSync(fixture('batchnorm_unfolded'), { backend: 'js' });
    const types = model.summaryRows([1, 3, 12, 12]).map((r) => r.type);
    expect(types).toEqual([
      'BatchNormalization', // on the raw input: nothing before it to fold into
      'Conv+BatchNormalization+Relu',
      'Conv+BatchNormalization+Add', // its residual is the ReLU output
      'BatchNormalization+LeakyRelu', // after the Add: one channelAffine pass with the activation
      'MaxPool',
      'Flatten',
      'Gemm',
    ]);
  });

  it('runs ResNet shortcuts as conv residual epilogues and MobileNetV2 ReLU6 as a conv epilogue', () => {
    const resnet = loadOnnxSync(fixture('resnet_small'), { backend: 'js' }).summaryRows([1, 3, 32, 32]).map((r) => r.type);
    expect(resnet.filter((t) => t === 'Conv+Add+Relu')).toHaveLength(6);
    expect(resnet).not.toContain('Add');
    expect(resnet).not.toContain('Relu');
    const mobilenet = loadOnnxSync(fixture('mobilenet_v2_small'), { backend: 'js' }).summaryRows([1, 3, 64, 64]).map((r) => r.type);
    expect(mobilenet.filter((t) => t === 'Conv+Clip').length).toBeGreaterThan(10);
    expect(mobilenet).toContain('Conv+Add');
    expect(mobilenet).not.toContain('Clip');
  });

  it('recognises the opset-13 HardSwish (x * HardSigmoid(x)) and runs the squeeze-excitation block as one step', () => {
    const types = loadOnnxSync(fixture('se_hardswish_opset13'), { backend: 'js' }).summaryRows([1, 3, 16, 16]).map((r) => r.type);
    expect(types.filter((t) => t === 'Conv+HardSigmoid+Mul')).toHaveLength(2);
    // The SE gate scales another tensor (not a HardSwish): pool, both 1x1 convs and the Mul are one channel-scale step.
    expect(types).toContain('GlobalAveragePool+Conv+Relu+Conv+HardSigmoid+Mul');
    expect(types).not.toContain('HardSigmoid');
    // nn.Linear over a rank-3 input exports as MatMul + Add: one linear kernel with a bias.
    expect(types).toContain('MatMul+Add');
  });

  it.each([
    ['se_hardswish_opset13', [2, 3, 16, 16]],
    ['resnet_small', [2, 3, 32, 32]],
    ['batchnorm_unfolded', [2, 3, 12, 12]],
    ['mobilenet_v2_small', [2, 3, 64, 64]],
    ['se_hardswish', [2, 3, 16, 16]],
  ])('%s gives the same result fused and unfused', async (name, shape) => {
    const input = new Tensor(shape, randomData(shape.reduce((a, b) => a * b, 1), 5));
    const fused = await loadOnnx(fixture(name), { backend: 'js' });
    const plain = await loadOnnx(fixture(name), { backend: 'js', fuse: false });
    expect(plain.summaryRows(shape).length).toBeGreaterThan(fused.summaryRows(shape).length);
    const a = fused.runSync({ input }).output.data;
    const b = plain.runSync({ input }).output.data;
    expect(maxRelativeDifference(a, b)).toBeLessThanOrEqual(1e-5);
  });
});

describe('static memory plan', () => {
  it('reuses buffers by liveness: a hand-worked chain', () => {
    // a (16 floats) -> b (32) -> c (16) -> d (32): a and c never live together, nor b and d.
    const plan = planMemory([
      { length: 16, first: 0, last: 1 },
      { length: 32, first: 1, last: 2 },
      { length: 16, first: 2, last: 3 },
      { length: 32, first: 3, last: 3 },
    ]);
    expect(plan.naiveBytes).toBe(96 * 4);
    expect(plan.peakBytes).toBe(48 * 4);
    expect(plan.offsets[0]).toBe(plan.offsets[2]);
    expect(plan.offsets[1]).toBe(plan.offsets[3]);
  });

  it('never overlaps two buffers that are live at the same time (random lifetimes)', () => {
    let state = 99;
    const next = (n: number) => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state % n;
    };
    for (let trial = 0; trial < 50; trial++) {
      const buffers: BufferLifetime[] = Array.from({ length: 2 + next(30) }, () => {
        const first = next(20);
        return { length: 1 + next(500), first, last: first + next(6) };
      });
      const plan = planMemory(buffers);
      let livePeak = 0;
      for (let t = 0; t < 30; t++) {
        livePeak = Math.max(livePeak, buffers.filter((b) => b.first <= t && t <= b.last).reduce((s, b) => s + b.length, 0));
      }
      expect(plan.arenaLength).toBeGreaterThanOrEqual(livePeak);
      buffers.forEach((a, i) => {
        expect(plan.offsets[i] + a.length).toBeLessThanOrEqual(plan.arenaLength);
        buffers.forEach((b, j) => {
          if (j <= i || a.first > b.last || b.first > a.last) return;
          const disjoint = plan.offsets[i] + a.length <= plan.offsets[j] || plan.offsets[j] + b.length <= plan.offsets[i];
          expect(disjoint, `buffers ${i} and ${j} overlap while both live`).toBe(true);
        });
      });
    }
  });

  it('keeps ResNet peak activation memory well below the naive sum', () => {
    const model = loadOnnxSync(fixture('resnet_small'), { backend: 'js' });
    const peak = model.peakActivationBytes([4, 3, 32, 32]);
    const naive = model.naiveActivationBytes([4, 3, 32, 32]);
    console.log(`resnet_small batch 4: peak ${peak} bytes, naive ${naive} bytes`);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(naive / 2);
    // The stem's 8x32x32 output and the max pool's 8x16x16 output are live together (batch 4).
    expect(peak).toBeGreaterThanOrEqual(4 * (8 * 32 * 32 + 8 * 16 * 16) * 4);
  });
});

describe('summary rows', () => {
  it("LeNet-5 rows match the lecture's hand-worked numbers", () => {
    const model = loadOnnxSync(fixture('lenet5'), { backend: 'js' });
    const rows = model.summaryRows([2, 3, 32, 32]);
    const brief = rows.map((r) => [r.type, r.outputShape, r.params, r.multiplyAdds, r.receptiveField, r.jump]);
    expect(brief).toEqual([
      ['Conv+Relu', [2, 6, 28, 28], 456, 2 * 6 * 28 * 28 * 3 * 5 * 5, [5, 5], [1, 1]],
      ['MaxPool', [2, 6, 14, 14], 0, 0, [6, 6], [2, 2]],
      ['Conv+Relu', [2, 16, 10, 10], 2416, 2 * 16 * 10 * 10 * 6 * 5 * 5, [14, 14], [2, 2]],
      ['MaxPool', [2, 16, 5, 5], 0, 0, [16, 16], [4, 4]],
      ['Flatten', [2, 400], 0, 0, null, null],
      ['Gemm+Relu', [2, 120], 48120, 2 * 400 * 120, null, null],
      ['Gemm+Relu', [2, 84], 10164, 2 * 120 * 84, null, null],
      ['Gemm', [2, 10], 850, 2 * 84 * 10, null, null],
      ['Softmax', [2, 10], 0, 0, null, null],
    ]);
    expect(rows.reduce((sum, r) => sum + r.params, 0)).toBe(62006);
    expect(rows[0].activationBytes).toBe(2 * 6 * 28 * 28 * 4);
  });

  it('receptive fields through ConvTranspose, bilinear Resize and the Concat after them (the UNet fixture, by hand)', () => {
    const unet = fileURLToPath(new URL('./fixtures/coverage/unet.onnx', import.meta.url));
    const rows = loadOnnxSync(unet, { backend: 'js' }).summaryRows([1, 3, 16, 16]);
    const at = (type: string, nth = 0) => rows.filter((r) => r.type === type)[nth];
    // mid: field 18, jump 4. A 2x2 stride-2 transposed conv hears one input pixel per output
    // (floor((2 - 1) / 2) = 0 more): field 18, jump 4 / 2 = 2.
    expect([at('ConvTranspose').receptiveField, at('ConvTranspose').jump]).toEqual([[18, 18], [2, 2]]);
    // Concat with the 8 x 8 skip (field 8, jump 2): the wider field.
    expect([at('Concat').receptiveField, at('Concat').jump]).toEqual([[18, 18], [2, 2]]);
    // dec2's 3x3 conv: 18 + 2 x 2 = 22; the bilinear 2x resize blends two neighbours: 22 + 2,
    // jump 2 x 8 / 16 = 1; the Concat with the 16 x 16 skip (field 3) keeps 24.
    expect([at('Resize').receptiveField, at('Resize').jump]).toEqual([[24, 24], [1, 1]]);
    expect([at('Concat', 1).receptiveField, at('Concat', 1).jump]).toEqual([[24, 24], [1, 1]]);
    expect(at('ConvTranspose').multiplyAdds).toBe(32 * 4 * 4 * 16 * 2 * 2);
    expect(at('Resize').multiplyAdds).toBe(0);
  });

  it('summarize() accepts a loaded model', () => {
    const summary = summarize(loadOnnxSync(fixture('lenet5'), { backend: 'js' }), [1, 3, 32, 32]);
    expect(summary.totals.params).toBe(62006);
    expect(summary.outputShape).toEqual([1, 10]);
    expect(summary.totals.multiplyAdds).toBe(6 * 28 * 28 * 75 + 16 * 10 * 10 * 150 + 400 * 120 + 120 * 84 + 84 * 10);
  });
});

describe('running', () => {
  it('takes any batch size without reloading; each sample matches its batch-1 result', async () => {
    const model = await loadOnnx(fixture('resnet_small'));
    expect(model.inputShapes[0]).toEqual(['batch', 3, 32, 32]);
    const per = 3 * 32 * 32;
    const batch = randomData(5 * per, 11);
    const all = (await model.run({ input: new Tensor([5, 3, 32, 32], batch) })).output;
    expect(all.shape).toEqual([5, 10]);
    for (let n = 0; n < 5; n++) {
      const one = model.runSync({ input: new Tensor([1, 3, 32, 32], batch.slice(n * per, (n + 1) * per)) }).output;
      expect(maxRelativeDifference(all.data.subarray(n * 10, n * 10 + 10), one.data)).toBeLessThanOrEqual(1e-5);
    }
  });

  it('concurrent runs on one model do not share activation memory', async () => {
    const model = await loadOnnx(fixture('resnet_small'));
    const inputs = [0, 1, 2, 3].map((s) => new Tensor([2, 3, 32, 32], randomData(2 * 3 * 32 * 32, 100 + s)));
    const sequential = inputs.map((input) => model.runSync({ input }).output.data.slice());
    const concurrent = await Promise.all(inputs.map((input) => model.run({ input })));
    concurrent.forEach((out, i) => expect(maxRelativeDifference(out.output.data, sequential[i])).toBeLessThanOrEqual(1e-6));
    // Distinct inputs give distinct outputs, so a mix-up would have been caught.
    expect(maxRelativeDifference(sequential[0], sequential[1])).toBeGreaterThan(1e-3);
  });

  it('queues runs beyond maxConcurrentRuns instead of allocating more arenas, and still gets each right', async () => {
    const model = await loadOnnx(fixture('resnet_small'), { maxConcurrentRuns: 2 });
    const inputs = [0, 1, 2, 3, 4, 5].map((s) => new Tensor([1, 3, 32, 32], randomData(3 * 32 * 32, 200 + s)));
    const sequential = inputs.map((input) => model.runSync({ input }).output.data.slice());
    const concurrent = await Promise.all(inputs.map((input) => model.run({ input })));
    concurrent.forEach((out, i) => expect(maxRelativeDifference(out.output.data, sequential[i])).toBeLessThanOrEqual(1e-6));
    expect(() => loadOnnxSync(fixture('resnet_small'), { maxConcurrentRuns: 0 })).toThrow(/maxConcurrentRuns must be a positive integer/);
  });

  it('returns outputs the next run does not overwrite', () => {
    const model = loadOnnxSync(fixture('lenet5'));
    const first = model.runSync({ input: new Tensor([1, 3, 32, 32], randomData(3072, 1)) }).output;
    const kept = first.data.slice();
    model.runSync({ input: new Tensor([1, 3, 32, 32], randomData(3072, 2)) });
    expect(first.data).toEqual(kept);
  });
});
