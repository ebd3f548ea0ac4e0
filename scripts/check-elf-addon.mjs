#!/usr/bin/env node
// Checks that a prebuilt .node file is what its folder name promises: an ELF shared object for
// the right machine that exports the N-API init symbol (so Node can load it), and reports the
// newest glibc / libstdc++ symbol versions it needs (the oldest Linux it runs on).
//
// Usage: node scripts/check-elf-addon.mjs --arch x64|arm64 <file.node>
// Uses the cross binutils for arm64 (aarch64-linux-gnu-readelf/nm from g++-aarch64-linux-gnu).
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

const MACHINES = {
  x64: { machine: 'Advanced Micro Devices X86-64', tools: '' },
  arm64: { machine: 'AArch64', tools: 'aarch64-linux-gnu-' },
};
const INIT_SYMBOL = 'napi_register_module_v1';

function run(tool, args) {
  return execFileSync(tool, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

function compareVersions(a, b) {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Highest version of each versioned dependency (GLIBC_2.34, GLIBCXX_3.4.30 ...) in `readelf -V` output. */
export function newestVersions(readelfV) {
  const newest = new Map();
  for (const m of readelfV.matchAll(/Name: (GLIBC|GLIBCXX|CXXABI|GCC)_([0-9.]+)/g)) {
    const [, lib, version] = m;
    const parts = version.split('.').map(Number);
    const best = newest.get(lib);
    if (!best || compareVersions(parts, best) > 0) newest.set(lib, parts);
  }
  return Object.fromEntries([...newest].map(([lib, parts]) => [lib, parts.join('.')]));
}

function main(argv) {
  const archAt = argv.indexOf('--arch');
  const arch = archAt >= 0 ? argv[archAt + 1] : undefined;
  const file = argv.find((a, i) => !a.startsWith('--') && i !== archAt + 1);
  if (!file || !arch || !(arch in MACHINES)) {
    console.error('usage: node scripts/check-elf-addon.mjs --arch x64|arm64 <file.node>');
    return 2;
  }
  const { machine, tools } = MACHINES[arch];
  const problems = [];
  const header = run(`${tools}readelf`, ['-h', file]);
  const field = (name) => new RegExp(`^\\s*${name}:\\s+(.*)$`, 'm').exec(header)?.[1].trim() ?? '(missing)';
  if (field('Class') !== 'ELF64') problems.push(`Class is ${field('Class')}, expected ELF64`);
  if (!field('Type').startsWith('DYN')) problems.push(`Type is ${field('Type')}, expected DYN (shared object)`);
  if (field('Machine') !== machine) problems.push(`Machine is ${field('Machine')}, expected ${machine}`);

  const exported = run(`${tools}nm`, ['-D', '--defined-only', file])
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols.length === 3);
  const init = exported.find(([, type, name]) => name === INIT_SYMBOL);
  if (!init) problems.push(`does not export ${INIT_SYMBOL}`);
  else if (!/^[TtWi]$/.test(init[1])) problems.push(`${INIT_SYMBOL} is exported as type '${init[1]}', expected a function (T)`);

  if (problems.length > 0) {
    console.error(`check-elf-addon: ${file} (${arch}):\n  ${problems.join('\n  ')}`);
    return 1;
  }
  const needed = [...run(`${tools}readelf`, ['-d', file]).matchAll(/\(NEEDED\)\s+Shared library: \[(.+?)\]/g)].map((m) => m[1]);
  const versions = newestVersions(run(`${tools}readelf`, ['-V', file]));
  console.log(
    `check-elf-addon: ok: ${file}: ELF64 ${machine} shared object exporting ${INIT_SYMBOL}; ` +
      `needs ${needed.join(', ') || 'no shared libraries'}; newest symbol versions ${JSON.stringify(versions)}`,
  );
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main(process.argv.slice(2));
