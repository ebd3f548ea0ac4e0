#!/usr/bin/env node
// Max pool 3x3 stride 2 pad 1 (ResNet's stem pool), native only: 1 and 2 threads, batch 1 and 8,
// interleaved rounds, medians. Needs `npm run build` (dist/) and the addon built.
//
//   node bench/maxpool.mjs [--rounds 15] [--runs 20] [--size 112] [--channels 64] [--inputs 1]
//                          [--addon path/to/other.node ...]
// --inputs N: runs cycle over N different inputs; at batch 8 (25.7 MB each) N >= 2 keeps the
// input from staying in the 32 MB L3 between runs, as in a model where it comes from memory.
// Each --addon loads another build of the addon into this process (process.dlopen: every binary
// has its own thread pool) and times it in the same interleaved rounds as this checkout's build,
// so an A/B comparison shares the machine's load. Rounds alternate the order of the binaries.
// Prints medians over the rounds and the best round. cpu: the process's CPU ms per run; 2-thread
// wall time near the CPU time means the second core was taken by something else.
import os from 'node:os';
import { planWindow } from '../dist/planner/geometry.js';
import { interleavedRounds, loadAddons, median } from './ab-addons.mjs';
import { parseFlags } from './harness.mjs';

const flags = parseFlags(import.meta.url, { '--rounds': 15, '--runs': 20, '--size': 112, '--channels': 64, '--inputs': 1, '--addon': [] });
const rounds = flags['--rounds'];
const runs = flags['--runs'];
const size = flags['--size'];
const channels = flags['--channels'];
const inputCount = flags['--inputs'];

const addons = loadAddons(flags['--addon']);

const window = planWindow('maxpool', size, size, { kernel: [3, 3], stride: [2, 2], dilation: [1, 1], padding: 1 });
const cases = [];
for (const batch of [1, 8]) {
  const geometry = { ...window, batch, channels, kind: 'max', countIncludePad: false };
  const random = () => new Float32Array(batch * channels * size * size).map(() => Math.random() * 2 - 1);
  const inputs = Array.from({ length: inputCount }, random);
  for (const threads of [1, 2]) {
    // One output per binary, so a binary that writes wrong values shows in the check below.
    const outputs = addons.map(() => new Float32Array(batch * channels * window.outH * window.outW));
    cases.push({ batch, threads, geometry, inputs, outputs, samples: addons.map(() => []), cpu: addons.map(() => []) });
  }
}

interleavedRounds(rounds, cases, addons.length, (c, a) => {
  const { addon } = addons[a];
  addon.setNumThreads(c.threads);
  addon.pool2dSync(c.inputs[0], c.geometry, c.outputs[a]);  // warm-up: wakes the pool's threads
  const cpu = process.cpuUsage();
  const t = performance.now();
  for (let r = 0; r < runs; r++) addon.pool2dSync(c.inputs[r % inputCount], c.geometry, c.outputs[a]);
  c.samples[a].push((performance.now() - t) / runs);
  const used = process.cpuUsage(cpu);
  c.cpu[a].push((used.user + used.system) / 1000 / runs);
});

for (const c of cases) {
  for (let a = 1; a < addons.length; a++) {
    if (c.outputs[a].some((v, i) => v !== c.outputs[0][i])) {
      throw new Error(`${addons[a].name} disagrees with this checkout at batch ${c.batch}`);
    }
  }
}

const load = os.loadavg().map((v) => v.toFixed(2)).join(' ');
console.log(`maxpool 3x3/2 pad 1, ${channels} ch @${size}x${size}; ${rounds} rounds x ${runs} runs, ${inputCount} input(s)`);
console.log(`load average ${load}`);
addons.forEach(({ name }, a) => {
  console.log(`\n${name}`);
  for (const batch of [1, 8]) {
    const [one, two] = [1, 2].map((threads) => cases.find((c) => c.batch === batch && c.threads === threads));
    const [oneMs, twoMs] = [median(one.samples[a]), median(two.samples[a])];
    const [oneBest, twoBest] = [Math.min(...one.samples[a]), Math.min(...two.samples[a])];
    console.log(
      `  batch ${batch}: 1 thread ${oneMs.toFixed(3)} ms (cpu ${median(one.cpu[a]).toFixed(3)}), ` +
        `2 threads ${twoMs.toFixed(3)} ms (cpu ${median(two.cpu[a]).toFixed(3)}), ${(oneMs / twoMs).toFixed(2)}x; ` +
        `best rounds ${oneBest.toFixed(3)} / ${twoBest.toFixed(3)} ms`,
    );
  }
});
