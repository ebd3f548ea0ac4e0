#!/usr/bin/env node
// Runs the native kernels' standalone test (native/tests/kernels_test.cc: every ISA path against
// scalar, scalar against the definition) linked against the very object files that went into a
// prebuild, not a separate CMake build of the same sources. For arm64 it runs under qemu-user,
// so the cross-compiled NEON code that ships is executed before it ships.
//
// Usage: node scripts/check-prebuild-kernels.mjs --arch x64|arm64 <staging dir of scripts/prebuild.mjs>
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const TEST_SOURCE = join(root, 'native', 'tests', 'kernels_test.cc');

const ARCHS = {
  x64: { cxx: 'g++', define: 'CONVNODE_HAVE_AVX2', runner: [] },
  arm64: { cxx: 'aarch64-linux-gnu-g++', define: 'CONVNODE_HAVE_NEON', runner: ['qemu-aarch64', '-L', '/usr/aarch64-linux-gnu'] },
};

function hostHasAvx2Fma() {
  const flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1].split(/\s+/) ?? [];
  return flags.includes('avx2') && flags.includes('fma');
}

/** Object files of the plain C++ part of the addon (kernels, runtime, ops): everything but N-API glue. */
function coreObjects(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'napi') found.push(...coreObjects(path));
    } else if (entry.name.endsWith('.o')) {
      found.push(path);
    }
  }
  return found;
}

function main(argv) {
  const archAt = argv.indexOf('--arch');
  const arch = archAt >= 0 ? argv[archAt + 1] : undefined;
  const stage = argv.find((a, i) => !a.startsWith('--') && i !== archAt + 1);
  if (!stage || !arch || !(arch in ARCHS)) {
    console.error('usage: node scripts/check-prebuild-kernels.mjs --arch x64|arm64 <staging dir>');
    return 2;
  }
  if (!existsSync(TEST_SOURCE)) {
    console.error(`check-prebuild-kernels: ${TEST_SOURCE} is missing`);
    return 1;
  }
  const objDir = join(stage, 'build', 'Release', 'obj.target');
  const objects = existsSync(objDir) ? coreObjects(objDir) : [];
  if (objects.length === 0) {
    console.error(`check-prebuild-kernels: no object files under ${objDir}; run scripts/prebuild.mjs first`);
    return 1;
  }
  const { cxx, define, runner } = ARCHS[arch];
  const exe = join(stage, 'kernels_test');
  execFileSync(cxx, ['-std=c++17', '-O2', `-D${define}`, '-o', exe, TEST_SOURCE, ...objects, '-pthread'], { stdio: 'inherit' });
  const [command, ...prefix] = runner.length > 0 ? runner : [exe];
  let output;
  try {
    output = execFileSync(command, runner.length > 0 ? [...prefix, exe] : [], { encoding: 'utf8' });
  } catch (err) {
    console.error(`check-prebuild-kernels: ${arch}: the kernel test failed (${err.message.split('\n')[0]}):\n${err.stdout ?? ''}${err.stderr ?? ''}`);
    return 1;
  }
  const verdict = output.trim().split('\n').pop();
  // The vector path must have run too: always NEON on arm64; AVX2 where this CPU has it.
  const isa = arch === 'arm64' ? 'neon' : hostHasAvx2Fma() ? 'avx2' : null;
  const ranIsa = isa === null || output.split('\n').some((l) => l.startsWith(`kernels_test: ${isa} `));
  if (!/^kernels_test: PASS/.test(verdict) || !ranIsa) {
    console.error(`check-prebuild-kernels: ${arch}: the kernel test did not pass${ranIsa ? '' : ` on the ${isa} path`}:\n${output}`);
    return 1;
  }
  console.log(`check-prebuild-kernels: ok: ${arch} (${objects.length} shipped object files${runner.length ? ', under qemu-aarch64' : ''}): ${verdict}`);
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main(process.argv.slice(2));
