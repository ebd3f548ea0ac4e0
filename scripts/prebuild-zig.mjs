// Compiles and links one prebuild target with Zig's clang (`zig c++` from pip's package
// `ziglang`, pinned in prebuild-targets.mjs). Zig links its own libc++ statically, so no binary
// needs a GLIBCXX version or a libstdc++ on the user's machine; glibc versions come from Zig's
// stubs (the -target triple names the floor), musl / macOS / MinGW-w64 headers ship with Zig.
//
// Reproducible: pinned Zig and node-api-headers / node-addon-api (package-lock.json), no path of
// the checkout in any compile command or object (relative sources and include directories,
// -fdebug-compilation-dir=.), no build id, files linked in a fixed order. The same commands make
// Zig's global cache (~/.cache/zig) hit for every file a previous build on this machine compiled,
// in whatever clone: a CI run that changed no native source compiles nothing.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { readKernelTestSources } from './prebuild-sources.mjs';
import { ISA_TIERS, TARGETS, ZIG_VERSION, isaGroupsFor } from './prebuild-targets.mjs';

const require = createRequire(import.meta.url);

/**
 * The command that runs Zig: the executable inside pip's ziglang package, called directly.
 * `python3 -m ziglang` only exec()s that file, but starting Python first cost ~0.13 s of CPU per
 * call (measured on this machine's pyenv Python 3.11), and a run makes ~650 calls. The same
 * binary gets the same arguments, so objects and Zig's cache keys do not change. Where the
 * package cannot be located that way, `python3 -m ziglang` as before.
 */
