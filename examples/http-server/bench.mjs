#!/usr/bin/env node
// Throughput of the example server with and without dynamic batching.
//   npm run build && node examples/http-server/bench.mjs [--requests 2000] [--concurrency 64] [--model m.onnx --image x.jpg]
// Each configuration runs the server in its own child process; this process is the client and
// keeps `concurrency` requests in flight, cycling through the sample images.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = fileURLToPath(new URL('.', import.meta.url));
const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '64' },
    model: { type: 'string' },
    image: { type: 'string', multiple: true },
  },
});
const total = Number(values.requests);
const concurrency = Number(values.concurrency);
const samples = join(here, '..', '..', 'samples');
const images = (values.image ?? readdirSync(samples).filter((f) => f.endsWith('.png')).map((f) => join(samples, f))).map((f) => readFileSync(f));

function startServer(extraArgs) {
  const args = [join(here, 'server.mjs'), '--port', '0', ...extraArgs, ...(values.model ? ['--model', values.model] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve({ child, url: match[1] });
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code} before listening`)));
  });
}

async function load(url, total) {
  const latencies = [];
  const batchSizes = [];
  let next = 0;
  let failures = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const began = performance.now();
      const res = await fetch(`${url}/classify?top=1`, { method: 'POST', body: images[i % images.length] });
      const body = await res.json();
      latencies.push(performance.now() - began);
      if (res.ok) batchSizes.push(body.batchSize);
      else failures++;
    }
  };
  const began = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - began) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))].toFixed(1);
  const meanBatch = batchSizes.reduce((a, b) => a + b, 0) / Math.max(1, batchSizes.length);
  return { rps: total / seconds, p50: pct(50), p99: pct(99), meanBatch, failures };
}

const configs = [
  { name: 'no batching (max-batch 1)', args: ['--max-batch', '1', '--max-wait-ms', '0'] },
  { name: 'dynamic batching (max-batch 32, max-wait 2 ms)', args: ['--max-batch', '32', '--max-wait-ms', '2'] },
];
console.log(`${total} requests, ${concurrency} in flight, ${images.length} distinct images`);
for (const config of configs) {
  const { child, url } = await startServer(config.args);
  await load(url, Math.min(200, total)); // warm-up: JIT, sharp's thread pool, keep-alive connections
  const r = await load(url, total);
  child.kill('SIGTERM');
  console.log(
    `${config.name.padEnd(48)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  mean batch ${r.meanBatch.toFixed(1)}${r.failures ? `  FAILURES ${r.failures}` : ''}`,
  );
}
