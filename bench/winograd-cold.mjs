#!/usr/bin/env node
// One Winograd 3x3 layer at a time, as it runs inside a model: its packed U matrices and input
// evicted from the caches before every run (--thrash MB of other memory written first), so U
// streams from memory as in ResNet's layer3 / layer4. Per layer and algorithm, the minimum and
// median wall time of the conv alone over --runs runs, contenders interleaved run by run.
//   node bench/winograd-cold.mjs [--shapes '512,512,7;256,256,14'] [--runs 41] [--thrash 64]
//                                [--algorithms winograd-f2x2-3x3,winograd-f4x4-3x3] [--threads 1]
//                                [--addon other.node]   (a second build, timed in turn as [1])
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseFlags, median } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const flags = parseFlags(import.meta.url, {
  '--shapes': '512,512,7;256,256,14;128,128,28;64,64,56',
  '--runs': 41,
  '--thrash': 64,
  '--algorithms': 'winograd-f2x2-3x3',
  '--threads': 1,
  '--addon': String,
  '--envs': String,
});
// Contender environments: 'A=1,B=2;A=0' (each run sets its variables first; for switches the
// native side reads on every run).
const envs = flags['--envs'] ? flags['--envs'].split(';').map((t) => Object.fromEntries(t.split(',').filter(Boolean).map((kv) => kv.split('=')))) : [{}];
const native = await import(pathToFileURL(join(here, '..', 'dist', 'backends', 'native.js')).href);
const { planConv } = await import(pathToFileURL(join(here, '..', 'dist', 'planner', 'geometry.js')).href);
const backends = [native.loadNativeBackend()];
if (backends[0] instanceof Error) throw backends[0];
native.setNumThreads(flags['--threads']);
if (flags['--addon']) {
  process.env.CONVNODE_ADDON_PATH = flags['--addon'];
  const other = await import(pathToFileURL(join(here, '..', 'dist', 'backends', 'native.js')).href + '?other');
  const b = other.loadNativeBackend();
  if (b instanceof Error) throw b;
  other.setNumThreads(flags['--threads']);
  backends.push(b);
}
const thrash = new Float32Array(flags['--thrash'] * 262144);
console.log(`${os.cpus()[0].model}, ISA ${native.getIsa()}, ${flags['--threads']} thread(s), ${flags['--runs']} runs, ` +
  `${flags['--thrash']} MB written before each run; ms per run of the conv alone: wall minimum and median, process CPU median`);
for (const [cin, cout, size] of flags['--shapes'].split(';').map((s) => s.split(',').map(Number))) {
  const spec = { inChannels: cin, outChannels: cout, groups: 1, kernel: [3, 3], stride: [1, 1], dilation: [1, 1], padding: 1 };
  const g = planConv('bench', [1, cin, size, size], spec);
  const weight = new Float32Array(cout * cin * 9).map((_, i) => Math.sin(i) * 0.1);
  const input = new Float32Array(cin * size * size).map((_, i) => Math.cos(i));
  const output = new Float32Array(cout * g.outH * g.outW);
  const runners = [];
  for (const [bi, backend] of backends.entries()) {
    for (const algorithm of flags['--algorithms'].split(',')) for (const [ei, env] of envs.entries()) {
      const kernel = backend.prepareConv2d({ inChannels: cin, outChannels: cout, groups: 1, kernelH: 3, kernelW: 3, weight,
        bias: null, activation: { kind: 'relu' }, stride: [1, 1], inputSize: [size, size], algorithm });
      const setEnv = () => { for (const e of envs) for (const k of Object.keys(e)) delete process.env[k]; Object.assign(process.env, env); };
      runners.push({ name: `[${bi}] ${algorithm}${envs.length > 1 ? ` env${ei}` : ''}`, setEnv, run: () => kernel.runSync(input, g, output, null), times: [], cpu: [] });
    }
  }
  for (let r = 0; r < flags['--runs'] + 3; r++) {
    for (const x of r % 2 ? runners.slice().reverse() : runners) {
      x.setEnv();
      for (let i = 0; i < thrash.length; i += 16) thrash[i] += 1;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      x.run();
      const t1 = performance.now();
      const c1 = process.cpuUsage(c0);
      if (r >= 3) { x.times.push(t1 - t0); x.cpu.push((c1.user + c1.system) / 1e3); }
    }
  }
  console.log(`${cin}->${cout} @${size}:`);
  for (const x of runners) {
    const first = runners[0];
    console.log(`  ${x.name.padEnd(32)} wall min ${Math.min(...x.times).toFixed(3)} med ${median(x.times).toFixed(3)}, CPU med ${median(x.cpu).toFixed(3)}` +
      ` | to first: min ${(Math.min(...x.times) / Math.min(...first.times)).toFixed(3)} med ${(median(x.times) / median(first.times)).toFixed(3)}` +
      ` CPU ${(median(x.cpu) / median(first.cpu)).toFixed(3)}`);
  }
}
