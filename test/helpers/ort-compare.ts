/**
 * The per-op oracle check the in-memory op tests share: one model, run by onnxruntime-node and
 * by convnode on one backend, on seeded random input 'x' of each given shape, output 'y'
 * compared within a relative tolerance (a new batch size must need no reload).
 */
import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';
import type { BackendName } from '../../lib/backends/backend.js';
import { loadOnnx } from '../../lib/onnx/index.js';
import { Tensor } from '../../lib/tensor.js';
import { randomInput, worstRelativeError } from './numeric.js';

export async function expectMatchesOnnxruntimeOn(
  bytes: Uint8Array, backend: BackendName, shapes: ReadonlyArray<readonly number[]>, tolerance: number, seed = 17,
): Promise<void> {
  const session = await ort.InferenceSession.create(bytes);
  const model = await loadOnnx(bytes, { backend });
  for (const [i, shape] of shapes.entries()) {
    const data = randomInput([...shape], seed + i);
    const want = (await session.run({ x: new ort.Tensor('float32', data.slice(), [...shape]) })).y;
    const got = (await model.run({ x: new Tensor([...shape], data) })).y;
    expect(got.shape, `shape for input [${shape.join(', ')}]`).toEqual(want.dims);
    expect(worstRelativeError(got.data, want.data as Float32Array), `input [${shape.join(', ')}]`).toBeLessThanOrEqual(tolerance);
  }
}
