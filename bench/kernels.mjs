#!/usr/bin/env node
// `npm run bench -- kernels`: the kernels micro-benchmark (native/tests/kernels_bench.cc), every
// entry of every kernel list (native/runtime/kernel-lists.cc) this CPU runs, each on its own over
// a small in-cache problem: GFLOP/s or GB/s, and % of the single-core FMA peak of the kernel's
// ISA. Builds it with CMake in build/ first: the addon's Release tree (scripts/build-native.mjs),
// whose convnode_core it links, so the core is not compiled a second time for it.
//   node bench/kernels.mjs [--rounds N] [--ms M] [--filter TEXT]
// Figures are thread CPU time, rounds interleaved over all entries, medians: on a loaded machine
// they are what the kernel costs, not how long the wait was. Name the CPU beside any you quote.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags } from './harness.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = join(root, 'build');
const jobs = process.env.JOBS ?? '2';
// Read here (--help, a typo) before the build; the binary gets them as given.
const flags = parseFlags(import.meta.url, { '--rounds': Number, '--ms': Number, '--filter': String });
const passOn = ['--rounds', '--ms', '--filter'].flatMap((f) => (flags[f] === undefined ? [] : [f, String(flags[f])]));

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`kernels bench: ${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`})`);
    process.exit(1);
  }
}

run('cmake', ['-S', '.', '-B', buildDir, '-DCMAKE_BUILD_TYPE=Release', '-DCONVNODE_BUILD_TESTS=ON']);
run('cmake', ['--build', buildDir, '--target', 'convnode_kernels_bench', '-j', jobs]);
console.log(`CPU: ${os.cpus()[0]?.model ?? 'unknown'} (${os.cpus().length} logical cores), load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
run(join(buildDir, 'convnode_kernels_bench'), passOn);
