#!/usr/bin/env node
// Runs the native kernels' standalone test (native/tests/kernels_test.cc: every ISA path against
// scalar, scalar against the definition) linked against the very object files that went into a
// prebuild, not a separate CMake build of the same sources. For arm64 it runs under qemu-user,
// so the cross-compiled NEON code that ships is executed before it ships; for x64 it also runs
// under qemu-x86_64 as CPUs without AVX2, where the dispatcher must stay on the scalar path, and
// as an AVX2 CPU without AVX-512, where it must run avx2 and never the avx512 tier.
//
// Usage: node scripts/check-prebuild-kernels.mjs --arch x64|arm64 <staging dir of scripts/prebuild.mjs>
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const TEST_SOURCE = join(root, 'native', 'tests', 'kernels_test.cc');

const ARCHS = {
  x64: { cxx: 'g++', define: 'CONVNODE_HAVE_AVX2', runner: [] },
  arm64: { cxx: 'aarch64-linux-gnu-g++', define: 'CONVNODE_HAVE_NEON', runner: ['qemu-aarch64', '-L', '/usr/aarch64-linux-gnu'] },
};

function hostFlags() {
  return readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1].split(/\s+/) ?? [];
}

function hostHasAvx2Fma() {
  const flags = hostFlags();
  return flags.includes('avx2') && flags.includes('fma');
}

function hostHasAvx512() {
  const flags = hostFlags();
  return hostHasAvx2Fma() && ['avx512f', 'avx512bw', 'avx512dq', 'avx512vl'].every((f) => flags.includes(f));
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
  // The vector paths must have run too: always NEON on arm64; AVX2 and AVX-512 where this CPU has them.
  const isas = arch === 'arm64' ? ['neon'] : [...(hostHasAvx2Fma() ? ['avx2'] : []), ...(hostHasAvx512() ? ['avx512'] : [])];
  const missing = isas.filter((isa) => !output.split('\n').some((l) => l.startsWith(`kernels_test: ${isa} `)));
  const ranIsa = missing.length === 0;
  const isa = missing.join(' and ');
  if (!/^kernels_test: PASS/.test(verdict) || !ranIsa) {
    console.error(`check-prebuild-kernels: ${arch}: the kernel test did not pass${ranIsa ? '' : ` on the ${isa} path`}:\n${output}`);
    return 1;
  }
  console.log(`check-prebuild-kernels: ok: ${arch} (${objects.length} shipped object files${runner.length ? ', under qemu-aarch64' : ''}): ${verdict}`);
  return arch === 'x64' ? checkOlderX64Cpus(exe) : 0;
}

// The SIGILL rule, executed rather than read off the disassembly: on an emulated baseline
// x86-64 CPU (qemu64: SSE2 only) and on one with AVX but no AVX2/FMA (SandyBridge), the same
// objects must pass on the scalar path; on an AVX2-only one (Haswell: no AVX-512) they must run
// the avx2 tier and say the avx512 one was skipped. qemu raises SIGILL for any instruction the
// CPU lacks (its TCG emulates AVX2 since 7.2; the Haswell run takes ~30 s of CPU).
function checkOlderX64Cpus(exe) {
  const probe = spawnSync('qemu-x86_64', ['-version'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) {
    console.error('check-prebuild-kernels: qemu-x86_64 is not installed (apt-get install qemu-user); cannot run the x64 objects on older CPUs');
    return 1;
  }
  for (const cpu of ['qemu64', 'SandyBridge']) {
    const run = spawnSync('qemu-x86_64', ['-cpu', cpu, exe], { encoding: 'utf8' });
    const verdict = run.stdout.trim().split('\n').pop() ?? '';
    const vectorRan = /^kernels_test: avx(2|512) /m.test(run.stdout);
    if (run.status !== 0 || !/^kernels_test: PASS/.test(verdict) || vectorRan) {
      const why = run.signal ?? (run.status === 132 ? 'SIGILL' : `exit ${run.status}`);
      console.error(`check-prebuild-kernels: x64 on an emulated ${cpu} CPU: ${vectorRan ? 'ran a vector path' : why}\n${run.stdout}`);
      return 1;
    }
    console.log(`check-prebuild-kernels: ok: x64 on an emulated ${cpu} CPU (no AVX2): scalar path, ${verdict}`);
  }
  const haswell = spawnSync('qemu-x86_64', ['-cpu', 'Haswell', exe], { encoding: 'utf8' });
  const verdict = haswell.stdout.trim().split('\n').pop() ?? '';
  const ranAvx2 = /^kernels_test: avx2 /m.test(haswell.stdout);
  const ranAvx512 = /^kernels_test: avx512 /m.test(haswell.stdout);
  const saidSkipped = /^kernels_test: avx512: skipped, CPU lacks AVX-512F/m.test(haswell.stdout);
  if (haswell.status !== 0 || !/^kernels_test: PASS/.test(verdict) || !ranAvx2 || ranAvx512 || !saidSkipped) {
    const why = haswell.signal ?? (haswell.status === 132 ? 'SIGILL' : `exit ${haswell.status}`);
    const what = ranAvx512 ? 'ran the AVX-512 path' : !ranAvx2 ? 'did not run the AVX2 path' : !saidSkipped ? 'no "avx512: skipped" line' : why;
    console.error(`check-prebuild-kernels: x64 on an emulated Haswell CPU (AVX2, no AVX-512): ${what}\n${haswell.stdout}`);
    return 1;
  }
  console.log(`check-prebuild-kernels: ok: x64 on an emulated Haswell CPU (AVX2, no AVX-512): avx2 path, avx512 skipped, ${verdict}`);
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main(process.argv.slice(2));
