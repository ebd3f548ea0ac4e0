#!/usr/bin/env node
// Runs the native kernels' standalone test (native/tests/kernels_test.cc: every ISA path against
// scalar, scalar against the definition) that scripts/prebuild-zig.mjs linked against the very
// core and ISA object files of a prebuild, on this Linux x64 machine:
//   linux-x64-*    natively (every tier this CPU has must run), and (glibc) under qemu-x86_64 as
//                  a CPU with AVX but without AVX2/FMA (SandyBridge), where the dispatcher must
//                  stay scalar and a stray AVX2/FMA instruction is a SIGILL, and as an AVX2 CPU
//                  without AVX-512 (Haswell), where it must run avx2 and skip avx512 (its scalar
//                  pass left out: the SandyBridge run's executes the same instructions). (Instructions
//                  older CPUs lack, SSE3 and up, are found in the disassembly by check-x64-isa.mjs;
//                  a baseline qemu64 run cost 67 s of CPU for the same scalar sweep at 1 and 3
//                  threads, measured on this Zen 4 at load ~10.)
//   Emulated runs sample the activations' accuracy sweep at 2 x 10^5 points instead of 2 x 10^6
//   (CONVNODE_ULP_SAMPLES, as test-native-kernels.sh does under qemu; the bounds are the same),
//   and run the single-thread pass only (CONVNODE_KERNELS_TEST_THREADS=1): what an emulated CPU
//   checks is the dispatch and the instructions; the 3-thread split runs natively and under wine.
//   linux-arm64-*  under qemu-aarch64 (NEON), glibc with Debian's arm64 sysroot, musl static;
//   win32-x64      under wine (Debian's wine64): AVX2 and scalar;
//   darwin-*       not runnable here: reported, never counted as run.
//
// Usage: node scripts/check-prebuild-kernels.mjs --target <name> <build-prebuild/<name> dir>
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TARGETS } from './prebuild-targets.mjs';
import { wineCommand } from './prebuild-wine.mjs';

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

/** [command, args] that runs `exe` for target `name` here, or a string saying why it cannot. */
export function runnerFor(name, exe) {
  const t = TARGETS[name];
  if (t.run === 'native') return ['', [exe]];
  if (t.run === 'qemu-aarch64') {
    // glibc builds load ld-linux-aarch64 from the cross sysroot; musl ones are static.
    return ['qemu-aarch64', t.libc === 'glibc' ? ['-L', '/usr/aarch64-linux-gnu', exe] : [exe], EMULATED_ENV];
  }
  if (t.run === 'wine') return wineCommand([exe]);
  return 'macOS binaries cannot run on Linux';
}

const EMULATED_ENV = { CONVNODE_ULP_SAMPLES: '200000', CONVNODE_KERNELS_TEST_THREADS: '1' };

/**
 * CPU seconds (user + system) of this process's children that have ended: /proc/self/stat's
 * cutime + cstime. spawnSync has reaped its child when it returns, so the difference around one
 * run is that run's CPU (wine's server, a daemon nobody waits for, is in no figure).
 */
function childrenCpuSeconds() {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100; // clock ticks: USER_HZ is 100 on Linux
}

function run(command, args, env = {}) {
  const [cmd, argv] = command === '' ? [args[0], args.slice(1)] : [command, args];
  const cpuBefore = childrenCpuSeconds();
  const r = spawnSync(cmd, argv, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 15 * 60 * 1000 });
  if (r.error) return { ok: false, why: `${cmd} could not start (${r.error.code ?? r.error.message})`, out: '' };
  const out = (r.stdout ?? '').replace(/\r\n/g, '\n');
  // The verdict line the log shows, with the run's CPU time: what each check costs the CI.
  const verdict = `${out.trim().split('\n').pop() ?? ''} (${(childrenCpuSeconds() - cpuBefore).toFixed(1)} s CPU)`;
  const ok = r.status === 0 && /^kernels_test: PASS/.test(verdict);
  return { ok, out, verdict, why: ok ? '' : r.signal ? `killed by ${r.signal}` : r.status === 132 ? 'SIGILL' : `exit ${r.status}: ${verdict}\n${r.stderr ?? ''}` };
}

