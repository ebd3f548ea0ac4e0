#!/usr/bin/env node
// `npm run prebuilds`: the binaries shipped in the npm package, so that users need neither a
// compiler nor install scripts. prebuildify (N-API, stripped, glibc tag) builds
//   prebuilds/linux-x64/convnode.glibc.node    native x86-64 build
//   prebuilds/linux-arm64/convnode.glibc.node  cross-compiled with Debian's g++-aarch64-linux-gnu
// and every binary is checked before it counts: ELF machine + N-API export (check-elf-addon.mjs),
// for x64 that AVX2 code sits only in 'avx2' symbols (check-x64-isa.mjs), for arm64 that the
// NEON kernels are there (check-arm64-neon.mjs), and the kernel test linked against the shipped
// object files passes (check-prebuild-kernels.mjs; under qemu-user for arm64).
//
// The binaries need the build machine's glibc >= 2.34 and libstdc++ >= GCC 12 (GLIBCXX_3.4.30);
// check-elf-addon.mjs prints this. Linking libstdc++ statically was tried and is worse: the
// static library pulls in arc4random and so needs glibc 2.36.
//
// Each target builds in its own staging copy (build-prebuild/<arch>/) so that build/ — the
// developer's own `npm install` / `npm rebuild` output, which node-gyp-build loads first — is
// never overwritten by a cross-compiled binary.
//
// Usage: node scripts/prebuild.mjs [--arch x64,arm64]
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ADDON_NAME = 'convnode.glibc.node';

// What node-gyp needs to build the addon; staged per target.
const BUILD_INPUTS = ['package.json', 'binding.gyp', 'native'];

const TARGETS = {
  x64: { hostArch: 'x64', strip: 'strip', env: {} },
  arm64: {
    hostArch: 'arm64',
    strip: 'aarch64-linux-gnu-strip',
    // node-gyp's make generator reads these for the target toolchain.
    env: {
      CC: 'aarch64-linux-gnu-gcc',
      CXX: 'aarch64-linux-gnu-g++',
      LINK: 'aarch64-linux-gnu-g++',
      AR: 'aarch64-linux-gnu-ar',
    },
  },
};

function parseArchs(argv) {
  const at = argv.indexOf('--arch');
  const list = at >= 0 ? (argv[at + 1] ?? '').split(',').filter(Boolean) : Object.keys(TARGETS);
  for (const arch of list) {
    if (!(arch in TARGETS)) throw new Error(`--arch must list some of ${Object.keys(TARGETS).join(', ')}, got '${arch}'`);
  }
  if (list.length === 0) throw new Error('--arch needs a value, e.g. --arch x64,arm64');
  return list;
}

/** Node's own headers (Debian's nodejs ships them in /usr/include/node): no download needed. */
function localNodeDir() {
  const prefix = join(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

function requireTool(tool, why) {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
  } catch {
    throw new Error(`${tool} is not on PATH; it is needed ${why}`);
  }
}

function stage(arch) {
  const dir = join(root, 'build-prebuild', arch);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const inputs = [...BUILD_INPUTS, ...readdirSync(root).filter((f) => f.endsWith('.gypi'))];
  for (const input of inputs) {
    if (!existsSync(join(root, input))) throw new Error(`${input} is missing; the native addon cannot be built without it`);
    cpSync(join(root, input), join(dir, input), { recursive: true });
  }
  return dir;
}

function buildTarget(arch) {
  const target = TARGETS[arch];
  requireTool(target.strip, `to strip the ${arch} prebuild`);
  if (target.env.CXX) requireTool(target.env.CXX, `to cross-compile the ${arch} prebuild (apt-get install g++-aarch64-linux-gnu)`);
  const cwd = stage(arch);
  // A fresh folder, so a stale binary from an older naming scheme never ships.
  rmSync(join(root, 'prebuilds', `linux-${arch}`), { recursive: true, force: true });
  const unstripped = join(cwd, 'unstripped.node');
  const nodeDir = localNodeDir();
  const prebuildify = join(root, 'node_modules', '.bin', 'prebuildify');
  const args = ['--napi', '--strip', '--tag-libc', '--arch', arch, '--out', root, '--strip-bin', join(root, 'scripts', 'prebuild-strip.sh')];
  console.log(`prebuild: ${arch}: prebuildify ${args.join(' ')} (in ${relative(root, cwd)})`);
  execFileSync(prebuildify, args, {
    cwd,
    stdio: 'inherit',
    env: {
      ...process.env,
      ...target.env,
      ...(nodeDir ? { npm_config_nodedir: nodeDir } : {}),
      JOBS: process.env.JOBS ?? '2',
      CONVNODE_UNSTRIPPED_COPY: unstripped,
      CONVNODE_STRIP: target.strip,
    },
  });
  const shipped = join(root, 'prebuilds', `linux-${arch}`, ADDON_NAME);
  if (!existsSync(shipped)) throw new Error(`prebuildify finished but ${relative(root, shipped)} is not there`);
  if (!existsSync(unstripped)) throw new Error(`the unstripped copy ${relative(root, unstripped)} is missing (was --strip-bin used?)`);
  return { arch, shipped, unstripped, stage: cwd };
}

function check({ arch, shipped, unstripped, stage }) {
  const node = process.execPath;
  execFileSync(node, [join(root, 'scripts', 'check-elf-addon.mjs'), '--arch', arch, shipped], { stdio: 'inherit' });
  const kernelCheck = arch === 'x64' ? 'check-x64-isa.mjs' : 'check-arm64-neon.mjs';
  execFileSync(node, [join(root, 'scripts', kernelCheck), unstripped, '--shipped', shipped], { stdio: 'inherit' });
  // The kernel test over the shipped object files; arm64 runs under qemu-user.
  if (arch === 'arm64') requireTool('qemu-aarch64', 'to run the arm64 kernel test (apt-get install qemu-user)');
  execFileSync(node, [join(root, 'scripts', 'check-prebuild-kernels.mjs'), '--arch', arch, stage], { stdio: 'inherit' });
}

function main() {
  const archs = parseArchs(process.argv.slice(2));
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`prebuilds are made on linux-x64 (this is ${process.platform}-${process.arch})`);
  }
  const built = archs.map(buildTarget);
  for (const b of built) check(b);
  for (const b of built) console.log(`prebuild: ${relative(root, b.shipped)} ${statSync(b.shipped).size} bytes`);
}

try {
  main();
} catch (err) {
  console.error(`prebuild: ${err.message}`);
  process.exitCode = 1;
}
