/**
 * loadOnnx's and ImageClassifier.load's option objects are checked by name: a guessed key
 * ('threads', onnxruntime's 'executionProviders', 'labelsFile') used to be ignored without a word.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ImageClassifier, ParameterError, Tensor, loadOnnx, loadOnnxSync } from '../lib/index.js';
import type { Backend, ConvPlan } from '../lib/backends/backend.js';
import { jsBackend } from '../lib/backends/js.js';

const lenet = readFileSync(fileURLToPath(new URL('./fixtures/onnx/lenet5.onnx', import.meta.url)));

describe('loadOnnx options', () => {
  it('reject an unknown key, naming it and the options loadOnnx takes', async () => {
    await expect(loadOnnx(lenet, { threads: 2 } as never)).rejects.toThrow(ParameterError);
    await expect(loadOnnx(lenet, { threads: 2 } as never)).rejects.toThrow(
      "loadOnnx: unknown option 'threads' (loadOnnx takes backend, fuse, maxConcurrentRuns, limits, keep, maxPackedWeightBytes)",
    );
    expect(() => loadOnnxSync(lenet, { executionProviders: ['cpu'] } as never)).toThrow(/^loadOnnx: unknown option 'executionProviders'/);
  });

  it("reject a non-boolean fuse (the string 'false' was truthy)", () => {
    expect(() => loadOnnxSync(lenet, { fuse: 'false' } as never)).toThrow('loadOnnx: fuse must be true or false, got "false"');
  });

  it('keep the documented options working: fuse false runs the unfused graph to the same answer', () => {
    const fused = loadOnnxSync(lenet, { backend: 'js', maxConcurrentRuns: 2 });
    const unfused = loadOnnxSync(lenet, { backend: 'js', fuse: false });
    const [name] = fused.inputNames;
    const shape = fused.inputShapes[0]!.map((d) => (typeof d === 'number' && d > 0 ? d : 2));
    const input = new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i));
    const a = fused.runSync({ [name]: new Tensor(shape, input) })[fused.outputNames[0]];
    const b = unfused.runSync({ [name]: new Tensor(shape, input) })[unfused.outputNames[0]];
    expect(a.shape).toEqual([2, 10]);
    for (let i = 0; i < a.size; i++) expect(Math.abs(a.data[i] - b.data[i])).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(b.data[i])));
  });
});

describe('ImageClassifier.load options', () => {
  it('reject an unknown key, naming it and the options it takes', async () => {
    await expect(ImageClassifier.load({ labelsFile: 'x.txt' } as never)).rejects.toThrow(
      "ImageClassifier.load: unknown option 'labelsFile' (ImageClassifier.load takes model, labels, image)",
    );
    // null used to crash on a property read with a TypeError.
    await expect(ImageClassifier.load(null as never)).rejects.toThrow('ImageClassifier.load: options must be an object, got null');
  });
});

describe('loadOnnx backend option', () => {
  it("refuses a backend name it does not know instead of quietly using 'js'", () => {
    expect(() => loadOnnxSync(lenet, { backend: 'gpu' } as never)).toThrow("backend must be 'js', 'native' or 'wasm', got \"gpu\"");
    expect(() => loadOnnxSync(lenet, { backend: 'Native' } as never)).toThrow(/got "Native"/);
    expect(loadOnnxSync(lenet, { backend: 'js' }).backendName).toBe('js');
  });
});

describe('loadOnnx maxPackedWeightBytes', () => {
  const resnet = readFileSync(fileURLToPath(new URL('./fixtures/onnx/resnet_small.onnx', import.meta.url)));
  // The JS backend, recording each conv's plan.
  const recording = () => {
    const plans: ConvPlan[] = [];
    const backend: Backend = {
      ...jsBackend,
      prepareConv2d(weights) {
        const kernel = jsBackend.prepareConv2d(weights);
        plans.push(kernel.plan!);
        return kernel;
      },
    };
    return { backend, plans };
  };
  const run = (model: ReturnType<typeof loadOnnxSync>) => {
    const shape = model.inputShapes[0]!.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
    const input = new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i * 0.37));
    return model.runSync({ [model.inputNames[0]]: new Tensor(shape, input) })[model.outputNames[0]];
  };

  it('passes over larger forms once the model would exceed it, with the same outputs', () => {
    const free = recording();
    const unlimited = run(loadOnnxSync(resnet, { backend: free.backend }));
    const winograd = free.plans.filter((p) => p.algorithm === 'winograd-f2x2-3x3');
    expect(winograd.length).toBeGreaterThan(1);
    const total = (plans: ConvPlan[]) => plans.reduce((sum, p) => sum + p.packedBytes, 0);
    // No room beyond the compact forms: no conv takes Winograd, and the total is the compact one.
    const tight = recording();
    const compact = run(loadOnnxSync(resnet, { backend: tight.backend, maxPackedWeightBytes: 0 }));
    expect(tight.plans.some((p) => p.algorithm.startsWith('winograd'))).toBe(false);
    expect(total(tight.plans)).toBeLessThan(total(free.plans));
    // Room for exactly the first Winograd conv's extra bytes: it alone takes Winograd.
    const first = free.plans.findIndex((p) => p.algorithm === 'winograd-f2x2-3x3');
    const extra = free.plans[first].packedBytes - tight.plans[first].packedBytes;
    const one = recording();
    run(loadOnnxSync(resnet, { backend: one.backend, maxPackedWeightBytes: total(tight.plans) + extra }));
    expect(one.plans.map((p, i) => (p.algorithm.startsWith('winograd') ? i : -1)).filter((i) => i >= 0)).toEqual([first]);
    expect(unlimited.shape).toEqual(compact.shape);
    for (let i = 0; i < compact.size; i++) {
      expect(Math.abs(compact.data[i] - unlimited.data[i])).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(unlimited.data[i])));
    }
    expect(() => loadOnnxSync(resnet, { maxPackedWeightBytes: -5 })).toThrow(
      'loadOnnx: options.maxPackedWeightBytes must be a non-negative number of bytes, got -5',
    );
  });
});
