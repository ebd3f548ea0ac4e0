/**
 * Bad input to the native backend: every case throws (or rejects) a TypeError / RangeError whose
 * message names the argument and the rule; none crashes the process.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Backend, ConvKernel, PoolGeometry } from '../lib/backends/backend.js';
import { loadNativeBackend, setIsa, setNumThreads, getNumThreads } from '../lib/backends/native.js';
import { ParameterError } from '../lib/errors.js';
import { planWindow, type ConvGeometry } from '../lib/planner/geometry.js';
import { convCase, convGeometry, outputLength } from './native-support.js';

const conv = convCase({ batch: 2, inChannels: 3, outChannels: 4, inH: 6, inW: 5, activation: { kind: 'relu' } });

let native: Backend;
let kernel: ConvKernel;
let g: ConvGeometry;
const weightLength = 4 * 3 * 3 * 3;

beforeAll(() => {
  const loaded = loadNativeBackend();
  if (loaded instanceof Error) throw loaded;
  native = loaded;
  g = convGeometry(conv);
  kernel = native.prepareConv2d({
    inChannels: 3,
    outChannels: 4,
    groups: 1,
    kernelH: 3,
    kernelW: 3,
    weight: new Float32Array(weightLength).fill(0.5),
    bias: new Float32Array(4),
    activation: { kind: 'relu' },
  });
});

const input = () => new Float32Array(2 * 3 * 6 * 5);
const output = () => new Float32Array(outputLength(g));

/** Expects the sync call to throw and the async one to reject, both with the same error. */
async function expectBoth(
  call: (sync: boolean) => unknown,
  type: typeof TypeError | typeof RangeError,
  message: RegExp,
): Promise<void> {
  expect(() => call(true)).toThrow(type);
  expect(() => call(true)).toThrow(message);
  await expect(call(false) as Promise<void>).rejects.toThrow(message);
}

function runConv(sync: boolean, i: Float32Array, geometry: ConvGeometry, o: Float32Array, r?: Float32Array | null) {
  return sync ? kernel.runSync(i, geometry, o, r) : kernel.run(i, geometry, o, r);
}

