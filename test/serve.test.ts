// convnode serve's routes on a loopback port: the v2 health / metadata / infer routes, /v1
// classify (raw and multipart), /metrics. Every answer is checked against the library run
// directly on the same input, with no server and no batching.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBackend } from '../lib/backends/index.js';
import { getIsa } from '../lib/backends/native.js';
import { getNumThreads } from '../lib/backends/threads.js';
import { ImageClassifier } from '../lib/image/classifier.js';
import { imagesToBatch } from '../lib/image/index.js';
import { Tensor } from '../lib/tensor.js';
import { answer, sampleBodies, sampleFiles, startServer, type Running } from './helpers/serve.js';

let running: Running;
let classifier: ImageClassifier;
let expected: { label: string; probability: number }[];

beforeAll(async () => {
  classifier = await ImageClassifier.load();
  expected = [];
  for (const body of sampleBodies) {
    const [result] = await classifier.classify([body], 1);
    if (!result.ok) throw new Error(result.error);
    expected.push(result.top[0]);
  }
  running = await startServer({ models: [{ name: 'lenet5', maxBatch: 16, maxWaitMs: 5 }, { name: 'second', maxBatch: 1, topK: 2 }] });
});

afterAll(() => running.close());

const post = (path: string, body: BodyInit, type: string) => fetch(`${running.url}${path}`, { method: 'POST', body, headers: { 'content-type': type } });

describe('Open Inference Protocol v2', () => {
  it('answers health, server metadata, model metadata and model readiness', async () => {
    expect(await answer(await fetch(`${running.url}/v2/health/live`))).toMatchObject({ status: 200, body: { live: true } });
    expect(await answer(await fetch(`${running.url}/v2/health/ready`))).toMatchObject({ status: 200, body: { ready: true } });
    expect((await answer(await fetch(`${running.url}/v2`))).body).toMatchObject({ name: 'convnode' });
    const meta = await answer(await fetch(`${running.url}/v2/models/lenet5`));
    expect(meta.body).toEqual({
      name: 'lenet5',
      versions: ['1'],
      platform: 'onnx',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 1, 28, 28] }],
      outputs: [{ name: 'logits', datatype: 'FP32', shape: [-1, 10] }],
    });
    expect(await answer(await fetch(`${running.url}/v2/models/second/ready`))).toMatchObject({ status: 200, body: { name: 'second', ready: true } });
  });

  it('infer on a KServe-shaped FP32 request gives the model\'s own outputs, at batch 3, flat or nested data', async () => {
    const { tensor } = await imagesToBatch(sampleBodies.slice(0, 3), classifier.image);
    const direct = await classifier.onnx.run({ input: tensor });
    const flat = { id: 'req-1', inputs: [{ name: 'input', shape: [3, 1, 28, 28], datatype: 'FP32', data: Array.from(tensor.data) }], outputs: [{ name: 'logits' }] };
    const res = await answer(await post('/v2/models/lenet5/infer', JSON.stringify(flat), 'application/json'));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ model_name: 'lenet5', id: 'req-1' });
    const [out] = res.body.outputs as { name: string; datatype: string; shape: number[]; data: number[] }[];
    expect(out).toMatchObject({ name: 'logits', datatype: 'FP32', shape: [3, 10] });
    const want = direct.logits.data;
    out.data.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(want[i]))));

    // Nested row-major data, as some clients send numpy's tolist().
    const t = new Tensor([3, 1, 28, 28], tensor.data);
    const nested = { inputs: [{ name: 'input', shape: [3, 1, 28, 28], datatype: 'FP32', data: t.toArray() }] };
    const res2 = await answer(await post('/v2/models/lenet5/infer', JSON.stringify(nested), 'application/json'));
    expect((res2.body.outputs as { data: number[] }[])[0].data).toEqual(out.data);
  });
});

