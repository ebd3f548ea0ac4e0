// SIGTERM on a real `convnode serve` process: readiness goes false at once, new requests get 503,
// every request accepted before the signal is answered, and the process exits 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { answer, eventually, sampleBodies } from './helpers/serve.js';

const cli = fileURLToPath(new URL('../bin/convnode.js', import.meta.url));

/** Starts the CLI and resolves with its URL once the model is ready. */
function startCli(args: string[]): Promise<{ child: ChildProcess; url: string; exited: Promise<number | null>; log: () => string }> {
  const child = spawn(process.execPath, [cli, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let url: string | undefined;
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      url ??= /listening at (http:\/\/[\d.]+:\d+)/.exec(log)?.[1];
      if (url && log.includes('"model ready"')) resolve({ child, url, exited, log: () => log });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => reject(new Error(`serve exited with ${code} before it was ready:\n${log}`)));
  });
}

describe('convnode serve drains on SIGTERM', () => {
  it('answers every accepted request, refuses new ones with 503, and exits 0', async () => {
    // A batch waits up to 4 s for company (64 images), so the 20 requests are still queued at
    // the signal; the test waits until the server holds all 20 (its queue-depth metric, plus
    // any already answered), never for a guessed number of milliseconds.
    const { child, url, exited, log } = await startCli(['--max-wait-ms', '4000', '--max-batch', '64', '--deadline-ms', '60000', '--drain-timeout-ms', '60000']);
    const post = () => fetch(`${url}/v1/models/lenet5/classify?top=1`, { method: 'POST', body: sampleBodies[0], headers: { 'content-type': 'image/png' } }).then(answer);
    let answered = 0;
    const accepted = Array.from({ length: 20 }, () => post().then((a) => { answered++; return a; }));
    const queued = async () => Number(/convnode_queue_depth\{model="lenet5"\} (\d+)/.exec(await (await fetch(`${url}/metrics`)).text())?.[1] ?? 0);
    await eventually(async () => (await queued()) + answered === 20, 'the server to hold all 20 requests');
    child.kill('SIGTERM');
    await eventually(async () => (await fetch(`${url}/v2/health/ready`)).status === 503, 'readiness to go false after SIGTERM');
    const ready = await fetch(`${url}/v2/health/ready`).then(answer);
    expect(ready).toMatchObject({ status: 503, body: { ready: false } });
    const late = await post();
    expect(late).toMatchObject({ status: 503, body: { code: 'SHUTTING_DOWN' } });

    const answers = await Promise.all(accepted);
    expect(answers.map((a) => a.status)).toEqual(new Array(20).fill(200));
    for (const a of answers) expect((a.body.results as { top: { label: string }[] }[])[0].top[0].label).toBe('Ankle boot');
    expect(await exited).toBe(0);
    expect(log()).toMatch(/"drained; exiting"/);
  });

  it('a model that fails to load makes the process exit 1 with the reason', async () => {
    const child = spawn(process.execPath, [cli, 'serve', '--port', '0', '--model', 'no-such-model.onnx'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(out).toMatch(/no-such-model\.onnx/);
  });

  it('bad flags exit 2 naming the flag', async () => {
    const child = spawn(process.execPath, [cli, 'serve', '--max-batch', 'lots'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(2);
    expect(err).toMatch(/--max-batch must be a whole number from 1 to 4096, got 'lots'/);
  });
});

describe('examples/http-server', () => {
  it('starts the server from code and answers a classify request', async () => {
    const child = spawn(process.execPath, [fileURLToPath(new URL('../examples/http-server/server.mjs', import.meta.url))], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PORT: '0' },
    });
    let log = '';
    child.stdout.on('data', (c) => (log += c));
    child.stderr.on('data', (c) => (log += c));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      await eventually(() => log.includes('"model ready"'), 'the example server to be ready');
      const url = /listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(log)?.[1];
      expect(url).toBeDefined();
      const res = await answer(await fetch(`${url}/v1/models/lenet5/classify?top=1`, { method: 'POST', body: sampleBodies[0], headers: { 'content-type': 'image/png' } }));
      expect((res.body.results as { top: { label: string }[] }[])[0].top[0].label).toBe('Ankle boot');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
