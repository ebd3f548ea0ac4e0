// What `npm run prebuilds` builds: one binary per platform Node runs on, all cross-compiled from
// linux-x64 with Zig's clang (`python3 -m ziglang c++`), and the toolchain it must be built with.
//
// The file name under prebuilds/<platform>-<arch>/ is what node-gyp-build matches at load time:
// a `.glibc` / `.musl` tag picks the Linux C library; a file without tags matches any.

/** Pinned toolchain: a different Zig (clang, libc++, glibc stubs, macOS SDK headers, MinGW) is a different binary. */
export const ZIG_VERSION = '0.14.1';

/**
 * ISA tiers: flags for the files of `CONVNODE_<GROUP>_SOURCES` (native/sources.cmake) and nowhere
 * else, so the rest of the binary runs on any CPU of the architecture. Each tier compiled in also
 * defines CONVNODE_HAVE_<GROUP> for the whole build (dispatch.cc fills that tier's table).
 */
export const ISA_TIERS = {
  // -ffp-contract=off as in CMakeLists.txt: a multiply and an add written as two intrinsics must
  // stay two roundings, or the error-free transforms of the vector math (simd/vector-math.h) break.
  AVX2: { arch: 'x64', flags: ['-mavx2', '-mfma', '-ffp-contract=off'] },
  // clang 18+ (Zig 0.14's) gates 512-bit vectors behind 'evex512' (AVX10's split), which the
  // -mavx512* flags do not switch on when Zig passes its own CPU feature list.
  AVX512: { arch: 'x64', flags: ['-mavx2', '-mfma', '-mavx512f', '-mavx512bw', '-mavx512dq', '-mavx512vl', '-mevex512', '-ffp-contract=off'] },
  NEON: { arch: 'arm64', flags: ['-ffp-contract=off'] }, // Advanced SIMD is baseline on AArch64
};

/**
 * zig: the -target triple (glibc version / macOS version = the floor).
 * run: how the CI executes this target's kernel test here: 'native', 'qemu-aarch64', 'wine', or
 *      null (macOS: built and checked, not run).
 * The order is the build order: targets whose checks take longest first, so that their runs
 * overlap the later targets' compiles (scripts/prebuild.mjs); macOS, with nothing to run, last.
 */
export const TARGETS = {
  'linux-x64-glibc': { platform: 'linux', arch: 'x64', libc: 'glibc', zig: 'x86_64-linux-gnu.2.17', file: 'convnode.glibc.node', glibcFloor: '2.17', run: 'native' },
  'linux-arm64-glibc': { platform: 'linux', arch: 'arm64', libc: 'glibc', zig: 'aarch64-linux-gnu.2.17', file: 'convnode.glibc.node', glibcFloor: '2.17', run: 'qemu-aarch64' },
  'linux-x64-musl': { platform: 'linux', arch: 'x64', libc: 'musl', zig: 'x86_64-linux-musl', file: 'convnode.musl.node', run: 'native' },
  'linux-arm64-musl': { platform: 'linux', arch: 'arm64', libc: 'musl', zig: 'aarch64-linux-musl', file: 'convnode.musl.node', run: 'qemu-aarch64' },
  'win32-x64': { platform: 'win32', arch: 'x64', zig: 'x86_64-windows-gnu', file: 'convnode.node', run: 'wine' },
  // Zig's baseline CPU for macOS is a Core 2 (SSSE3), and it emits SSE3 in portable code. Every
  // Mac macOS 11 runs on is an Ivy Bridge or newer, so that is safe; AVX2 still needs the dispatcher.
  'darwin-x64': { platform: 'darwin', arch: 'x64', zig: 'x86_64-macos.11.0', file: 'convnode.node', macosFloor: '11.0', run: null, baselineExtensions: ['SSE3', 'SSSE3'] },
  'darwin-arm64': { platform: 'darwin', arch: 'arm64', zig: 'aarch64-macos.11.0', file: 'convnode.node', macosFloor: '11.0', run: null },
};

/** Where a target's binary ships inside the package. */
export function shippedPath(name) {
  const t = TARGETS[name];
  return `prebuilds/${t.platform}-${t.arch}/${t.file}`;
}

/** The ISA tiers of `groups` (from sources.cmake) that a target compiles; an unknown tier is an error, not a silent skip. */
export function isaGroupsFor(name, groups) {
  const { arch } = TARGETS[name];
  const tiers = [];
  for (const group of Object.keys(groups)) {
    if (group === 'CORE' || group === 'NAPI') continue;
    const tier = ISA_TIERS[group];
    if (!tier) {
      throw new Error(`native/sources.cmake has CONVNODE_${group}_SOURCES, but scripts/prebuild-targets.mjs does not know that ISA tier: add its arch and flags to ISA_TIERS`);
    }
    if (tier.arch === arch) tiers.push(group);
  }
  return tiers;
}
