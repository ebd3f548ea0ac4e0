#!/usr/bin/env node
// Scale-out, proven here: two `convnode serve` replicas behind HAProxy, about 2,000 requests,
// one replica SIGKILLed part way and a fresh one started on its port, which rejoins once
// HAProxy's health check sees it ready. Every request must be answered 200 with the label the
// library gives the same image alone. Prints how many requests HAProxy retried or redispatched.
//   npm run build && bash scripts/test-scale-out.sh
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImageClassifier } from '../dist/image/classifier.js';
import { freePort, startHaproxy, startReplica } from './scale-out/cluster.mjs';

const TOTAL = Number(process.env.SCALE_OUT_REQUESTS ?? 2000);
const CONCURRENCY = 16;
const samples = fileURLToPath(new URL('../samples/', import.meta.url));
const files = readdirSync(samples).filter((f) => f.endsWith('.png')).sort();
const bodies = files.map((f) => readFileSync(join(samples, f)));
const classifier = await ImageClassifier.load();
const expected = (await classifier.classify(bodies, 1)).map((r) => (r.ok ? r.top[0].label : undefined));

const ports = [await freePort(), await freePort()];
const args = ['--threads', '1', '--max-wait-ms', '2'];
const replicas = ports.map((p) => startReplica(p, args));
await Promise.all(replicas.map((r) => r.ready));
// SCALE_OUT_NO_RETRIES=1 turns HAProxy's retries off, to see the test fail without them.
const proxy = await startHaproxy(ports, { retries: process.env.SCALE_OUT_NO_RETRIES !== '1' });
const cleanup = () => {
  for (const r of replicas) r.child.kill('SIGKILL');
  proxy.child.kill('SIGTERM');
};
process.on('exit', cleanup);

// Wait until HAProxy sees both replicas up.
for (let i = 0; i < 100 && (await proxy.stats()).some((s) => s.status !== 'UP'); i++) await new Promise((r) => setTimeout(r, 100));

let next = 0;
let killedAt = -1;
let restartedAt = -1;
const failures = [];
const began = performance.now();
const worker = async () => {
  while (next < TOTAL) {
    const i = next++;
    if (i === Math.floor(TOTAL * 0.3) && killedAt < 0) {
      killedAt = i;
      replicas[0].child.kill('SIGKILL');
      console.log(`request ${i}: SIGKILL replica r0 (port ${ports[0]})`);
    }
    if (i === Math.floor(TOTAL * 0.5) && restartedAt < 0) {
      restartedAt = i;
      replicas[0] = startReplica(ports[0], args);
      console.log(`request ${i}: restarting r0 on port ${ports[0]}`);
    }
    const k = i % bodies.length;
    try {
      const res = await fetch(`${proxy.url}/v1/models/lenet5/classify?top=1`, { method: 'POST', body: bodies[k], headers: { 'content-type': 'image/png' } });
      const text = await res.text();
      const label = res.ok ? JSON.parse(text).results[0].top[0].label : undefined;
      if (res.status !== 200 || label !== expected[k]) failures.push(`request ${i}: ${res.status} ${text.slice(0, 200)}`);
    } catch (error) {
      failures.push(`request ${i}: ${error.message}`);
    }
  }
};
await Promise.all(Array.from({ length: CONCURRENCY }, worker));
const seconds = (performance.now() - began) / 1000;
await replicas[0].ready;

// The restarted replica must rejoin: wait for HAProxy to mark it up, then it must take traffic.
for (let i = 0; i < 100 && (await proxy.stats()).some((s) => s.status !== 'UP'); i++) await new Promise((r) => setTimeout(r, 100));
const before = (await proxy.stats()).find((s) => s.server === 'r0').requests;
await Promise.all(Array.from({ length: 20 }, (_, i) => fetch(`${proxy.url}/v1/models/lenet5/classify`, { method: 'POST', body: bodies[i % bodies.length], headers: { 'content-type': 'image/png' } }).then((r) => r.text())));
const stats = await proxy.stats();
const rejoined = stats.find((s) => s.server === 'r0').requests - before;

console.log(`${TOTAL} requests through HAProxy in ${seconds.toFixed(1)} s, ${CONCURRENCY} in flight; ${failures.length} failed`);
for (const s of stats) console.log(`  ${s.server}: ${s.status}, ${s.requests} requests, ${s.retries} retried, ${s.redispatches} redispatched`);
console.log(`  the restarted r0 took ${rejoined} of 20 requests after rejoining`);
cleanup();
process.off('exit', cleanup);
if (failures.length > 0 || rejoined === 0) {
  for (const f of failures.slice(0, 20)) console.error(f);
  console.error('scale-out: FAILED');
  process.exit(1);
}
console.log('scale-out: ok');
