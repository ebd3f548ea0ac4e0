#!/usr/bin/env node
// `npm run bench`: every benchmark section, one after another, each in its own process so one
// section's thread pool or JIT state cannot colour the next. Sections measure side by side
// inside their own process (native vs pure-JS vs peers) and print medians and ratios.
// Pass section names to run a subset: `npm run bench -- native models`. Flags after the names go
// to the sections named: `npm run bench -- zoo --threads 1 --batches 1`. The zoo section (many
// minutes, and a 900 MB export on first use) runs only when named. `--help` alone lists the
// sections; after a section name it prints that section's own usage.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const SECTIONS = [
  { name: 'js', file: 'js-vs-tfjs.mjs', what: 'pure-JS kernels vs TensorFlow.js cpu' },
  { name: 'native', file: 'native-kernels.mjs', what: 'native kernels vs pure-JS, % of FMA peak, thread scaling' },
  { name: 'native', file: 'isa-ab.mjs', what: 'ISA tiers side by side (avx2 vs avx512), % of each tier\'s peak' },
  { name: 'models', file: 'models.mjs', what: 'ResNet-18 and MobileNetV2 vs onnxruntime-node' },
  { name: 'kernels', file: 'kernels.mjs', what: 'every listed kernel alone: GFLOP/s or GB/s, % of its ISA\'s FMA peak', onlyWhenNamed: true },
  { name: 'elementwise', file: 'elementwise.mjs', what: 'element-wise engine GB/s vs a copy and the JS kernels, thread cutoff' },
  { name: 'zoo', file: 'zoo.mjs', what: 'the torchvision classification zoo vs onnxruntime-node', onlyWhenNamed: true },
  { name: 'fusion', file: 'fusion.mjs', what: 'load-time fusion A/B: fused vs fuse: false vs onnxruntime-node on the zoo exports', onlyWhenNamed: true },
];

const argv = process.argv.slice(2);
const firstFlag = argv.findIndex((a) => a.startsWith('--'));
const wanted = firstFlag < 0 ? argv : argv.slice(0, firstFlag);
const flags = firstFlag < 0 ? [] : argv.slice(firstFlag);
if (!wanted.length && (flags.includes('--help') || flags.includes('-h'))) {
  console.log('npm run bench [-- section ... [--flag value ...]]: the sections (--help after a name prints its flags):');
  for (const s of SECTIONS) console.log(`  ${s.name.padEnd(12)} bench/${s.file}: ${s.what}${s.onlyWhenNamed ? ' (only when named)' : ''}`);
  process.exit(0);
}
if (flags.length && !wanted.length) {
  console.error('bench: flags need a section name before them, e.g. `npm run bench -- zoo --threads 1`');
  process.exit(2);
}
const unknown = wanted.filter((w) => !SECTIONS.some((s) => s.name === w));
if (unknown.length) {
  console.error(`bench: unknown section(s) ${unknown.join(', ')}; choose from ${SECTIONS.map((s) => s.name).join(', ')}`);
  process.exit(2);
}

let failed = 0;
for (const section of SECTIONS) {
  if (wanted.length ? !wanted.includes(section.name) : section.onlyWhenNamed) continue;
  const file = join(here, section.file);
  console.log(`\n=== ${section.name}: ${section.what} ===`);
  if (!existsSync(file)) {
    console.log(`(skipped: ${section.file} is not there)`);
    continue;
  }
  const result = spawnSync(process.execPath, ['--expose-gc', file, ...flags], { stdio: 'inherit' });
  if (result.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