const ZIG = (() => {
  try {
    const exe = execFileSync('python3', ['-c', 'import os, ziglang; print(os.path.join(os.path.dirname(ziglang.__file__), "zig"))'], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    if (exe && existsSync(exe)) return [exe];
  } catch {
    // not installed: checkZig() says so below
  }
  return ['python3', '-m', 'ziglang'];
})();

/** Fails unless the pinned Zig is installed; returns its version. */
export function checkZig() {
  let version;
  try {
    version = execFileSync(ZIG[0], [...ZIG.slice(1), 'version'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`Zig is not installed: pip install ziglang==${ZIG_VERSION}`);
  }
  if (version !== ZIG_VERSION) throw new Error(`Zig ${version} is installed, but the prebuilds are pinned to ${ZIG_VERSION}: pip install ziglang==${ZIG_VERSION}`);
  return version;
}

/**
 * The N-API header directories, relative to the checkout where they are inside it: nothing in a
 * compile command names the checkout's absolute path, so Zig's global cache (keyed by the command
 * and the bytes of every file read) serves an unchanged file's object to any clone.
 */
function headerDirs(root) {
  const inside = (dir) => {
    const rel = relative(root, dir);
    return rel.startsWith('..') || isAbsolute(rel) ? dir : rel;
  };
  const napiHeaders = inside(join(dirname(require.resolve('node-api-headers/package.json', { paths: [root] })), 'include'));
  const addonApi = inside(dirname(require.resolve('node-addon-api/package.json', { paths: [root] })));
  return { napiHeaders, addonApi };
}

function zig(args, cwd) {
  return new Promise((resolve, reject) => {
    const child = spawn(ZIG[0], [...ZIG.slice(1), ...args], { cwd, stdio: ['ignore', 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(stderr) : reject(new Error(`zig ${args.join(' ')} failed (exit ${code}):\n${stderr}`))));
  });
}

async function inParallel(jobs, limit) {
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) await jobs[next++]();
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
}

const NAPI_DEFINES = ['NAPI_VERSION=8', 'NAPI_CPP_EXCEPTIONS', 'NODE_ADDON_API_CPP_EXCEPTIONS_ALL', 'NODE_ADDON_API_DISABLE_DEPRECATED', 'BUILDING_NODE_EXTENSION', 'NODE_GYP_MODULE_NAME=convnode'];

/**
 * Windows addons import the N-API functions from node.exe. node-api-headers' def file lists them
 * (NAME NODE.EXE); llvm-dlltool (inside Zig) turns it into the import library the linker needs.
 */
async function windowsImportLibrary(outDir) {
  const def = join(dirname(require.resolve('node-api-headers/package.json')), 'def', 'node_api.def');
  const lib = join(outDir, 'node.lib');
  await zig(['dlltool', '-m', 'i386:x86-64', '-d', def, '-l', lib], outDir);
  return lib;
}

/**
 * Builds target `name` in `outDir`: objects under obj/, the addon as convnode.node (unstripped:
 * the checks read its symbols) and the kernel test (native/tests/sources.cmake) linked against
 * the same core and ISA objects. Returns paths and what went in.
 */
export async function buildTarget(root, name, groups, { jobs = Math.max(1, Math.min(2, os.availableParallelism())) } = {}) {
  const target = TARGETS[name];
  const outDir = join(root, 'build-prebuild', name);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(join(outDir, 'obj'), { recursive: true });
  const tiers = isaGroupsFor(name, groups);
  const { napiHeaders, addonApi } = headerDirs(root);
  const common = [
    '-target', target.zig, '-mcpu=baseline', '-std=c++17', '-O3', '-fPIC', '-fvisibility=hidden',
    // Sources are named relative to the checkout (the cwd), and the debug info's compilation
    // directory is '.': no object holds the checkout's path, and none of these flags does.
    '-Wall', '-Wextra', '-fdebug-compilation-dir=.', ...tiers.map((t) => `-DCONVNODE_HAVE_${t}`),
    // MinGW's <cmath> hides M_PI (the kernel test uses it) unless asked, as MSVC's does.
    ...(target.platform === 'win32' ? ['-D_USE_MATH_DEFINES'] : []),
  ];
  const units = [
    ...groups.CORE.map((src) => ({ src, flags: [], core: true })),
    ...tiers.flatMap((t) => groups[t].map((src) => ({ src, flags: ISA_TIERS[t].flags, core: true }))),
    ...groups.NAPI.map((src) => ({ src, flags: [`-I${napiHeaders}`, `-I${addonApi}`, ...NAPI_DEFINES.map((d) => `-D${d}`)], core: false })),
    // The kernel test (native/tests/sources.cmake), for targets something here can run (not macOS).
    ...(target.run ? readKernelTestSources(root).map((src) => ({ src, flags: [], test: true })) : []),
  ];
  for (const u of units) u.obj = join(outDir, 'obj', u.src.replace(/[/\\]/g, '__').replace(/\.cc$/, '.o'));
  await inParallel(
    units.map((u) => () => zig(['c++', ...common, ...u.flags, '-c', u.src, '-o', u.obj], root)),
    jobs,
  );

  const coreObjects = units.filter((u) => u.core).map((u) => u.obj);
  const addonObjects = [...coreObjects, ...units.filter((u) => !u.core && !u.test).map((u) => u.obj)];
  const link = ['c++', '-target', target.zig, '-mcpu=baseline', '-O3', '-shared'];
  if (target.platform === 'linux') link.push('-pthread', '-Wl,--build-id=none', '-Wl,-z,noexecstack');
  // macOS: the N-API functions are node's own; they resolve when node loads the addon.
  if (target.platform === 'darwin') link.push('-Wl,-undefined,dynamic_lookup');
  if (target.platform === 'win32') addonObjects.push(await windowsImportLibrary(outDir));
  const addon = join(outDir, 'convnode.node');
  await zig([...link, '-o', addon, ...addonObjects], root);

  // The kernel test: static for musl (no musl loader here), glibc's dynamic against Zig's stubs
  // (run with the host's or the arm64 cross sysroot's glibc), an .exe for wine.
  let exe = null;
  const testObjects = units.filter((u) => u.test).map((u) => u.obj);
  if (testObjects.length > 0) {
    exe = join(outDir, target.platform === 'win32' ? 'kernels_test.exe' : 'kernels_test');
    const exeLink = ['c++', '-target', target.zig, '-mcpu=baseline', '-O3', ...(target.platform === 'linux' ? ['-pthread'] : [])];
    // -fPIC: Zig builds its runtime libraries per (target, PIC, ...); the addon's link built them
    // PIC, and a static link would build libc++abi and compiler_rt again non-PIC (measured with
    // Zig 0.14.1, x86_64-linux-musl: 67 s of CPU for the static exe's link, 50 s with -fPIC, where
    // only musl's libc.a is new). The dynamic links (glibc, Windows) reuse the addon's already.
    if (target.libc === 'musl') exeLink.push('-static', '-fPIC');
    await zig([...exeLink, '-o', exe, ...testObjects, ...coreObjects], root);
  }

  writeFileSync(
    join(outDir, 'build.json'),
    JSON.stringify({ target: name, zig: ZIG_VERSION, triple: target.zig, tiers, sources: units.map((u) => u.src) }, null, 2) + '\n',
  );
  return { name, outDir, addon, exe, tiers };
}

export function readBuildInfo(outDir) {
  return JSON.parse(readFileSync(join(outDir, 'build.json'), 'utf8'));
}