describe('native backend rejects bad input', () => {
  it('names a weight that is not a Float32Array or has the wrong length', () => {
    const prepare = (weight: unknown, bias: unknown = null) =>
      native.prepareConv2d({
        inChannels: 3,
        outChannels: 4,
        groups: 1,
        kernelH: 3,
        kernelW: 3,
        weight: weight as Float32Array,
        bias: bias as Float32Array,
        activation: { kind: 'none' },
      });
    expect(() => prepare(new Float64Array(weightLength))).toThrow(TypeError);
    expect(() => prepare(new Float64Array(weightLength))).toThrow(/weight must be a Float32Array, got a Float64Array/);
    expect(() => prepare([1, 2, 3])).toThrow(/weight must be a Float32Array, got an Array/);
    expect(() => prepare(new Float32Array(weightLength - 1))).toThrow(RangeError);
    expect(() => prepare(new Float32Array(weightLength - 1))).toThrow(
      /weight has 107 elements but \[outChannels, inChannels\/groups, kernelH, kernelW\] = 4x3x3x3 needs 108/,
    );
    expect(() => prepare(new Float32Array(weightLength), new Float32Array(3))).toThrow(/bias has 3 elements but outChannels 4 needs 4/);
  });

  it('names bad prepare options', () => {
    const base = { inChannels: 3, outChannels: 4, groups: 1, kernelH: 3, kernelW: 3, weight: new Float32Array(weightLength), bias: null };
    expect(() => native.prepareConv2d({ ...base, activation: { kind: 'swish' as 'relu' } })).toThrow(
      /options.activation must be one of 'none', 'relu', 'relu6', 'clip', .*'mish', got 'swish'/,
    );
    expect(() => native.prepareConv2d({ ...base, groups: 2, activation: { kind: 'none' } })).toThrow(
      /groups 2 must divide both inChannels 3 and outChannels 4/,
    );
    expect(() => native.prepareConv2d({ ...base, kernelH: 2.5, activation: { kind: 'none' } })).toThrow(
      /options.kernelH must be a non-negative integer below 2\^31, got 2.5/,
    );
  });

  it('names an input, output or residual of the wrong type or length', async () => {
    await expectBoth((s) => runConv(s, new Float64Array(180) as unknown as Float32Array, g, output()), TypeError, /input must be a Float32Array, got a Float64Array/);
    await expectBoth((s) => runConv(s, new Float32Array(179), g, output()), RangeError, /input has 179 elements but N x C x H x W = 2x3x6x5 needs 180/);
    await expectBoth((s) => runConv(s, input(), g, new Float32Array(10)), RangeError, /output has 10 elements but N x C x outH x outW = 2x4x6x5 needs 240/);
    await expectBoth((s) => runConv(s, input(), g, output(), new Float32Array(5)), RangeError, /residual has 5 elements but N x C x outH x outW = 2x4x6x5 needs 240/);
    await expectBoth((s) => runConv(s, input(), g, output(), new Int32Array(240) as unknown as Float32Array), TypeError, /residual must be a Float32Array, got an Int32Array/);
  });

  it('catches a tensor whose shape changed under the geometry', async () => {
    // geometry planned for batch 2, input now holds one image
    await expectBoth((s) => runConv(s, new Float32Array(90), g, output()), RangeError, /input has 90 elements but N x C x H x W = 2x3x6x5 needs 180/);
  });

  it('refuses an output that shares memory with the input or the residual', async () => {
    const shared = new Float32Array(180 + 240);
    const inputView = shared.subarray(0, 180);
    const overlapping = shared.subarray(100, 340);
    await expectBoth((s) => runConv(s, inputView, g, overlapping), RangeError, /output must not share memory with input/);
    await expectBoth((s) => runConv(s, input(), g, overlapping, overlapping), RangeError, /output must not share memory with residual/);
    // Views of one buffer that do not overlap are fine.
    const disjoint = shared.subarray(180, 420);
    kernel.runSync(inputView, g, disjoint);
    await kernel.run(inputView, g, disjoint);
  });

  it('names a detached ArrayBuffer', async () => {
    const buffer = new ArrayBuffer(180 * 4);
    const detached = new Float32Array(buffer);
    structuredClone(buffer, { transfer: [buffer] });
    expect(detached.length).toBe(0);
    await expectBoth((s) => runConv(s, detached, g, output()), RangeError, /input has 0 elements .*\(is its ArrayBuffer detached\?\)/);
  });

  it('reads the geometry before taking array pointers, so a getter that detaches an array is caught', async () => {
    const victim = new Float32Array(180);
    const sneaky = { ...g };
    Object.defineProperty(sneaky, 'batch', {
      get() {
        structuredClone(victim.buffer, { transfer: [victim.buffer] });
        return 2;
      },
    });
    expect(() => kernel.runSync(victim, sneaky, output())).toThrow(/input has 0 elements .*detached/);
  });

  it('re-validates the geometry instead of trusting it', async () => {
    await expectBoth((s) => runConv(s, input(), { ...g, outH: 5 }, output()), RangeError, /geometry.outH is 5 but inH 6, kernel 3, stride 1, dilation 1 and pads 1\+1 give 6/);
    await expectBoth((s) => runConv(s, input(), { ...g, inChannels: 2 }, output()), RangeError, /geometry.inChannels is 2 but the conv was prepared for 3/);
    await expectBoth((s) => runConv(s, input(), { ...g, kernelW: 1 }, output()), RangeError, /geometry.kernelH x kernelW is 3x1 but the conv was prepared for 3x3/);
    await expectBoth((s) => runConv(s, input(), { ...g, strideH: 0 }, output()), RangeError, /geometry.strideH must be at least 1, got 0/);
    await expectBoth((s) => runConv(s, input(), { ...g, dilationW: -1 }, output()), RangeError, /geometry.dilationW must be a non-negative integer below 2\^31/);
    const { strideW: _dropped, ...missing } = g;
    await expectBoth((s) => runConv(s, input(), missing as ConvGeometry, output()), TypeError, /geometry.strideW must be a non-negative integer, got undefined/);
    await expectBoth((s) => runConv(s, input(), { ...g, pads: { ...g.pads, left: 7 } }, output()), RangeError, /geometry.outW is 5 but/);
    await expectBoth((s) => runConv(s, input(), null as unknown as ConvGeometry, output()), TypeError, /geometry must be an object, got null/);
  });

  it('names bad pooling arguments', async () => {
    const window = planWindow('pool', 6, 5, { kernel: [2, 2], stride: [2, 2], dilation: [1, 1], padding: 0 });
    const pg: PoolGeometry = { ...window, batch: 2, channels: 3, kind: 'max', countIncludePad: false };
    const out = new Float32Array(2 * 3 * 3 * 2);
    const pool = (s: boolean, i: Float32Array, geometry: PoolGeometry, o: Float32Array) =>
      s ? native.pool2dSync(i, geometry, o) : native.pool2d(i, geometry, o);
    await expectBoth((s) => pool(s, input(), { ...pg, kind: 'min' as 'max' }, out), RangeError, /geometry.kind must be 'max' or 'avg'/);
    await expectBoth((s) => pool(s, input(), pg, new Float32Array(3)), RangeError, /output has 3 elements but N x C x outH x outW = 2x3x3x2 needs 36/);
    await expectBoth((s) => pool(s, input(), { ...pg, outH: 4 }, out), RangeError, /geometry.outH is 4 but .* give 3 \(or 3 with ceilMode\)/);
    await expectBoth((s) => pool(s, input(), { ...pg, pads: { top: 2, left: 0, bottom: 0, right: 0 }, outH: 4 }, out), RangeError, /geometry: the window of output row 0 covers only padding/);
    const global = (s: boolean, planes: number) =>
      s ? native.globalPool2dSync(input(), 'avg', planes, 30, new Float32Array(6)) : native.globalPool2d(input(), 'avg', planes, 30, new Float32Array(6));
    await expectBoth((s) => global(s, 0), RangeError, /planes must be at least 1, got 0/);
    await expectBoth((s) => global(s, 5), RangeError, /input has 180 elements but planes x plane = 5x30 needs 150/);
  });

  it('names bad Linear arguments', async () => {
    const linear = native.prepareLinear({ inFeatures: 4, outFeatures: 2, weight: new Float32Array(8), bias: null, activation: { kind: 'none' } });
    const call = (s: boolean, batch: number, i: Float32Array) => (s ? linear.runSync(i, batch, new Float32Array(2 * batch)) : linear.run(i, batch, new Float32Array(2 * batch)));
    await expectBoth((s) => call(s, 3, new Float32Array(8)), RangeError, /input has 8 elements but batch x inFeatures = 3x4 needs 12/);
    await expectBoth((s) => call(s, 1.5, new Float32Array(8)), RangeError, /batch must be a non-negative integer below 2\^31, got 1.5/);
    expect(() => native.prepareLinear({ inFeatures: 4, outFeatures: 2, weight: new Float32Array(7), bias: null, activation: { kind: 'none' } })).toThrow(
      /weight has 7 elements but \[outFeatures, inFeatures\] = 2x4 needs 8/,
    );
  });

  it('refuses an ISA the CPU lacks and a thread count out of range', () => {
    expect(() => setIsa('mmx' as 'scalar')).toThrow(/unknown ISA 'mmx'/);
    if (process.arch === 'x64') expect(() => setIsa('neon')).toThrow(/ISA 'neon' is not supported by this CPU or build/);
    const before = getNumThreads();
    expect(() => setNumThreads(0)).toThrow(/setNumThreads: n must be between 1 and 1024/);
    expect(() => setNumThreads(Number.NaN)).toThrow(ParameterError);
    expect(() => setNumThreads(Number.NaN)).toThrow(/setNumThreads: n must be/);
    // Typed, with a code, like every other user-facing error.
    expect(() => setIsa('mmx' as 'scalar')).toThrow(ParameterError);
    expect(getNumThreads()).toBe(before);
  });
});
