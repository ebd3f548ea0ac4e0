/**
 * A layer whose weight or bias ArrayBuffer was transferred away (detached) refuses forward with
 * a typed error naming the layer and the array, on both backends, not the addon's plain
 * RangeError (issue 16, item 2).
 */
import { describe, expect, it } from 'vitest';
import { getBackend, setBackend } from '../lib/backends/index.js';
import { ConvnodeError } from '../lib/errors.js';
import { Conv2d } from '../lib/layers/conv.js';
import { Linear } from '../lib/layers/linear.js';
import { Tensor } from '../lib/tensor.js';
import { availableBackends } from './helpers/backends.js';

function detach(array: Float32Array): void {
  structuredClone(array.buffer, { transfer: [array.buffer] });
}

describe.each(availableBackends())('detached weights on the %s backend', (backend) => {
  it('Conv2d and Linear: a ConvnodeError with a code, naming the layer and the array', async () => {
    const before = getBackend();
    setBackend(backend);
    try {
      const conv = new Conv2d({ name: 'stem', inChannels: 1, outChannels: 2, kernelSize: 3 });
      detach(conv.weight.data);
      for (const run of [() => conv.forwardSync(new Tensor([1, 1, 8, 8])), () => conv.forward(new Tensor([1, 1, 8, 8]))]) {
        let error: unknown;
        try {
          await run();
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(ConvnodeError);
        expect((error as ConvnodeError).code).toMatch(/^ERR_CONVNODE_/);
        expect((error as Error).message).toMatch(/Conv2d 'stem'/);
        expect((error as Error).message).toMatch(/weight/);
      }
      const fc = new Linear({ name: 'head', inFeatures: 4, outFeatures: 2 });
      detach(fc.bias!.data);
      expect(() => fc.forwardSync(new Tensor([1, 4]))).toThrow(ConvnodeError);
      expect(() => fc.forwardSync(new Tensor([1, 4]))).toThrow(/Linear 'head'.*bias/);
    } finally {
      setBackend(before);
    }
  });
});
