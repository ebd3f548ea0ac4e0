#!/usr/bin/env node
// Does a slow image slow everyone down? 8 clients keep sending a 4800 x 4800 PNG (23 M pixels,
// under the default limit; tens of KB, a second or so to decode) while 8 others send the
// 28 x 28 samples. Reports the small requests' p50 / p99 latency with and without the big ones,
// for `convnode serve` (decodes each image before it joins a batch) and, given --old <dir>, the
// node:http example it replaced (decoded inside the batch), from a checkout that still has it.
//   npm run build && node bench/serve-slow-decode.mjs [--old /path/to/old/checkout] [--seconds 8]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import sharp from 'sharp';
import { freePort, startReplica } from '../scripts/scale-out/cluster.mjs';
import { parseFlags } from './harness.mjs';

const flags = parseFlags(import.meta.url, { '--old': String, '--seconds': 8 });
const values = { old: flags['--old'], seconds: flags['--seconds'] };
const small = readFileSync(fileURLToPath(new URL('../samples/0000-ankle-boot.png', import.meta.url)));
const big = await sharp({ create: { width: 4800, height: 4800, channels: 3, background: '#777' } }).png({ compressionLevel: 9 }).toBuffer();

async function load(url, withBig) {
  const stopAt = performance.now() + Number(values.seconds) * 1000;
  const latencies = [];
  const client = async (body, record) => {
    while (performance.now() < stopAt) {
      const began = performance.now();
      const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'image/png' } });
      await res.arrayBuffer();
      if (record) latencies.push(performance.now() - began);
    }
  };
  await Promise.all([...Array.from({ length: 8 }, () => client(small, true)), ...(withBig ? Array.from({ length: 8 }, () => client(big, false)) : [])]);
  latencies.sort((a, b) => a - b);
  const at = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(0);
  return `${latencies.length} small requests, p50 ${at(0.5)} ms, p99 ${at(0.99)} ms`;
}

async function oldServer(dir) {
  const port = await freePort();
  const child = spawn(process.execPath, [join(dir, 'examples/http-server/server.mjs'), '--port', String(port)], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, url: `http://127.0.0.1:${port}/classify?top=1` };
}

console.log(`CPU: ${cpus()[0].model}, ${cpus().length} cores; big image ${big.length} bytes, 4800 x 4800`);
const port = await freePort();
const replica = startReplica(port, ['--log-level', 'warn']);
await replica.ready;
const url = `http://127.0.0.1:${port}/v1/models/lenet5/classify?top=1`;
console.log(`convnode serve, alone:          ${await load(url, false)}`);
console.log(`convnode serve, with big ones:  ${await load(url, true)}`);
replica.child.kill('SIGTERM');
if (values.old) {
  const old = await oldServer(values.old);
  console.log(`old example, alone:             ${await load(old.url, false)}`);
  console.log(`old example, with big ones:     ${await load(old.url, true)}`);
  old.child.kill('SIGTERM');
}
