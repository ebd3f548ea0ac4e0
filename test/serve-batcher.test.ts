// The dynamic batcher on its own: batch boundaries, rows per request, the bounded queue, and a
// request that gives up leaving the queue.
import { describe, expect, it } from 'vitest';
import { DynamicBatcher, QueueFullError } from '../lib/serve/batcher.js';

type Item = { rows: number; value: number };
const item = (value: number, rows = 1): Item => ({ rows, value });

describe('DynamicBatcher', () => {
  it('sends a full batch at once and a partial one after maxWaitMs, keeping order', async () => {
    const seen: number[][] = [];
    const b = new DynamicBatcher<Item, number>(async (items) => {
      seen.push(items.map((i) => i.value));
      return items.map((i) => i.value * 10);
    }, { maxBatch: 3, maxWaitMs: 20, maxQueue: 100 });
    const results = await Promise.all([1, 2, 3, 4, 5].map((x) => b.submit(item(x))));
    expect(results.map((r) => r.result)).toEqual([10, 20, 30, 40, 50]);
    expect(seen).toEqual([[1, 2, 3], [4, 5]]);
    expect(results.map((r) => r.batchSize)).toEqual([3, 3, 3, 2, 2]);
  });

  it('counts rows, not requests: a request of 3 images and one of 2 do not share a batch of 4', async () => {
    const seen: number[][] = [];
    const b = new DynamicBatcher<Item, number>(async (items) => {
      seen.push(items.map((i) => i.rows));
      return items.map(() => 0);
    }, { maxBatch: 4, maxWaitMs: 5, maxQueue: 100 });
    await Promise.all([b.submit(item(0, 3)), b.submit(item(1, 2)), b.submit(item(2, 1))]);
    expect(seen).toEqual([[3], [2, 1]]);
    await expect(b.submit(item(3, 5))).rejects.toThrow(/1 to 4 images/);
  });

  it('refuses a request when maxQueue are waiting, and serves again once they have run', async () => {
    const b = new DynamicBatcher<Item, number>(async (items) => items.map((i) => i.value), { maxBatch: 8, maxWaitMs: 50, maxQueue: 2 });
    const first = [b.submit(item(1)), b.submit(item(2))];
    expect(b.queueDepth).toBe(2);
    await expect(b.submit(item(3))).rejects.toBeInstanceOf(QueueFullError);
    expect((await Promise.all(first)).map((r) => r.result)).toEqual([1, 2]);
    await expect(b.submit(item(4))).resolves.toEqual({ result: 4, batchSize: 1 });
  });

  it('a request whose signal aborts leaves the queue and never runs', async () => {
    const ran: number[] = [];
    const b = new DynamicBatcher<Item, number>(async (items) => {
      ran.push(...items.map((i) => i.value));
      return items.map((i) => i.value);
    }, { maxBatch: 8, maxWaitMs: 30, maxQueue: 10 });
    const controller = new AbortController();
    const gone = b.submit(item(1), controller.signal);
    const kept = b.submit(item(2));
    controller.abort(new Error('deadline'));
    await expect(gone).rejects.toThrow('deadline');
    expect(b.queueDepth).toBe(1);
    await expect(kept).resolves.toEqual({ result: 2, batchSize: 1 });
    expect(ran).toEqual([2]);
  });

  it('rejects every request of a failed batch and keeps serving', async () => {
    let calls = 0;
    const b = new DynamicBatcher<Item, number>(async (items) => {
      if (calls++ === 0) throw new Error('model exploded');
      return items.map((i) => i.value);
    }, { maxBatch: 2, maxWaitMs: 0, maxQueue: 10 });
    await expect(b.submit(item(1))).rejects.toThrow('model exploded');
    await expect(b.submit(item(2))).resolves.toEqual({ result: 2, batchSize: 1 });
    expect(b.idle).toBe(true);
  });

  it('checks its options', () => {
    const run = async () => [];
    expect(() => new DynamicBatcher(run, { maxBatch: 0, maxWaitMs: 1, maxQueue: 1 })).toThrow(/maxBatch must be a positive integer/);
    expect(() => new DynamicBatcher(run, { maxBatch: 1, maxWaitMs: -1, maxQueue: 1 })).toThrow(/maxWaitMs must be a finite number >= 0/);
    expect(() => new DynamicBatcher(run, { maxBatch: 1, maxWaitMs: 1, maxQueue: 0 })).toThrow(/maxQueue must be a positive integer/);
  });
});
