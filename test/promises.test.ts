/**
 * Promises the README makes that no other test pinned down (issue 16, "promises with no test"):
 * the opsets convnode says it reads, and zero-copy itself: the native kernels read and write the
 * caller's memory at the view's own byteOffset, touching nothing outside the view.
 */
import { describe, expect, it } from 'vitest';
import { backendByName } from '../lib/backends/index.js';
import { loadOnnx, MAX_OPSET, OnnxError } from '../lib/onnx/index.js';
import type { ConvGeometry } from '../lib/planner/geometry.js';
import { Tensor } from '../lib/tensor.js';
import { availableBackends } from './helpers/backends.js';
import { encodeModel, node } from './onnx-model-builder.js';

const reluAt = (opset: number) =>
  encodeModel({ opset, nodes: [node('Relu', ['x'], ['y'])], inputs: [{ name: 'x', shape: [1, 4] }], outputs: [{ name: 'y' }] });

describe('opsets', () => {
  it.each([19, 20, 21])('opset %i loads and runs', async (opset) => {
    const model = await loadOnnx(reluAt(opset), { backend: 'js' });
    const out = await model.run({ x: new Tensor([1, 4], Float32Array.of(-1, 2, -3, 4)) });
    expect(Array.from(out.y.data)).toEqual([0, 2, 0, 4]);
  });

  it('opset 22 is refused, naming the supported range', async () => {
    expect(MAX_OPSET).toBe(21);
    const error = await loadOnnx(reluAt(22), { backend: 'js' }).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(OnnxError);
    expect((error as Error).message).toMatch(/opset 22; convnode supports opsets 7 to 21/);
  });
});

describe.each(availableBackends())('zero-copy views at a non-zero offset (%s)', (name) => {
  it('a conv reads its input view and writes its output view in place, nothing outside them', () => {
    const backend = backendByName(name);
    const g: ConvGeometry = {
      batch: 1, inChannels: 2, outChannels: 3, groups: 1, inH: 5, inW: 5, kernelH: 3, kernelW: 3,
      strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, pads: { top: 1, left: 1, bottom: 1, right: 1 }, outH: 5, outW: 5, exact: true,
    };
    const weight = Float32Array.from({ length: 3 * 2 * 9 }, (_, i) => ((i * 7) % 11) / 10 - 0.5);
    const conv = backend.prepareConv2d({ inChannels: 2, outChannels: 3, groups: 1, kernelH: 3, kernelW: 3, weight, bias: null, activation: { kind: 'none' } });
    // One shared buffer: [13 sentinels][input 50][7 sentinels][output 75][5 sentinels].
    const buffer = new Float32Array(13 + 50 + 7 + 75 + 5).fill(777);
    const input = buffer.subarray(13, 63);
    input.forEach((_, i) => (input[i] = Math.sin(i)));
    const output = buffer.subarray(70, 145);
    conv.runSync(input, g, output);
    // The oracle: the lecture's cross-correlation, written out here.
    for (let oc = 0; oc < 3; oc++)
      for (let y = 0; y < 5; y++)
        for (let x = 0; x < 5; x++) {
          let sum = 0;
          for (let ic = 0; ic < 2; ic++)
            for (let ky = 0; ky < 3; ky++)
              for (let kx = 0; kx < 3; kx++) {
                const iy = y + ky - 1;
                const ix = x + kx - 1;
                if (iy >= 0 && iy < 5 && ix >= 0 && ix < 5) sum += weight[((oc * 2 + ic) * 3 + ky) * 3 + kx] * input[(ic * 5 + iy) * 5 + ix];
              }
          expect(Math.abs(output[(oc * 5 + y) * 5 + x] - sum)).toBeLessThan(1e-5);
        }
    for (const i of [...Array(13).keys(), 63, 64, 65, 66, 67, 68, 69, 145, 146, 147, 148, 149]) expect(buffer[i], `sentinel ${i}`).toBe(777);
    expect(Array.from(input)).toEqual(Array.from({ length: 50 }, (_, i) => Math.fround(Math.sin(i))));
  });
});