describe('POST /v1/models/{name}/classify', () => {
  it('classifies a raw image body, with ?top', async () => {
    const res = await answer(await post('/v1/models/lenet5/classify?top=2', sampleBodies[0], 'image/png'));
    expect(res.status).toBe(200);
    const [result] = res.body.results as { name: string; top: { label: string; probability: number }[] }[];
    expect(result.name).toBe('image');
    expect(result.top).toHaveLength(2);
    expect(result.top[0].label).toBe(expected[0].label);
    expect(result.top[0].probability).toBeCloseTo(expected[0].probability, 5);
  });

  it('classifies a multipart form of several images as one batch, with a per-image error for one that does not decode', async () => {
    const form = new FormData();
    form.append('a', new Blob([sampleBodies[1]], { type: 'image/png' }), sampleFiles[1]);
    form.append('b', new Blob([Buffer.from('not an image at all')]), 'notes.txt');
    form.append('c', new Blob([sampleBodies[2]], { type: 'image/png' }), sampleFiles[2]);
    const res = await answer(await fetch(`${running.url}/v1/models/lenet5/classify?top=1`, { method: 'POST', body: form }));
    expect(res.status).toBe(200);
    expect(res.body.batch_size).toBeGreaterThanOrEqual(2);
    const results = res.body.results as Record<string, unknown>[];
    expect(results.map((r) => r.name)).toEqual([sampleFiles[1], 'notes.txt', sampleFiles[2]]);
    expect((results[0].top as { label: string }[])[0].label).toBe(expected[1].label);
    expect(results[1]).toMatchObject({ code: 'INVALID_IMAGE', error: expect.stringMatching(/'notes.txt' is not in a format the server reads/) });
    expect((results[2].top as { label: string }[])[0].label).toBe(expected[2].label);
  });

  it('a model\'s topK is its default answer length', async () => {
    const res = await answer(await post('/v1/models/second/classify', sampleBodies[0], 'application/octet-stream'));
    expect((res.body.results as { top: unknown[] }[])[0].top).toHaveLength(2);
  });

  it('answers 200 concurrent uploads correctly, loses none, and batches them', async () => {
    const responses = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const res = await answer(await post('/v1/models/lenet5/classify?top=1', sampleBodies[i % sampleBodies.length], 'image/png'));
        return { i, ...res };
      }),
    );
    const sizes: number[] = [];
    for (const { i, status, body } of responses) {
      expect(status).toBe(200);
      const [result] = body.results as { top: { label: string; probability: number }[] }[];
      expect(result.top[0].label).toBe(expected[i % sampleBodies.length].label);
      expect(result.top[0].probability).toBeCloseTo(expected[i % sampleBodies.length].probability, 5);
      sizes.push(body.batch_size as number);
    }
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(16);
  });
});

describe('GET /metrics', () => {
  it('counts requests by route and status, and reports batch sizes, queue depth, inference time and the ISA', async () => {
    await post('/v1/models/lenet5/classify', sampleBodies[0], 'image/png');
    await fetch(`${running.url}/v2/models/nope`);
    const text = await (await fetch(`${running.url}/metrics`)).text();
    expect(text).toMatch(/convnode_http_requests_total\{route="\/v1\/models\/:name\/classify",method="POST",status="200"\} \d+/);
    expect(text).toMatch(/convnode_http_requests_total\{route="\/v2\/models\/:name",method="GET",status="404"\} 1/);
    expect(text).toMatch(/convnode_http_request_duration_seconds_bucket\{le="0.1",route="\/v1\/models\/:name\/classify",method="POST"\} \d+/);
    expect(text).toMatch(/convnode_batch_size_bucket\{le="16",model="lenet5"\} [1-9]\d*/);
    expect(text).toMatch(/convnode_inference_duration_seconds_count\{model="lenet5"\} [1-9]\d*/);
    expect(text).toMatch(/convnode_queue_depth\{model="lenet5"\} 0/);
    const native = getBackend() === 'native';
    const info = `backend="${getBackend()}",isa="${native ? getIsa() : 'none'}",threads="${getBackend() !== 'js' ? getNumThreads() : 1}"`;
    expect(text).toMatch(new RegExp(`convnode_info\\{version="\\d+\\.\\d+\\.\\d+",${info}\\} 1`));
  });
});