function main(argv) {
  const targetAt = argv.indexOf('--target');
  const name = targetAt >= 0 ? argv[targetAt + 1] : undefined;
  const dir = argv.find((a, i) => !a.startsWith('--') && i !== targetAt + 1);
  if (!dir || !(name in TARGETS)) {
    console.error(`usage: node scripts/check-prebuild-kernels.mjs --target ${Object.keys(TARGETS).join('|')} <build dir>`);
    return 2;
  }
  const t = TARGETS[name];
  const exe = join(dir, t.platform === 'win32' ? 'kernels_test.exe' : 'kernels_test');
  if (t.run === null) {
    console.log(`check-prebuild-kernels: ${name}: not run (macOS binaries cannot run on Linux; the addon is built and inspected only)`);
    return 0;
  }
  if (!existsSync(exe)) {
    console.error(`check-prebuild-kernels: ${exe} is missing; run scripts/prebuild.mjs first`);
    return 1;
  }
  const runner = runnerFor(name, exe);
  if (typeof runner === 'string') {
    console.error(`check-prebuild-kernels: ${name}: cannot run the kernel test here: ${runner}`);
    return 1;
  }
  const result = run(...runner);
  // The vector paths must have run too: NEON on arm64; AVX2 and AVX-512 where this CPU has them.
  const isas = t.arch === 'arm64' ? ['neon'] : [...(hostHasAvx2Fma() ? ['avx2'] : []), ...(hostHasAvx512() ? ['avx512'] : [])];
  const missing = isas.filter((isa) => !result.out.split('\n').some((l) => l.startsWith(`kernels_test: ${isa} `)));
  if (!result.ok || missing.length > 0) {
    console.error(`check-prebuild-kernels: ${name}: the kernel test did not pass${result.ok ? ` on the ${missing.join(' and ')} path` : ` (${result.why})`}:\n${result.out}`);
    return 1;
  }
  const how = runner[0] === '' ? 'natively' : `under ${runner[0].split('/').pop()}`;
  console.log(`check-prebuild-kernels: ok: ${name} ${how}: ${result.verdict}`);
  // Once per architecture is enough (the musl build compiles the same sources with the same flags).
  if (name === 'linux-x64-glibc') return checkOlderX64Cpus(name, exe);
  return 0;
}

// The SIGILL rule, executed rather than read off the disassembly: on an emulated CPU with AVX
// but no AVX2/FMA, the same objects must pass on the scalar path.
function checkOlderX64Cpus(name, exe) {
  for (const cpu of ['SandyBridge']) {
    const result = run('qemu-x86_64', ['-cpu', cpu, exe], EMULATED_ENV);
    const vectorRan = /^kernels_test: avx(2|512) /m.test(result.out);
    if (!result.ok || vectorRan) {
      console.error(`check-prebuild-kernels: ${name} on an emulated ${cpu} CPU: ${vectorRan ? 'ran a vector path' : result.why}\n${result.out}`);
      return 1;
    }
    console.log(`check-prebuild-kernels: ok: ${name} on an emulated ${cpu} CPU (no AVX2): scalar path, ${result.verdict}`);
  }
  // An AVX2 CPU without AVX-512: the avx2 tier must run and the avx512 one must say it was skipped.
  // Its scalar pass is left out (CONVNODE_KERNELS_TEST_SCALAR_PASS=0): the SandyBridge run just
  // executed that pass of this binary on a CPU with a subset of Haswell's instructions, so on
  // Haswell it would run the same instructions again; the avx2 pass still checks against the
  // scalar table.
  const haswell = run('qemu-x86_64', ['-cpu', 'Haswell', exe], { ...EMULATED_ENV, CONVNODE_KERNELS_TEST_SCALAR_PASS: '0' });
  const ranAvx2 = /^kernels_test: avx2 /m.test(haswell.out);
  const ranAvx512 = /^kernels_test: avx512 /m.test(haswell.out);
  const saidSkipped = /^kernels_test: avx512: skipped, CPU lacks AVX-512F/m.test(haswell.out);
  const leftScalarOut = /^kernels_test: scalar threads 1: not run \(CONVNODE_KERNELS_TEST_SCALAR_PASS=0\)/m.test(haswell.out);
  if (!haswell.ok || !ranAvx2 || ranAvx512 || !saidSkipped || !leftScalarOut) {
    const what = !haswell.ok ? haswell.why : ranAvx512 ? 'ran the AVX-512 path' : !ranAvx2 ? 'did not run the AVX2 path'
      : !saidSkipped ? 'no "avx512: skipped" line' : 'ran the scalar pass the SandyBridge run covers (CONVNODE_KERNELS_TEST_SCALAR_PASS=0 was ignored)';
    console.error(`check-prebuild-kernels: ${name} on an emulated Haswell CPU (AVX2, no AVX-512): ${what}\n${haswell.out}`);
    return 1;
  }
  console.log(`check-prebuild-kernels: ok: ${name} on an emulated Haswell CPU (AVX2, no AVX-512): avx2 path, avx512 skipped, ${haswell.verdict}`);
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main(process.argv.slice(2));
