/**
 * model.profile: one timing per executed (fused) op, in execution order and named like the
 * summary rows, outputs equal to a plain run, and a clear error for a bad run count.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ParameterError } from '../lib/errors.js';
import { loadOnnxSync } from '../lib/onnx/index.js';
import { Tensor } from '../lib/tensor.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/onnx/${name}.onnx`, import.meta.url));

function sequence(count: number): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => Math.sin(i * 0.37));
}

describe('model.profile', () => {
  for (const backend of ['js', 'native'] as const) {
    it(`times every op of the fused graph in execution order (${backend})`, async () => {
      const model = loadOnnxSync(fixture('mobilenet_v2_small'), { backend });
      const shape = [2, 3, 64, 64];
      const input = new Tensor(shape, sequence(2 * 3 * 64 * 64));
      const { outputs, steps, totalMs } = await model.profile({ input }, { runs: 3 });
      // Every summary row of this model but Flatten (a view of its input: no kernel runs) comes
      // from a step that runs, so the profile lists those ops, in order, under the same names.
      const rows = model.summaryRows(shape).filter((r) => r.type !== 'Flatten');
      expect(rows.length).toBeGreaterThan(40);
      expect(steps.map((s) => `${s.name}:${s.type}`)).toEqual(rows.map((r) => `${r.name}:${r.type}`));
      expect(steps.some((s) => s.type.includes('Conv'))).toBe(true);
      for (const step of steps) {
        expect(Number.isFinite(step.ms)).toBe(true);
        expect(step.ms).toBeGreaterThanOrEqual(0);
      }
      expect(totalMs).toBeCloseTo(steps.reduce((sum, s) => sum + s.ms, 0), 9);
      // The profiled run computes the same thing as an unprofiled one.
      const plain = await model.run({ input });
      const name = model.outputNames[0];
      expect(outputs[name].shape).toEqual(plain[name].shape);
      expect(Array.from(outputs[name].data)).toEqual(Array.from(plain[name].data));
    });
  }

  it('rejects a run count that is not a positive integer, naming the parameter', async () => {
    const model = loadOnnxSync(fixture('resnet_small'), { backend: 'js' });
    const input = new Tensor([1, 3, 32, 32], sequence(3 * 32 * 32));
    for (const runs of [0, -1, 1.5, Number.NaN]) {
      await expect(model.profile({ input }, { runs })).rejects.toThrow(ParameterError);
      await expect(model.profile({ input }, { runs })).rejects.toThrow(/runs must be a positive integer/);
    }
  });
});
