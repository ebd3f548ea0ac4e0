#!/usr/bin/env node
// Load benchmark of `convnode serve` with autocannon: requests/s and p50 / p99 latency at 64
// connections, for the built-in LeNet-5 and MobileNetV2 (224 x 224, torchvision, random weights),
// without batching (max batch 1) and with it (max batch 32, 2 ms), on one replica, and on two
// behind HAProxy (one thread each, so both setups use the same two cores).
//   npm run build && node bench/serve.mjs [--duration 8] [--rounds 2] [--connections 64]
//                                [--models lenet5,mobilenet_v2]
// MobileNetV2 comes from scripts/onnx-fixtures/export_bench_models.py (bench/.models/).
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import sharp from 'sharp';
import { freePort, startHaproxy, startReplica } from '../scripts/scale-out/cluster.mjs';
import { parseFlags } from './harness.mjs';

const flags = parseFlags(import.meta.url, { '--duration': 8, '--rounds': 2, '--connections': 64, '--models': 'lenet5,mobilenet_v2' });
const values = { duration: flags['--duration'], rounds: flags['--rounds'], connections: flags['--connections'], models: flags['--models'] };
const mobilenet = fileURLToPath(new URL('./.models/mobilenet_v2.onnx', import.meta.url));
const sample = fileURLToPath(new URL('../samples/0000-ankle-boot.png', import.meta.url));
const MODELS = {
  lenet5: { args: [], body: readFileSync(sample), type: 'image/png' },
  // A 320 x 240 JPEG: the decode, resize to 256 and centre crop to 224 are part of each request.
  mobilenet_v2: { args: ['--model', mobilenet, '--name', 'mobilenet_v2', '--preset', 'imagenet'], body: await sharp(sample).resize(320, 240, { fit: 'fill' }).jpeg().toBuffer(), type: 'image/jpeg' },
};
const BATCHING = {
  'max batch 1': ['--max-batch', '1', '--max-wait-ms', '0'],
  'max batch 32, 2 ms': ['--max-batch', '32', '--max-wait-ms', '2'],
};
const SETUPS = {
  '1 replica, 2 threads': { replicas: 1, threads: 2, proxy: false },
  '2 replicas, 1 thread each, HAProxy': { replicas: 2, threads: 1, proxy: true },
};

async function meanBatch(ports, model) {
  let sum = 0;
  let count = 0;
  for (const port of ports) {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    sum += Number(new RegExp(`convnode_batch_size_sum\\{model="${model}"\\} ([\\d.e+]+)`).exec(text)?.[1] ?? 0);
    count += Number(new RegExp(`convnode_batch_size_count\\{model="${model}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  }
  return count ? sum / count : 0;
}

async function measure(modelName, batching, setupName) {
  const model = MODELS[modelName];
  const setup = SETUPS[setupName];
  const ports = await Promise.all(Array.from({ length: setup.replicas }, freePort));
  const replicas = ports.map((p) => startReplica(p, [...model.args, ...BATCHING[batching], '--threads', String(setup.threads), '--log-level', 'warn', '--max-queue', '1024']));
  await Promise.all(replicas.map((r) => r.ready));
  const proxy = setup.proxy ? await startHaproxy(ports) : undefined;
  if (proxy) for (let i = 0; i < 50 && (await proxy.stats()).some((s) => s.status !== 'UP'); i++) await new Promise((r) => setTimeout(r, 100));
  const url = proxy ? proxy.url : `http://127.0.0.1:${ports[0]}`;
  const run = (duration) =>
    autocannon({
      url: `${url}/v1/models/${modelName}/classify?top=1`,
      method: 'POST',
      body: model.body,
      headers: { 'content-type': model.type },
      connections: Number(values.connections),
      duration,
      timeout: 30, // s: under load a batch of MobileNetV2 queues for seconds; count that as latency, not an error
    });
  await run(2); // warm-up: JIT, sharp's threads, keep-alive connections
  const result = await run(Number(values.duration));
  const batch = await meanBatch(ports, modelName);
  for (const r of replicas) r.child.kill('SIGTERM');
  proxy?.child.kill('SIGTERM');
  await Promise.all(replicas.map((r) => r.exited));
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.non2xx, batch };
}

console.log(`CPU: ${cpus()[0].model}, ${cpus().length} logical cores; ${values.connections} connections, ${values.duration} s per run`);
console.log('| model | batching | setup | round | req/s | p50 ms | p99 ms | mean batch | errors |');
console.log('|---|---|---|---|---|---|---|---|---|');
const cells = new Map(); // "model|batching|setup" -> results of every round
for (let round = 1; round <= Number(values.rounds); round++) {
  for (const modelName of values.models.split(',')) {
    if (modelName === 'mobilenet_v2' && !existsSync(mobilenet)) {
      console.log(`(skipping mobilenet_v2: run scripts/onnx-fixtures/export_bench_models.py first)`);
      continue;
    }
    for (const batching of Object.keys(BATCHING)) {
      for (const setupName of Object.keys(SETUPS)) {
        const r = await measure(modelName, batching, setupName);
        const key = [modelName, batching, setupName].join('|');
        cells.set(key, [...(cells.get(key) ?? []), r]);
        console.log(`| ${modelName} | ${batching} | ${setupName} | ${round} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.batch.toFixed(1)} | ${r.errors} |`);
      }
    }
  }
}

// Medians over the rounds (each round ran every cell once, in turn), and the ratios the
// comparison is about: batched / unbatched, two replicas / one.
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const med = (key, field) => median(cells.get(key).map((r) => r[field]));
console.log('\nMedians over the rounds:');
console.log('| model | batching | setup | req/s | p50 ms | p99 ms | mean batch |');
console.log('|---|---|---|---|---|---|---|');
for (const key of cells.keys()) {
  const [m, b, st] = key.split('|');
  console.log(`| ${m} | ${b} | ${st} | ${med(key, 'rps').toFixed(0)} | ${med(key, 'p50')} | ${med(key, 'p99')} | ${med(key, 'batch').toFixed(1)} |`);
}
const [unbatched, batched] = Object.keys(BATCHING);
const [one, two] = Object.keys(SETUPS);
for (const m of new Set([...cells.keys()].map((k) => k.split('|')[0]))) {
  const rps = (b, st) => med([m, b, st].join('|'), 'rps');
  console.log(`${m}: batched / unbatched req/s: ${(rps(batched, one) / rps(unbatched, one)).toFixed(2)}x on one replica, ${(rps(batched, two) / rps(unbatched, two)).toFixed(2)}x on two; ` +
    `two replicas / one: ${(rps(unbatched, two) / rps(unbatched, one)).toFixed(2)}x unbatched, ${(rps(batched, two) / rps(batched, one)).toFixed(2)}x batched`);
}
