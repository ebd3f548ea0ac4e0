/**
 * What a loaded model still holds in JS once the native backend packed its weights (issue 13,
 * memory): the file bytes loadOnnx read and the decoded weight copies a kernel packed are freed
 * at load (their ArrayBuffers detached, so the memory goes now, not at some later GC), while
 * what is still read stays: an initializer another node reads, the filters a conv with a fused
 * residual keeps for its broadcasting fallback, the bytes a caller passed in, and everything on
 * the JS backend (its kernels read the arrays themselves). Counted in bytes held by the arrays
 * the backend was given, not timed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../lib/backends/backend.js';
import { jsBackend } from '../lib/backends/js.js';
import { loadOnnx, loadOnnxSync } from '../lib/onnx/index.js';
import { Tensor } from '../lib/tensor.js';
import { useNativeBackend } from './helpers/backends.js';
import { expectClose, randomFloats, seededRandom } from './helpers/numeric.js';
import { encodeModel, floatTensor, node } from './onnx-model-builder.js';

const random = seededRandom(13);
const conv3x3 = { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } };
// x -> conv1 (+ReLU) -> conv2 (+ residual a1, +ReLU) -> global pool -> Gemm (transB 0: a
// transposed copy packs); beside it conv3 whose filters w3 a second node (Identity) also reads.
const model = encodeModel({
  inputs: [{ name: 'x', shape: [1, 3, 8, 8] }],
  outputs: [{ name: 'out' }, { name: 'z' }, { name: 'w3copy' }],
  initializers: [
    floatTensor('w1', [8, 3, 3, 3], randomFloats(216, random)),
    floatTensor('b1', [8], randomFloats(8, random)),
    floatTensor('w2', [8, 8, 3, 3], randomFloats(576, random)),
    floatTensor('w3', [4, 3, 3, 3], randomFloats(108, random)),
    floatTensor('wf', [8, 5], randomFloats(40, random)),
    floatTensor('bf', [5], randomFloats(5, random)),
  ],
  nodes: [
    node('Conv', ['x', 'w1', 'b1'], ['y1'], conv3x3),
    node('Relu', ['y1'], ['a1']),
    node('Conv', ['a1', 'w2'], ['y2'], conv3x3),
    node('Add', ['y2', 'a1'], ['s']),
    node('Relu', ['s'], ['r']),
    node('GlobalAveragePool', ['r'], ['g']),
    node('Flatten', ['g'], ['f']),
    node('Gemm', ['f', 'wf', 'bf'], ['out']),
    node('Conv', ['x', 'w3'], ['z'], conv3x3),
    node('Identity', ['w3'], ['w3copy']),
  ],
});
const dir = mkdtempSync(join(tmpdir(), 'convnode-freed-'));
const file = join(dir, 'model.onnx');
writeFileSync(file, model);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `backend`, recording the weights its kernels are prepared from and the arrays it frees. */
function recording(backend: Backend) {
  const weights: Array<{ what: string; weight: Float32Array; bytes: number }> = [];
  const freed: ArrayBufferView[] = [];
  let freedFloatBytes = 0;
  const note = (what: string, weight: Float32Array) => weights.push({ what, weight, bytes: weight.byteLength });
  const overrides: PropertyDescriptorMap = {
    prepareConv2d: { value: (w: Parameters<Backend['prepareConv2d']>[0]) => (note(`conv ${w.outChannels}x${w.inChannels}`, w.weight), backend.prepareConv2d(w)) },
    prepareLinear: { value: (w: Parameters<Backend['prepareLinear']>[0]) => (note(`linear ${w.outFeatures}x${w.inFeatures}`, w.weight), backend.prepareLinear(w)) },
  };
  if (backend.prepareConv2dOffThread) {
    const offThread = backend.prepareConv2dOffThread;
    overrides.prepareConv2dOffThread = { value: (w: Parameters<Backend['prepareConv2d']>[0]) => (note(`conv ${w.outChannels}x${w.inChannels}`, w.weight), offThread(w)) };
  }
  if (backend.prepareLinearOffThread) {
    const offThread = backend.prepareLinearOffThread;
    overrides.prepareLinearOffThread = { value: (w: Parameters<Backend['prepareLinear']>[0]) => (note(`linear ${w.outFeatures}x${w.inFeatures}`, w.weight), offThread(w)) };
  }
  if (backend.freeArray) {
    const free = backend.freeArray;
    overrides.freeArray = {
      value: (array: ArrayBufferView) => {
        const bytes = array.byteLength;
        const done = free(array);
        freed.push(array);
        if (done && array instanceof Float32Array) freedFloatBytes += bytes;
        return done;
      },
    };
  }
  const wrapped = Object.create(backend, overrides) as Backend;
  const held = (what: string) => weights.filter((w) => w.what === what).map((w) => w.weight.byteLength);
  return { backend: wrapped, weights, freed, held, freedFloatBytes: () => freedFloatBytes };
}

