#!/usr/bin/env node
// `npm run prebuilds`: the binaries shipped in the npm package, so that users need neither a
// compiler nor install scripts (npm 11 blocks them by default). From this linux-x64 machine,
// Zig's clang (pip `ziglang`, version pinned in prebuild-targets.mjs) cross-compiles
//   prebuilds/linux-x64/convnode.glibc.node    glibc >= 2.17, libc++ linked in (no GLIBCXX)
//   prebuilds/linux-arm64/convnode.glibc.node  glibc >= 2.17, NEON
//   prebuilds/linux-x64/convnode.musl.node     Alpine (musl)
//   prebuilds/linux-arm64/convnode.musl.node
//   prebuilds/darwin-x64/convnode.node         macOS 11+, AVX2 + scalar
//   prebuilds/darwin-arm64/convnode.node       macOS 11+, NEON
//   prebuilds/win32-x64/convnode.node          Windows 10+, AVX2 + scalar
//   prebuilds/wasm32-wasi/convnode.wasm        any platform where none of those loads (the wasm
//                                              backend; Debian's WASI clang, scripts/build-wasm.mjs)
//   prebuilds/wasm32-wasi/convnode-threads.wasm  its threaded build (build-wasm.mjs --threads), the
//                                              default where SharedArrayBuffer and >1 core exist
// from the source groups of native/sources.cmake (scripts/prebuild-sources.mjs), and every
// binary is checked before it ships:
//   - its container: ELF (machine, N-API export, glibc floor, no libstdc++, musl libc), Mach-O
//     (CPU, minos, export, N-API symbols looked up dynamically, signature) or PE (export,
//     N-API imported from NODE.EXE, system DLLs only);
//   - x64: code beyond baseline x86-64 only inside 'avx2' symbols (check-x64-isa.mjs), ELF, PE
//     and Mach-O alike; arm64: the NEON kernels are there (check-arm64-neon.mjs);
//   - the stripped file ships the checked machine code (same .text);
//   - the kernel test linked from the same objects runs: natively (x64, also as pre-AVX2 CPUs
//     under qemu-x86_64), under qemu-aarch64 (arm64), under wine (win32, plus the addon itself
//     in the Windows node.exe: check-win32-addon.mjs). The x64 musl addon is also dlopen()ed by
//     musl 1.2.3's loader (check-musl-addon.mjs). macOS is built and checked, not run.
// build-prebuild/<target>/ keeps each target's objects and unstripped binary; build/ (the
// developer's own build, which node-gyp-build loads first) is never touched.
//
// Usage: node scripts/prebuild.mjs [--targets linux-x64-glibc,win32-x64,...] [--skip-run]
//   --skip-run  build and inspect only (a machine without qemu-user / wine64); CI never uses it
//   --wasm-after FILE  before the wasm modules (which relink build-wasm/'s objects), wait until
//               FILE exists: CI starts this script while its own build-wasm steps still write
//               those objects, and creates FILE when they are done
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { textSection } from './check-x64-isa.mjs';
import { readSourceGroups } from './prebuild-sources.mjs';
import { TARGETS, ZIG_VERSION, shippedPath } from './prebuild-targets.mjs';
import { buildTarget, checkZig } from './prebuild-zig.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const node = process.execPath;

function parseTargets(argv) {
  const at = argv.indexOf('--targets');
  const list = at >= 0 ? (argv[at + 1] ?? '').split(',').filter(Boolean) : Object.keys(TARGETS);
  if (list.length === 0) throw new Error(`--targets needs a value: some of ${Object.keys(TARGETS).join(', ')}`);
  for (const t of list) if (!(t in TARGETS)) throw new Error(`--targets must list some of ${Object.keys(TARGETS).join(', ')}, got '${t}'`);
  return list;
}

const script = (name, args) => execFileSync(node, [join(root, 'scripts', name), ...args], { stdio: 'inherit' });

