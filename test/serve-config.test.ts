// The serve config: defaults, relative paths from the config file's folder, and an error naming
// the key and the rule for every bad value (a typo must not become a silent default).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_MODEL, readServeConfig, resolveServeConfig } from '../lib/serve/config.js';
import { allModelsReady } from '../lib/serve/context.js';
import type { ServedModel } from '../lib/serve/served-model.js';
import { answer, sampleBodies, startServer } from './helpers/serve.js';

describe('serve config', () => {
  it('defaults to the built-in model as lenet5, with the documented limits', () => {
    const config = resolveServeConfig();
    expect(config.models).toEqual([
      { name: 'lenet5', model: BUILTIN_MODEL, labels: undefined, maxBatch: 32, maxWaitMs: 2, maxQueue: 256, deadlineMs: 10000, maxPixels: 24000000, failOn: 'error', topK: 5 },
    ]);
    expect(config).toMatchObject({ bodyLimit: 16777216, headersTimeoutMs: 10000, requestTimeoutMs: 30000, keepAliveTimeoutMs: 5000, drainTimeoutMs: 30000 });
  });

  it('reads a file with several models; paths are relative to the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'convnode-serve-'));
    const file = join(dir, 'models.json');
    writeFileSync(file, JSON.stringify({ threads: 1, models: [{ name: 'a' }, { name: 'b', model: 'm/b.onnx', labels: 'm/b.txt', preset: 'imagenet', maxBatch: 4 }] }));
    const config = readServeConfig(file);
    expect(config.threads).toBe(1);
    expect(config.models[1]).toMatchObject({ name: 'b', model: join(dir, 'm/b.onnx'), labels: join(dir, 'm/b.txt'), preset: 'imagenet', maxBatch: 4 });
  });

  it('names the key and the rule for each bad value', () => {
    const bad: [object, RegExp][] = [
      [{ models: [{ name: 'a', maxbatch: 4 }] }, /models\[0\]: unknown key 'maxbatch'/],
      [{ models: [{ name: 'a b' }] }, /models\[0\]: 'name' must be 1 to 64 letters/],
      [{ models: [{ name: 'a' }, { name: 'a' }] }, /two models are named 'a'/],
      [{ models: [{ name: 'a', maxBatch: 0 }] }, /'maxBatch' must be a whole number from 1 to 4096, got 0/],
      [{ models: [{ name: 'a', failOn: 'sometimes' }] }, /'failOn' must be one of none, truncated, error, warning/],
      [{ models: [{ name: 'a', preset: 'cifar' }] }, /'preset' must be one of imagenet, unit, fashion-mnist, grayscale28/],
      [{ models: [{ name: 'a', labels: 'x.txt' }] }, /'labels' needs an ONNX 'model'/],
      [{ models: [] }, /'models' must be a non-empty array/],
      [{ bodylimit: 5 }, /unknown key 'bodylimit'/],
      [{ drainTimeoutMs: -1 }, /'drainTimeoutMs' must be a whole number/],
    ];
    for (const [input, message] of bad) expect(() => resolveServeConfig(input as never)).toThrow(message);
  });

  it('serves an ONNX model from a file with its labels and preset, beside the built-in one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'convnode-serve-'));
    writeFileSync(join(dir, 'labels.txt'), Array.from({ length: 10 }, (_, i) => `digit ${i}`).join('\n'));
    const onnx = new URL('./fixtures/onnx/lenet5.onnx', import.meta.url).pathname;
    const running = await startServer({ models: [{ name: 'fashion' }, { name: 'fixture', model: onnx, labels: join(dir, 'labels.txt'), preset: 'unit' }] });
    try {
      const meta = await answer(await fetch(`${running.url}/v2/models/fixture`));
      expect((meta.body.inputs as { shape: number[] }[])[0].shape[0]).toBe(-1);
      const res = await answer(await fetch(`${running.url}/v1/models/fixture/classify?top=3`, { method: 'POST', body: sampleBodies[0], headers: { 'content-type': 'image/png' } }));
      expect(res.status).toBe(200);
      const top = (res.body.results as { top: { label: string }[] }[])[0].top;
      expect(top).toHaveLength(3);
      for (const p of top) expect(p.label).toMatch(/^digit \d$/);
    } finally {
      await running.close();
    }
  });
});

describe('readiness', () => {
  it('is false until every configured model is loaded and warm, and false again while draining', () => {
    const config = resolveServeConfig({ models: [{ name: 'a' }, { name: 'b' }] });
    const models = new Map<string, ServedModel>();
    const context = { config, models, draining: false };
    expect(allModelsReady(context)).toBe(false); // nothing loaded yet
    models.set('a', { ready: true } as ServedModel);
    expect(allModelsReady(context)).toBe(false);
    models.set('b', { ready: false } as ServedModel); // loaded, still warming
    expect(allModelsReady(context)).toBe(false);
    models.set('b', { ready: true } as ServedModel);
    expect(allModelsReady(context)).toBe(true);
    expect(allModelsReady({ ...context, draining: true })).toBe(false);
  });
});
