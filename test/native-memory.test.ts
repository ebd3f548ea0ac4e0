/**
 * An async native run holds the caller's memory on a native thread until it settles. The two ways
 * JS can take that memory away meanwhile (lib/backends/native-memory.ts): shrinking a resizable
 * ArrayBuffer (which crashed the process before the guard: SIGSEGV, measured) is refused up
 * front; transferring the buffer makes the run reject, naming the array.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Backend, ConvWeights } from '../lib/backends/backend.js';
import { loadNativeBackend } from '../lib/backends/native.js';
import { setBackend, getBackend } from '../lib/backends/index.js';
import { ParameterError } from '../lib/errors.js';
import { Conv2d } from '../lib/layers/conv.js';
import { Tensor } from '../lib/tensor.js';
import { planConv, planWindow, type ConvGeometry } from '../lib/planner/geometry.js';
import { randomFloats, seededRandom } from './helpers/numeric.js';

let native: Backend;
beforeAll(() => {
  const loaded = loadNativeBackend();
  if (loaded instanceof Error) throw loaded;
  native = loaded;
});

// Large enough that the run is still going when the test's next statement executes (~1 ms).
const channels = 32;
const size = 48;
const random = seededRandom(5);
const weights: ConvWeights = {
  inChannels: channels,
  outChannels: channels,
  groups: 1,
  kernelH: 3,
  kernelW: 3,
  weight: randomFloats(channels * channels * 9, random),
  bias: randomFloats(channels, random),
  activation: { kind: 'relu' },
};
const geometry: ConvGeometry = planConv('memory test', [2, channels, size, size], {
  inChannels: channels,
  outChannels: channels,
  groups: 1,
  kernel: [3, 3],
  stride: [1, 1],
  dilation: [1, 1],
  padding: 1,
});
const length = 2 * channels * size * size;

/** A Float32Array of `n` elements over a resizable ArrayBuffer, filled from `values` if given. */
function resizableArray(n: number, values?: Float32Array): Float32Array {
  const array = new Float32Array(new ArrayBuffer(n * 4, { maxByteLength: n * 8 }));
  if (values) array.set(values);
  return array;
}

describe('async native runs and the memory they hold', () => {
  it('refuse a resizable ArrayBuffer by argument name; the sync runs take it and agree', async () => {
    const conv = native.prepareConv2d(weights);
    const input = randomFloats(length, random);
    const expected = new Float32Array(length);
    conv.runSync(input, geometry, expected);

    const resizableOut = resizableArray(length);
    await expect(conv.run(input, geometry, resizableOut)).rejects.toThrow(ParameterError);
    await expect(conv.run(input, geometry, resizableOut)).rejects.toThrow(/^output is a Float32Array over a resizable ArrayBuffer/);
    await expect(conv.run(resizableArray(length, input), geometry, new Float32Array(length))).rejects.toThrow(/^input is a Float32Array over a resizable/);
    await expect(conv.run(input, geometry, new Float32Array(length), resizableArray(length))).rejects.toThrow(/^residual is a Float32Array over a resizable/);
    // Refused before anything was queued: the output is untouched.
    expect(resizableOut.every((v) => v === 0)).toBe(true);

    conv.runSync(resizableArray(length, input), geometry, resizableOut);
    expect(resizableOut).toEqual(expected);

    const pool = planWindow('pool', size, size, { kernel: [3, 3], stride: [2, 2], dilation: [1, 1], padding: 1 });
    const poolGeometry = { ...pool, batch: 2, channels, kind: 'max' as const, countIncludePad: false };
    const pooled = resizableArray(2 * channels * pool.outH * pool.outW);
    await expect(native.pool2d(input, poolGeometry, pooled)).rejects.toThrow(/^output is a Float32Array over a resizable/);
    await expect(native.globalPool2d(resizableArray(length, input), 'avg', 2 * channels, size * size, new Float32Array(2 * channels))).rejects.toThrow(
      /^input is a Float32Array over a resizable/,
    );
    const linear = native.prepareLinear({ inFeatures: 4, outFeatures: 2, weight: new Float32Array(8), bias: null, activation: { kind: 'none' } });
    await expect(linear.run(new Float32Array(4), 1, resizableArray(2))).rejects.toThrow(/^output is a Float32Array over a resizable/);
  });

  it('take a growable SharedArrayBuffer (it never shrinks) and give the sync result', async () => {
    const conv = native.prepareConv2d(weights);
    const input = randomFloats(length, random);
    const expected = new Float32Array(length);
    conv.runSync(input, geometry, expected);
    const SharedBuffer = SharedArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => SharedArrayBuffer;
    const shared = new Float32Array(new SharedBuffer(length * 4, { maxByteLength: length * 8 }));
    await conv.run(input, geometry, shared);
    expect(Array.from(shared)).toEqual(Array.from(expected));
  });

  it('reject, naming the array, when its ArrayBuffer is transferred while the run holds it', async () => {
    const conv = native.prepareConv2d(weights);
    const input = randomFloats(length, random);
    const output = new Float32Array(length);
    const running = conv.run(input, geometry, output);
    // The transferred memory stays alive here (held by `moved`), so the run itself is safe.
    const moved = structuredClone(output.buffer, { transfer: [output.buffer] });
    expect(output.length).toBe(0);
    await expect(running).rejects.toThrow(ParameterError);
    await expect(conv.run(input, geometry, new Float32Array(length))).resolves.toBeUndefined();
    expect(moved.byteLength).toBe(length * 4);

    const input2 = randomFloats(length, random);
    const running2 = conv.run(input2, geometry, new Float32Array(length));
    const movedInput = structuredClone(input2.buffer, { transfer: [input2.buffer] });
    await expect(running2).rejects.toThrow(/^input's ArrayBuffer was detached \(transferred to another thread\?\) while the async run was using it/);
    expect(movedInput.byteLength).toBe(length * 4);
  });

  it('reach the layers: Conv2d.forward refuses a resizable input, forwardSync takes it', async () => {
    const previous = getBackend();
    setBackend('native');
    try {
      const layer = new Conv2d({ inChannels: 3, outChannels: 4, kernelSize: 3, padding: 1 });
      const values = randomFloats(3 * 8 * 8, random);
      const x = new Tensor([1, 3, 8, 8], resizableArray(3 * 8 * 8, values));
      await expect(layer.forward(x)).rejects.toThrow(/^input is a Float32Array over a resizable ArrayBuffer/);
      const fixed = layer.forwardSync(new Tensor([1, 3, 8, 8], values));
      expect(Array.from(layer.forwardSync(x).data)).toEqual(Array.from(fixed.data));
    } finally {
      setBackend(previous);
    }
  });
});
