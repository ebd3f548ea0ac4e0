/**
 * model.run on the native backend queues consecutive conv / pool / linear steps without
 * awaiting each (the addon orders them by the memory they share). Its results must be exactly
 * those of runSync, which runs every step in turn on the calling thread, also with several runs
 * in flight at once (each on its own arena) and with a step in between that is not a backend
 * call (Flatten's view, the SE block's TS ops).
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadOnnxSync } from '../lib/onnx/index.js';
import { Tensor } from '../lib/tensor.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/onnx/${name}.onnx`, import.meta.url));

function data(count: number, seed: number): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => Math.sin(i * 0.37 + seed));
}

const CASES = [
  { name: 'mobilenet_v2_small', shape: [2, 3, 64, 64] },
  { name: 'resnet_small', shape: [2, 3, 32, 32] },
  { name: 'se_hardswish_opset13', shape: [2, 3, 16, 16] },
];

describe('queued steps in model.run (native)', () => {
  for (const { name, shape } of CASES) {
    it(`gives runSync's exact results for ${name}, with three runs in flight`, async () => {
      const model = loadOnnxSync(fixture(name), { backend: 'native' });
      const count = shape.reduce((a, b) => a * b, 1);
      const inputs = [0, 1, 2].map((seed) => new Tensor(shape, data(count, seed)));
      const input = model.inputNames[0];
      const output = model.outputNames[0];
      const expected = inputs.map((t) => model.runSync({ [input]: t })[output].data);
      for (let round = 0; round < 2; round++) {
        const results = await Promise.all(inputs.map((t) => model.run({ [input]: t })));
        results.forEach((r, i) => expect(Array.from(r[output].data)).toEqual(Array.from(expected[i])));
      }
    });
  }
});
