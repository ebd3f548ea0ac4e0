// The HTTP example under load: 200 concurrent uploads on a loopback port, every answer checked
// against the classifier run on that image alone, none lost, and the requests really batched.
import { readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageClassifier } from '../lib/image/classifier.js';
// @ts-expect-error -- a plain-JS example without type declarations
import { createClassifierServer } from '../examples/http-server/server.mjs';
// @ts-expect-error -- a plain-JS example without type declarations
import { DynamicBatcher } from '../examples/http-server/batcher.mjs';

const samplesDir = fileURLToPath(new URL('../samples', import.meta.url));
const samples = readdirSync(samplesDir).filter((f) => f.endsWith('.png')).sort();
const bodies = samples.map((f) => readFileSync(join(samplesDir, f)));

interface Answer {
  top: { label: string; index: number; probability: number }[];
  batchSize: number;
}

let server: Server;
let batcher: { batchSizes: number[] };
let url: string;
let expected: { label: string; probability: number }[];

beforeAll(async () => {
  const classifier = await ImageClassifier.load();
  // The reference: each image classified on its own, no server, no batching.
  expected = [];
  for (const body of bodies) {
    const [result] = await classifier.classify([body], 1);
    if (!result.ok) throw new Error(result.error);
    expected.push(result.top[0]);
  }
  ({ server, batcher } = createClassifierServer({ classifier, maxBatch: 16, maxWaitMs: 5, top: 3 }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('examples/http-server', () => {
  it('answers 200 concurrent uploads correctly, loses none, and batches them', async () => {
    const before = batcher.batchSizes.length;
    const responses = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const res = await fetch(`${url}/classify?top=2`, { method: 'POST', body: bodies[i % bodies.length] });
        return { i, status: res.status, body: (await res.json()) as Answer };
      }),
    );
    expect(responses).toHaveLength(200);
    for (const { i, status, body } of responses) {
      expect(status).toBe(200);
      expect(body.top).toHaveLength(2);
      expect(body.top[0].label).toBe(expected[i % bodies.length].label);
      expect(body.top[0].probability).toBeCloseTo(expected[i % bodies.length].probability, 4);
    }
    const sizes = batcher.batchSizes.slice(before);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(200);
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(16);
    expect(sizes.length).toBeLessThan(200);
  });

  it('a bad upload in the middle of good ones gets a 400 naming it; the others are unaffected', async () => {
    const requests = [bodies[0], Buffer.from('definitely not an image'), bodies[1]].map((body, i) =>
      fetch(`${url}/classify`, { method: 'POST', body, headers: { 'x-filename': `part-${i}.png` } }).then(async (r) => ({ status: r.status, body: await r.json() })),
    );
    const [first, bad, third] = await Promise.all(requests);
    expect(first.status).toBe(200);
    expect(first.body.top[0].label).toBe(expected[0].label);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/part-1\.png.*cannot be decoded/);
    expect(third.body.top[0].label).toBe(expected[1].label);
  });

  it('answers wrong routes, methods and parameters with clear JSON errors', async () => {
    expect((await fetch(`${url}/nope`)).status).toBe(404);
    expect((await fetch(`${url}/classify`)).status).toBe(405);
    const empty = await fetch(`${url}/classify`, { method: 'POST', body: '' });
    expect(empty.status).toBe(400);
    expect((await empty.json()).error).toMatch(/body is empty/);
    const top = await fetch(`${url}/classify?top=9`, { method: 'POST', body: bodies[0] });
    expect(top.status).toBe(400);
    expect((await top.json()).error).toMatch(/top must be a whole number from 1 to 3/);
    const health = await fetch(`${url}/health`);
    expect(await health.json()).toEqual({ ok: true, model: 'built-in lenet5-fashion' });
  });
});

describe('DynamicBatcher', () => {
  it('sends a full batch at once and a partial one after maxWaitMs, keeping order', async () => {
    const seen: number[][] = [];
    const b = new DynamicBatcher(async (items: number[]) => {
      seen.push(items);
      return items.map((x) => x * 10);
    }, { maxBatch: 3, maxWaitMs: 20 });
    const results = await Promise.all([1, 2, 3, 4, 5].map((x) => b.submit(x)));
    expect(results.map((r: { result: number }) => r.result)).toEqual([10, 20, 30, 40, 50]);
    expect(seen).toEqual([[1, 2, 3], [4, 5]]);
    expect(results.map((r: { batchSize: number }) => r.batchSize)).toEqual([3, 3, 3, 2, 2]);
  });

  it('rejects every request of a failed batch and keeps serving', async () => {
    let calls = 0;
    const b = new DynamicBatcher(async (items: string[]) => {
      if (calls++ === 0) throw new Error('model exploded');
      return items;
    }, { maxBatch: 2, maxWaitMs: 0 });
    await expect(b.submit('a')).rejects.toThrow('model exploded');
    await expect(b.submit('b')).resolves.toEqual({ result: 'b', batchSize: 1 });
    expect(() => new DynamicBatcher(async () => [], { maxBatch: 0 })).toThrow(/maxBatch must be a positive integer/);
  });
});

describe('createClassifierServer', () => {
  it('refuses a top that is not a positive integer (--top abc made every request a 400 "from 1 to NaN")', () => {
    expect(() => createClassifierServer({ classifier: {} as ImageClassifier, top: Number('abc') })).toThrow(/^top must be a positive integer, got NaN$/);
    expect(() => createClassifierServer({ classifier: {} as ImageClassifier, top: 0 })).toThrow(/^top must be a positive integer, got 0$/);
  });
});
