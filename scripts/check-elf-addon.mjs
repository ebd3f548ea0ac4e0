#!/usr/bin/env node
// Checks that a prebuilt .node file is what its folder name promises: an ELF shared object for
// the right machine that exports the N-API init symbol (so Node can load it), and reports the
// newest glibc / libstdc++ symbol versions it needs (the oldest Linux it runs on).
//
// Usage: node scripts/check-elf-addon.mjs --arch x64|arm64 [--glibc-floor 2.17] [--no-libstdcxx]
//                                         [--musl] <file.node>
//   --glibc-floor V  fail if any symbol needs a glibc newer than V (`readelf -V`)
//   --no-libstdcxx   fail on any GLIBCXX / CXXABI version or a NEEDED libstdc++ / libgcc_s:
//                    the C++ runtime must be linked in (Zig links libc++ statically)
//   --musl           a musl build: needs musl's libc (libc.so, ld-musl-*) and no glibc symbol
//                    versions at all
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

/** Problems with the C library / C++ runtime a binary needs, against the floor options. */
export function floorProblems(versions, needed, { glibcFloor, noLibstdcxx, musl }) {
  const problems = [];
  if (glibcFloor && versions.GLIBC && compareVersions(versions.GLIBC.split('.').map(Number), glibcFloor.split('.').map(Number)) > 0) {
    problems.push(`needs GLIBC_${versions.GLIBC}, above the floor ${glibcFloor}`);
  }
  if (noLibstdcxx || musl) {
    for (const lib of ['GLIBCXX', 'CXXABI']) if (versions[lib]) problems.push(`needs ${lib}_${versions[lib]}: libstdc++ must not be a runtime dependency`);
    for (const lib of needed) if (/^lib(stdc\+\+|c\+\+|gcc_s)[.-]/.test(lib)) problems.push(`needs ${lib} at run time; link the C++ runtime statically`);
  }
  if (musl) {
    if (versions.GLIBC) problems.push(`a musl build needs GLIBC_${versions.GLIBC}`);
    if (needed.some((lib) => /^(libc\.so\.6|ld-linux)/.test(lib))) problems.push(`a musl build needs glibc's ${needed.join(', ')}`);
    if (!needed.some((lib) => /^(libc\.so|ld-musl-)/.test(lib))) problems.push(`a musl build should need musl's libc.so, not ${needed.join(', ') || 'nothing'}`);
  }
  return problems;
}

function main(argv) {
  const valueOf = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
  const arch = valueOf('--arch');
  const floors = { glibcFloor: valueOf('--glibc-floor'), noLibstdcxx: argv.includes('--no-libstdcxx'), musl: argv.includes('--musl') };
  const valueAt = new Set(['--arch', '--glibc-floor'].map((n) => argv.indexOf(n) + 1).filter((i) => i > 0));
  const file = argv.find((a, i) => !a.startsWith('--') && !valueAt.has(i));
  if (!file || !arch || !(arch in MACHINES) || (floors.glibcFloor !== undefined && !/^\d+\.\d+$/.test(floors.glibcFloor))) {
    console.error('usage: node scripts/check-elf-addon.mjs --arch x64|arm64 [--glibc-floor 2.17] [--no-libstdcxx] [--musl] <file.node>');
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

  const needed = [...run(`${tools}readelf`, ['-d', file]).matchAll(/\(NEEDED\)\s+Shared library: \[(.+?)\]/g)].map((m) => m[1]);
  const versions = newestVersions(run(`${tools}readelf`, ['-V', file]));
  problems.push(...floorProblems(versions, needed, floors));
  if (problems.length > 0) {
    console.error(`check-elf-addon: ${file} (${arch}):\n  ${problems.join('\n  ')}`);
    return 1;
  }
  console.log(
    `check-elf-addon: ok: ${file}: ELF64 ${machine} shared object exporting ${INIT_SYMBOL}; ` +
      `needs ${needed.join(', ') || 'no shared libraries'}; newest symbol versions ${JSON.stringify(versions)}`,
  );
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main(process.argv.slice(2));