/** The same, without blocking: the run checks of one target go on while the next one compiles. */
const scriptAsync = (name, args) =>
  new Promise((resolve, reject) => {
    const child = spawn(node, [join(root, 'scripts', name), ...args], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('close', (code, signal) => (code === 0 ? resolve() : reject(new Error(`${name} ${args.join(' ')} failed (${signal ?? `exit ${code}`})`))));
  });

/** Binutils for a target's ELF files: the host's for x64, the cross ones for arm64. */
const elfTools = (arch) => (arch === 'arm64' ? 'aarch64-linux-gnu-' : '');

function inspect(name, addon) {
  const t = TARGETS[name];
  if (t.platform === 'linux') {
    const floor = t.libc === 'glibc' ? ['--glibc-floor', t.glibcFloor, '--no-libstdcxx'] : ['--musl'];
    script('check-elf-addon.mjs', ['--arch', t.arch, ...floor, addon]);
  } else if (t.platform === 'darwin') {
    script('check-macho-addon.mjs', ['--arch', t.arch, '--min-macos', t.macosFloor, addon]);
  } else {
    script('check-pe-addon.mjs', [addon]);
  }
  const allow = t.baselineExtensions ? ['--allow', t.baselineExtensions.join(',')] : [];
  script(t.arch === 'x64' ? 'check-x64-isa.mjs' : 'check-arm64-neon.mjs', [addon, ...allow]);
}

/** Copies the checked binary into prebuilds/, stripped where that leaves the code alone. */
function ship(name, addon) {
  const t = TARGETS[name];
  const shipped = join(root, shippedPath(name));
  mkdirSync(dirname(shipped), { recursive: true });
  if (t.platform === 'darwin') {
    // Stripping would invalidate the arm64 code signature the linker made: ship as checked.
    copyFileSync(addon, shipped);
    return shipped;
  }
  const tools = elfTools(t.arch);
  execFileSync(`${tools}strip`, ['--strip-all', '-o', shipped, addon]);
  if (Buffer.compare(textSection(addon, tools), textSection(shipped, tools)) !== 0) {
    throw new Error(`${relative(root, shipped)} does not hold the same .text as the checked ${relative(root, addon)}`);
  }
  return shipped;
}

async function runChecks(name, outDir) {
  await scriptAsync('check-prebuild-kernels.mjs', ['--target', name, outDir]);
  if (TARGETS[name].platform === 'win32') await scriptAsync('check-win32-addon.mjs', []);
  // Alpine's musl loader is there for x64 only (Debian's musl 1.2.3): load the shipped file.
  if (name === 'linux-x64-musl') await scriptAsync('check-musl-addon.mjs', [join(root, shippedPath(name))]);
}

const WASM_SHIPPED = 'prebuilds/wasm32-wasi/convnode.wasm';
// The threaded build: the wasm backend's default where the host has SharedArrayBuffer and cores.
const WASM_THREADS_SHIPPED = 'prebuilds/wasm32-wasi/convnode-threads.wasm';

/**
 * The wasm backend's module (and, `threads`, its threaded build): built from source, checked
 * (check-wasm-module.mjs: the threaded one also at 2 threads, its workers taking tasks),
 * shipped as checked. --incremental: an object build-wasm/ already holds from the same flags,
 * source and headers (CI built both modules just before) is linked again, not compiled again.
 */
function shipWasm(threads) {
  const name = threads ? 'convnode-threads.wasm' : 'convnode.wasm';
  const built = join(root, 'build-prebuild', 'wasm32-wasi', name);
  script('build-wasm.mjs', ['--out', built, '--incremental', ...(threads ? ['--threads'] : [])]);
  script('check-wasm-module.mjs', [built]);
  const file = threads ? WASM_THREADS_SHIPPED : WASM_SHIPPED;
  const shipped = join(root, file);
  mkdirSync(dirname(shipped), { recursive: true });
  copyFileSync(built, shipped);
  const bytes = statSync(shipped).size;
  console.log(`prebuild: wasm32-wasi: ${file} ${bytes} bytes`);
  return { file, bytes, sha256: sha256(shipped) };
}

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Resolves once `file` exists (--wasm-after); fails after `limitMs` instead of waiting forever. */
async function waitForFile(file, limitMs = 60 * 60 * 1000) {
  const started = Date.now();
  if (!existsSync(file)) console.log(`prebuild: wasm32-wasi: waiting for ${file} (build-wasm's objects complete)`);
  while (!existsSync(file)) {
    if (Date.now() - started > limitMs) throw new Error(`--wasm-after: ${file} did not appear within ${limitMs / 60000} min`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function main() {
  const argv = process.argv.slice(2);
  const targets = parseTargets(argv);
  const skipRun = argv.includes('--skip-run');
  const wasmAfterAt = argv.indexOf('--wasm-after');
  const wasmAfter = wasmAfterAt >= 0 ? argv[wasmAfterAt + 1] : undefined;
  if (wasmAfterAt >= 0 && (!wasmAfter || wasmAfter.startsWith('--'))) throw new Error('--wasm-after needs a file name');
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`prebuilds are made on linux-x64 (this is ${process.platform}-${process.arch})`);
  }
  checkZig();
  const groups = readSourceGroups(root);
  const manifest = {
    zig: ZIG_VERSION,
    'node-api-headers': require('node-api-headers/package.json').version,
    'node-addon-api': require('node-addon-api/package.json').version,
    targets: {},
  };
  // Every target is built and checked even when an earlier one fails, so one run reports all.
  // The run checks (emulated CPUs, qemu, wine: mostly one busy thread) of target k go on while
  // target k + 1 compiles on every core. Checks run in two lanes, one per architecture, each in
  // build order: after the last compile the x64 runs (native, emulated CPUs, wine) and the arm64
  // ones (qemu) go on side by side instead of leaving a core idle behind one chain.
  const failed = [];
  const fail = (name, err) => {
    console.error(`prebuild: ${name}: FAILED: ${err.message.split('\n')[0]}`);
    failed.push(name);
    rmSync(join(root, shippedPath(name)), { force: true }); // never leave an unchecked binary to be packed
  };
  const checkLanes = new Map(); // arch -> the promise of its last queued check
  for (const name of targets) {
    const started = Date.now();
    const seconds = () => ((Date.now() - started) / 1000).toFixed(0);
    try {
      console.log(`prebuild: ${name}: zig c++ -target ${TARGETS[name].zig}`);
      const built = await buildTarget(root, name, groups);
      console.log(`prebuild: ${name}: built in ${seconds()} s`);
      inspect(name, built.addon);
      const shipped = ship(name, built.addon);
      const record = () => {
        const size = statSync(shipped).size;
        manifest.targets[name] = { file: shippedPath(name), triple: TARGETS[name].zig, isaTiers: built.tiers, bytes: size, sha256: sha256(shipped) };
        console.log(`prebuild: ${name}: ${shippedPath(name)} ${size} bytes (${seconds()} s with checks)`);
      };
      if (skipRun) {
        console.log(`prebuild: ${name}: NOT RUN (--skip-run)`);
        record();
      } else {
        const arch = TARGETS[name].arch;
        const lane = checkLanes.get(arch) ?? Promise.resolve();
        checkLanes.set(arch, lane.then(() => runChecks(name, built.outDir).then(record, (err) => fail(name, err))));
      }
    } catch (err) {
      fail(name, err);
    }
  }
  await Promise.all(checkLanes.values());
  // What built the shipped files: with the same versions, a rebuild gives the same hashes. A run
  // over some targets keeps the others' entries when the toolchain is the same.
  const manifestPath = join(root, 'prebuilds', 'BUILD.json');
  mkdirSync(dirname(manifestPath), { recursive: true });
  if (existsSync(manifestPath)) {
    const before = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const sameToolchain = ['zig', 'node-api-headers', 'node-addon-api'].every((k) => before[k] === manifest[k]);
    if (sameToolchain) manifest.targets = { ...Object.fromEntries(Object.entries(before.targets).filter(([n]) => existsSync(join(root, shippedPath(n))) && !failed.includes(n))), ...manifest.targets };
  }
  if (wasmAfter) await waitForFile(wasmAfter);
  try {
    manifest.wasm = shipWasm(false);
  } catch (err) {
    console.error(`prebuild: wasm32-wasi: FAILED: ${err.message.split('\n')[0]}`);
    rmSync(join(root, WASM_SHIPPED), { force: true });
    failed.push('wasm32-wasi');
  }
  try {
    manifest.wasmThreads = shipWasm(true);
  } catch (err) {
    console.error(`prebuild: wasm32-wasi threads: FAILED: ${err.message.split('\n')[0]}`);
    rmSync(join(root, WASM_THREADS_SHIPPED), { force: true });
    failed.push('wasm32-wasi threads');
  }
  // In TARGETS order, whichever lane finished first: the same build writes the same file.
  manifest.targets = Object.fromEntries(Object.keys(TARGETS).filter((n) => n in manifest.targets).map((n) => [n, manifest.targets[n]]));
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  for (const [name, t] of Object.entries(manifest.targets)) console.log(`prebuild: ${name.padEnd(18)} ${String(t.bytes).padStart(9)} bytes  sha256 ${t.sha256.slice(0, 16)}`);
  if (failed.length) throw new Error(`${failed.length} target(s) failed: ${failed.join(', ')}`);
}

main().catch((err) => {
  console.error(`prebuild: ${err.message}`);
  process.exitCode = 1;
});
