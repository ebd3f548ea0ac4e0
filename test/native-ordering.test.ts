/**
 * Ordering of queued native calls (native/napi/async_job.h): a call queued without awaiting the
 * ones before it runs after every earlier call it shares memory with (read-after-write,
 * write-after-read, write-after-write), so a chain of dependent layers can be queued at once.
 * Each chain is compared with the same calls run one by one synchronously. The first call of
 * each chain is a few milliseconds of work, so calls run out of order would read unwritten data.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Backend, ConvKernel } from '../lib/backends/backend.js';
import { loadNativeBackend } from '../lib/backends/native.js';
import { planConv, type ConvGeometry } from '../lib/planner/geometry.js';
import { randomFloats, seededRandom } from './helpers/numeric.js';

let native: Backend;
beforeAll(() => {
  const loaded = loadNativeBackend();
  if (loaded instanceof Error) throw loaded;
  native = loaded;
});

const CHANNELS = 64;
const SIZE = 56;
const PLANE = CHANNELS * SIZE * SIZE;

function conv3x3(seed: number): { kernel: ConvKernel; geometry: ConvGeometry } {
  const random = seededRandom(seed);
  const kernel = native.prepareConv2d({
    inChannels: CHANNELS, outChannels: CHANNELS, groups: 1, kernelH: 3, kernelW: 3,
    weight: randomFloats(CHANNELS * CHANNELS * 9, random).map((v) => v * 0.05),
    bias: randomFloats(CHANNELS, random),
    activation: { kind: 'relu' },
  });
  const geometry = planConv('ordering test', [1, CHANNELS, SIZE, SIZE], {
    inChannels: CHANNELS, outChannels: CHANNELS, groups: 1, kernel: [3, 3], stride: [1, 1], dilation: [1, 1], padding: 1,
  });
  return { kernel, geometry };
}

describe('queued native calls', () => {
  it('run a chain of dependent calls in order when queued without awaiting (read after write)', async () => {
    const convs = [conv3x3(1), conv3x3(2), conv3x3(3), conv3x3(4)];
    const input = randomFloats(PLANE, seededRandom(5));
    // Ping-pong between two buffers, the way an arena reuses memory: each conv reads the
    // previous output and writes where the one before that read (also write after read).
    const run = async (sync: boolean) => {
      const a = new Float32Array(PLANE);
      const b = new Float32Array(PLANE);
      const buffers = [input, a, b, a, b];
      const queued: Promise<void>[] = [];
      convs.forEach(({ kernel, geometry }, i) => {
        if (sync) kernel.runSync(buffers[i], geometry, buffers[i + 1]);
        else queued.push(kernel.run(buffers[i], geometry, buffers[i + 1]));
      });
      await Promise.all(queued);
      return b.slice();
    };
    const expected = await run(true);
    expect(expected.some((v) => v !== 0)).toBe(true);
    for (let round = 0; round < 3; round++) expect(Array.from(await run(false))).toEqual(Array.from(expected));
  });

  it('lets a later write wait for an earlier read, and a residual read wait for its writer', async () => {
    const [first, second] = [conv3x3(11), conv3x3(12)];
    const input = randomFloats(PLANE, seededRandom(13));
    const run = async (sync: boolean) => {
      const x = input.slice();
      const y = new Float32Array(PLANE);
      const z = new Float32Array(PLANE);
      const calls: Array<() => Promise<void> | void> = [
        () => (sync ? first.kernel.runSync(x, first.geometry, y) : first.kernel.run(x, first.geometry, y)),
        // Reads y (written above) as its input and x as the residual ...
        () => (sync ? second.kernel.runSync(y, second.geometry, z, x) : second.kernel.run(y, second.geometry, z, x)),
        // ... then x is overwritten: only after the residual read above (write after read).
        () => (sync ? first.kernel.runSync(z, first.geometry, x) : first.kernel.run(z, first.geometry, x)),
      ];
      await Promise.all(calls.map((call) => call()));
      return { x: x.slice(), z: z.slice() };
    };
    const expected = await run(true);
    const got = await run(false);
    expect(Array.from(got.z)).toEqual(Array.from(expected.z));
    expect(Array.from(got.x)).toEqual(Array.from(expected.x));
  });

  it('keeps a long chain of small pool and linear calls in order', async () => {
    // 200 dependent calls of a few microseconds each: the chain is run by the threads that
    // finish each call, not through the JS thread.
    // out[i] = in[(i + 1) % n] + bias[i]: exact in float32, and the result after the chain
    // depends on how many calls ran before each read.
    const features = 256;
    const weight = new Float32Array(features * features);
    for (let i = 0; i < features; i++) weight[i * features + ((i + 1) % features)] = 1;
    const bias = Float32Array.from({ length: features }, (_, i) => (i % 7) * 0.25);
    const linear = native.prepareLinear({ inFeatures: features, outFeatures: features, weight, bias, activation: { kind: 'none' } });
    const start = randomFloats(features, seededRandom(22));
    const run = async (sync: boolean) => {
      const buffers = [start.slice(), new Float32Array(features)];
      const queued: Promise<void>[] = [];
      for (let i = 0; i < 200; i++) {
        const [from, to] = [buffers[i % 2], buffers[(i + 1) % 2]];
        if (sync) linear.runSync(from, 1, to);
        else queued.push(linear.run(from, 1, to));
      }
      await Promise.all(queued);
      return buffers[0].slice();
    };
    const expected = await run(true);
    expect(expected.some((v) => v !== 0 && Number.isFinite(v))).toBe(true);
    expect(Array.from(await run(false))).toEqual(Array.from(expected));
  });

  it('still runs calls on disjoint memory, and reports each call\'s own argument error', async () => {
    const { kernel, geometry } = conv3x3(31);
    const inputs = [0, 1, 2].map((i) => randomFloats(PLANE, seededRandom(40 + i)));
    const expected = inputs.map((x) => {
      const out = new Float32Array(PLANE);
      kernel.runSync(x, geometry, out);
      return out;
    });
    const outputs = inputs.map(() => new Float32Array(PLANE));
    const bad = expect(kernel.run(inputs[0], geometry, new Float32Array(3))).rejects.toThrow(/output has 3 elements/);
    await Promise.all(inputs.map((x, i) => kernel.run(x, geometry, outputs[i])));
    await bad;
    outputs.forEach((out, i) => expect(Array.from(out)).toEqual(Array.from(expected[i])));
  });
});
