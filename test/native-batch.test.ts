/**
 * Batches of queued native calls (backend.batchCalls, native/napi/async_job.h): the calls
 * started inside one run as one job, in call order, and each still settles its own promise
 * (an argument error rejects that call alone). A call queued after the batch that touches its
 * memory waits for the whole batch; a batch whose enqueue throws is still closed, so the calls
 * after it run. Each result is compared with the same calls run synchronously.
 */
import { createHook } from 'node:async_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../lib/backends/backend.js';
import { loadNativeBackend } from '../lib/backends/native.js';
import { randomFloats, seededRandom } from './helpers/numeric.js';

const loaded = loadNativeBackend();
if (loaded instanceof Error && process.env.CONVNODE_REQUIRE_NATIVE === '1') throw loaded;
const native = loaded instanceof Error ? undefined : (loaded as Backend);

let jobs = 0;
const hook = createHook({
  init(_id, type) {
    if (type === 'convnode:forward') jobs++;
  },
});
beforeAll(() => hook.enable());
afterAll(() => hook.disable());

const FEATURES = 512;

/** out[i] = in[(i + 1) % n] + bias[i]: exact in float32, so any reordering changes the result. */
function rotateLinear(backend: Backend) {
  const weight = new Float32Array(FEATURES * FEATURES);
  for (let i = 0; i < FEATURES; i++) weight[i * FEATURES + ((i + 1) % FEATURES)] = 1;
  const bias = Float32Array.from({ length: FEATURES }, (_, i) => (i % 5) * 0.5);
  return backend.prepareLinear({ inFeatures: FEATURES, outFeatures: FEATURES, weight, bias, activation: { kind: 'none' } });
}

describe.skipIf(!native)('batched native calls', () => {
  it('run a batch of dependent calls as one job, in order, and a later call waits for the batch', async () => {
    const linear = rotateLinear(native!);
    const start = randomFloats(FEATURES, seededRandom(5));
    let batchJobs = 0;
    const run = async (mode: 'sync' | 'batch') => {
      const a = start.slice();
      const b = new Float32Array(FEATURES);
      const c = new Float32Array(FEATURES);
      const calls: Array<[Float32Array, Float32Array]> = [];
      for (let i = 0; i < 40; i++) calls.push(i % 2 ? [b, a] : [a, b]);
      const queued: Promise<void>[] = [];
      if (mode === 'sync') calls.forEach(([x, y]) => linear.runSync(x, 1, y));
      else {
        jobs = 0;
        native!.batchCalls!(() => calls.forEach(([x, y]) => queued.push(linear.run(x, 1, y))));
        // The 40 calls went to libuv as one job (queued by endBatch, before this line).
        batchJobs = jobs;
      }
      // Outside the batch: reads a, which the batch's last call wrote (read after write) ...
      if (mode === 'sync') native!.unarySync(a, c, { kind: 'relu' });
      else queued.push(native!.unary(a, c, { kind: 'relu' }));
      await Promise.all(queued);
      return c.slice();
    };
    const expected = await run('sync');
    expect(expected.some((v) => v > 0)).toBe(true);
    for (let round = 0; round < 3; round++) {
      expect(Array.from(await run('batch'))).toEqual(Array.from(expected));
      expect(batchJobs).toBe(1);
    }
  });

  it('rejects only the call with a bad argument, and closes a batch whose enqueue threw', async () => {
    const linear = rotateLinear(native!);
    const x = randomFloats(FEATURES, seededRandom(9));
    const y = new Float32Array(FEATURES);
    const expected = new Float32Array(FEATURES);
    linear.runSync(x, 1, expected);
    let good: Promise<void> | undefined;
    let bad: Promise<void> | undefined;
    native!.batchCalls!(() => {
      bad = linear.run(x, 1, new Float32Array(3));
      good = linear.run(x, 1, y);
    });
    await expect(bad!).rejects.toThrow(/output/);
    await good;
    expect(Array.from(y)).toEqual(Array.from(expected));
    expect(() => native!.batchCalls!(() => {
      throw new Error('enqueue failed');
    })).toThrow('enqueue failed');
    // The batch was closed: a call made now runs (it would otherwise wait for an endBatch forever).
    const z = new Float32Array(FEATURES);
    jobs = 0;
    await linear.run(x, 1, z);
    expect(jobs).toBe(1);
    expect(Array.from(z)).toEqual(Array.from(expected));
  });
});
