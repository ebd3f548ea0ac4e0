/**
 * maxInitializerBytes and maxTensorElements hold for initializers before they are decoded:
 * sized from their declared dims, so a file that declares a huge weight is refused before any
 * array is made for it, with an OnnxError naming the initializer, its dims and the limit.
 * (They used to be summed after every initializer was decoded.)
 */
import { describe, expect, it } from 'vitest';
import { loadOnnx, loadOnnxSync, OnnxError } from '../lib/onnx/index.js';
import { encodeModel, floatTensor, node, type TensorSpec } from './onnx-model-builder.js';

function addModel(initializers: TensorSpec[]): Uint8Array {
  return encodeModel({
    opset: 13,
    nodes: initializers.map((t, i) => node('Add', [i === 0 ? 'x' : `y${i - 1}`, t.name], [i === initializers.length - 1 ? 'y' : `y${i}`])),
    initializers,
    inputs: [{ name: 'x', shape: [1, 64] }],
    outputs: [{ name: 'y' }],
  });
}

describe('initializer limits, checked from the declared dims', () => {
  it('refuses a declared 2^40-value initializer by its dims, not by the data it lacks', () => {
    // No values at all: decoding it would have said the file is truncated; the limit speaks first.
    const bytes = addModel([{ name: 'huge', dims: [1024, 1024, 1024, 1024], dataType: 1 }]);
    expect(() => loadOnnxSync(bytes, { backend: 'js' })).toThrow(
      /initializer 'huge': its declared value of shape \[1024, 1024, 1024, 1024\] would hold 1099511627776 elements, over the limit of 1073741824 per tensor/,
    );
  });

  it('refuses an initializer over maxInitializerBytes before reading its raw_data', () => {
    // raw_data of the wrong length: decoding first would report the truncation instead.
    const spec: TensorSpec = { name: 'w', dims: [1000], dataType: 1, rawData: new Uint8Array(12) };
    let error: unknown;
    try {
      loadOnnxSync(addModel([spec]), { backend: 'js', limits: { maxInitializerBytes: 3999 } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OnnxError);
    expect((error as OnnxError).message).toMatch(
      /initializer 'w' of dims \[1000\] \(4000 bytes\) makes its initializers hold 4000 bytes, over the limit of 3999 \(options.limits.maxInitializerBytes\)/,
    );
    // Within the limit, the same file gets the decoder's own complaint.
    expect(() => loadOnnxSync(addModel([spec]), { backend: 'js', limits: { maxInitializerBytes: 4000 } })).toThrow(/raw_data holds 12 bytes/);
  });

  it('names the initializer that takes the running total over the limit', async () => {
    const bytes = addModel([floatTensor('a', [64], new Float32Array(64)), floatTensor('b', [64], new Float32Array(64))]);
    await expect(loadOnnx(bytes, { backend: 'js', limits: { maxInitializerBytes: 511 } })).rejects.toThrow(
      /initializer 'b' of dims \[64\] \(256 bytes\) makes its initializers hold 512 bytes, over the limit of 511/,
    );
    await expect(loadOnnx(bytes, { backend: 'js', limits: { maxInitializerBytes: 512 } })).resolves.toBeDefined();
  });
});