const input = new Tensor([1, 3, 8, 8], randomFloats(192, random));

async function outputsOf(m: Awaited<ReturnType<typeof loadOnnx>>) {
  const results = [];
  for (let run = 0; run < 2; run++) results.push(await m.run({ x: input }));
  return results[1];
}

describe('loadOnnx frees what the native backend no longer reads', () => {
  let native: Backend;
  useNativeBackend((b) => (native = b));

  for (const mode of ['async', 'sync'] as const) {
    it(`${mode} load from a file: the file bytes and the packed conv / Gemm copies are freed, the rest is held, and the answers stay the JS backend's`, async () => {
      const r = recording(native);
      const loaded = mode === 'async' ? await loadOnnx(file, { backend: r.backend }) : loadOnnxSync(file, { backend: r.backend });
      // The file: one Uint8Array of its size was given to freeArray, and is empty now.
      const fileBytes = r.freed.filter((a) => a instanceof Uint8Array);
      expect(fileBytes.length).toBe(1);
      expect(fileBytes[0].byteLength).toBe(0);
      // conv1 (no residual, own initializer): freed. Gemm's transposed copy: freed.
      expect(r.held('conv 8x3')).toEqual([0]);
      expect(r.held('linear 5x8')).toEqual([0]);
      // conv2 keeps its filters (a fused residual may broadcast at another shape); conv3's w3 is
      // read by the Identity too.
      expect(r.held('conv 8x8')).toEqual([576 * 4]);
      expect(r.held('conv 4x3')).toEqual([108 * 4]);
      const before = r.weights.reduce((sum, w) => sum + w.bytes, 0);
      const after = r.weights.reduce((sum, w) => sum + w.weight.byteLength, 0);
      expect(before - after).toBe((216 + 40) * 4);
      // Besides those copies, the initializers only they read: w1, b1, wf, and Gemm's bias bf
      // with its [5] copy (w2 and w3 stay, as above).
      expect(r.freedFloatBytes()).toBe((216 + 8 + 40 + 40 + 5 + 5) * 4);

      const reference = await outputsOf(await loadOnnx(model, { backend: jsBackend }));
      const got = await outputsOf(loaded);
      for (const name of ['out', 'z', 'w3copy']) expectClose(got[name].data, reference[name].data, name, 1e-4);
      loaded.dispose();
    });
  }

  it("the native backend's freeArray frees whole buffers only", () => {
    const buffer = new ArrayBuffer(64);
    const view = new Float32Array(buffer, 16, 4);
    expect(native.freeArray!(view)).toBe(false);
    expect(buffer.byteLength).toBe(64);
    const whole = new Float32Array(buffer);
    expect(native.freeArray!(whole)).toBe(true);
    expect(buffer.byteLength).toBe(0);
    expect(whole.length).toBe(0);
  });

  it('never frees bytes the caller passed in', async () => {
    const bytes = Uint8Array.from(model);
    const r = recording(native);
    const loaded = await loadOnnx(bytes, { backend: r.backend });
    expect(bytes.byteLength).toBe(model.byteLength);
    expect(r.freed.some((a) => a === bytes)).toBe(false);
    // The copies decoded from them are the loader's own: freed as from a file.
    expect(r.held('conv 8x3')).toEqual([0]);
    loaded.dispose();
  });

  it('frees nothing on the JS backend, whose kernels read the arrays', async () => {
    const r = recording(jsBackend);
    const loaded = await loadOnnx(file, { backend: r.backend });
    expect(r.weights.length).toBeGreaterThan(0);
    for (const w of r.weights) expect(w.weight.byteLength, w.what).toBe(w.bytes);
    const reference = await outputsOf(await loadOnnx(model, { backend: jsBackend }));
    const got = await outputsOf(loaded);
    expectClose(got.out.data, reference.out.data, 'out', 1e-6);
  });
});
