#!/usr/bin/env bash
# Install test (issue 5): what a user without a compiler gets from `npm install convnode`.
#   1. npm pack (prepack refuses without prebuilds; run `npm run prebuilds` first) and check
#      what the tarball holds.
#   2. In a fresh temporary project, install the tarball with install scripts blocked
#      (--ignore-scripts) and a PATH that holds node, npm and basic tools but no C/C++ compiler,
#      make or cmake.
#   3. Case "prebuild": convnode must pick the native backend, load the linux-x64 prebuild
#      (seen in /proc/self/maps), give the lecture's Sobel numbers, and `npx convnode classify`
#      must label a sample image correctly.
#   4. Case "wasm": with the linux-x64 prebuild made unloadable (overwritten with bytes that are
#      no shared object), convnode must run on the wasm backend (prebuilds/wasm32-wasi: its
#      threaded build by default, one thread per core; the one-thread build with
#      CONVNODE_WASM_THREADS=1) with exactly
#      one warning that names it, its threads and how to get the native path, and the CLI must
#      classify on it.
#   5. Case "fallback": with prebuilds/linux-x64 and the wasm module removed from the installed
#      package, convnode must run on the pure-JS backend with exactly one warning that says how
#      to get the native path, the CLI must still classify, and CONVNODE_BACKEND=native must be
#      an error.
# Usage: bash scripts/test-install.sh        (KEEP=1 keeps the temporary directory)
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/convnode-install.XXXXXX")"
if [[ "${KEEP:-0}" == 1 ]]; then
  trap 'echo "test-install: kept $work"' EXIT
else
  trap 'rm -rf "$work"' EXIT
fi

log() { printf 'test-install: %s\n' "$*"; }
die() {
  printf 'test-install: FAIL: %s\n' "$*" >&2
  exit 1
}

# --- 1. pack ---------------------------------------------------------------------------------
log "packing $repo"
(cd "$repo" && npm pack --pack-destination "$work" --loglevel=error >"$work/pack.log" 2>&1) || {
  cat "$work/pack.log" >&2
  die "npm pack failed"
}
tarballs=("$work"/convnode-*.tgz)
[[ -f "${tarballs[0]}" ]] || die "npm pack left no convnode-*.tgz in $work"
tarball="${tarballs[0]}"
log "tarball $(basename "$tarball"): $(stat -c %s "$tarball") bytes packed, $(tar -tzf "$tarball" | wc -l) files"

tar -tzf "$tarball" | sed 's|^package/||' | sort >"$work/contents.txt"
# Every promised prebuild (scripts/prebuild-targets.mjs: Linux glibc + musl, macOS, Windows).
prebuilt_files=$(cd "$repo" && node --input-type=module -e '
  const { TARGETS, shippedPath } = await import("./scripts/prebuild-targets.mjs");
  console.log(Object.keys(TARGETS).map(shippedPath).join(" "));')
for must in dist/index.js dist/index.d.ts bin/convnode.js binding.gyp CMakeLists.txt package.json scripts/build-native.mjs \
  prebuilds/wasm32-wasi/convnode.wasm prebuilds/wasm32-wasi/convnode-threads.wasm $prebuilt_files; do
  grep -qxF "$must" "$work/contents.txt" || die "the tarball lacks $must"
done
# One package for every platform while it stays small; past ~10 MB it should split into
# per-platform optional packages (os / cpu / libc), as sharp and esbuild do.
tarball_bytes=$(stat -c %s "$tarball")
((tarball_bytes < 10 * 1024 * 1024)) || die "the tarball is $tarball_bytes bytes: split the prebuilds into per-platform optional packages"
log "prebuilds in the tarball: $(for f in $prebuilt_files; do printf '%s %s bytes; ' "$f" "$(tar -xzOf "$tarball" "package/$f" | wc -c)"; done)"
for pattern in '^native/.*\.cc$' '^models/.*\.onnx$' '^models/.*labels' '^samples/.*\.png$'; do
  grep -qE "$pattern" "$work/contents.txt" || die "the tarball has no file matching $pattern"
done
# scripts/build-native.mjs is the install script (builds from source where no prebuild loads).
if grep -vxF scripts/build-native.mjs "$work/contents.txt" |
  grep -E '^(test|bench|examples|scripts|native/tests|lib)/|\.map$|\.tgz$|^build' >"$work/unwanted.txt"; then
  die "the tarball ships files users do not need: $(head -5 "$work/unwanted.txt" | tr '\n' ' ')"
fi

# --- 2. a PATH without compilers ---------------------------------------------------------------
sandbox="$work/no-compiler-bin"
mkdir -p "$sandbox"
for tool in node npm npx sh bash env cat ls mkdir rm cp mv ln chmod grep sed tar gzip uname dirname basename readlink head tail sort wc; do
  found="$(command -v "$tool")" || die "$tool is not on PATH"
  ln -s "$(readlink -f "$found")" "$sandbox/$tool"
done
for compiler in cc gcc g++ c++ clang clang++ make cmake aarch64-linux-gnu-gcc aarch64-linux-gnu-g++; do
  if PATH="$sandbox" command -v "$compiler" >/dev/null 2>&1; then die "$compiler is reachable from the sandbox PATH"; fi
done
# Run a command the way a user without a compiler would: no compiler on PATH, none named in env.
user() { env -u CC -u CXX -u LINK -u AR -u CONVNODE_BACKEND -u CONVNODE_REQUIRE_NATIVE PATH="$sandbox" "$@"; }

# --- install -----------------------------------------------------------------------------------
project="$work/project"
mkdir -p "$project"
cd "$project"
user npm init -y >/dev/null
log "installing the tarball with --ignore-scripts and no compiler on PATH"
user npm install --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error "$tarball" >"$work/install.log" 2>&1 || {
  cat "$work/install.log" >&2
  die "npm install of the tarball failed"
}
installed="$project/node_modules/convnode"
[[ -d "$installed" ]] || die "node_modules/convnode is missing after install"
[[ ! -e "$installed/build" ]] || die "something built $installed/build although scripts were blocked"
cp "$repo/scripts/test-install-probe.mjs" "$project/probe.mjs"

# --- 3. case prebuild --------------------------------------------------------------------------
log "case prebuild: native backend from prebuilds/linux-x64"
host_isa=scalar
if grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then host_isa=avx2; fi
# The avx512 tier wants F, BW, DQ and VL (and the OS saving ZMM state, which a Linux that lists
# the flags does).
if [[ "$host_isa" == avx2 ]] && grep -qw avx512f /proc/cpuinfo && grep -qw avx512bw /proc/cpuinfo &&
  grep -qw avx512dq /proc/cpuinfo && grep -qw avx512vl /proc/cpuinfo; then host_isa=avx512; fi
user node probe.mjs native node_modules/convnode/prebuilds/linux-x64/convnode.glibc.node "$host_isa" >"$work/probe-native.out" 2>"$work/probe-native.err" || {
  cat "$work/probe-native.err" >&2
  die "the prebuild case failed"
}
grep -q CONVNODE_NATIVE_FALLBACK "$work/probe-native.err" && die "the prebuild case printed a fallback warning"
log "  $(cat "$work/probe-native.out")"

# The same install on an emulated CPU with AVX but without AVX2/FMA (and SSE4.2, which sharp's
# libvips needs): no SIGILL, and the dispatcher must choose the scalar kernels.
if qemu="$(command -v qemu-x86_64)"; then
  user "$qemu" -cpu SandyBridge "$(readlink -f "$(command -v node)")" probe.mjs native \
    node_modules/convnode/prebuilds/linux-x64/convnode.glibc.node scalar >"$work/probe-sandybridge.out" 2>"$work/probe-sandybridge.err" || {
    grep -v "TCG doesn't support" "$work/probe-sandybridge.err" >&2
    die "the prebuild fails on a CPU without AVX2 (emulated SandyBridge)"
  }
  log "  on an emulated SandyBridge (AVX, no AVX2): $(cat "$work/probe-sandybridge.out")"
else
  die "qemu-x86_64 (apt-get install qemu-user) is needed to run the prebuild on an older CPU"
fi

# "exports" and "types": CommonJS require resolves too, and TypeScript (NodeNext) finds the types.
user node -e 'const c = require("convnode"); if (typeof c.Conv2d !== "function") process.exit(1)' ||
  die "require('convnode') does not give the API"
cat >"$project/uses-types.mts" <<'TS'
import { Conv2d, Tensor, getBackend, type BackendName } from 'convnode';
const backend: BackendName = getBackend();
const conv = new Conv2d({ inChannels: 1, outChannels: 2, kernelSize: 3, padding: 'same' });
const out: Tensor = conv.forwardSync(Tensor.from([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]]));
export const shape: readonly number[] = [out.shape.length, backend.length];
TS
user node "$repo/node_modules/typescript/bin/tsc" --noEmit --strict --skipLibCheck --module nodenext --moduleResolution nodenext \
  --target es2022 "$project/uses-types.mts" >"$work/tsc.log" 2>&1 || {
  cat "$work/tsc.log" >&2
  die "TypeScript cannot use the installed package's types"
}
log "  require('convnode') and TypeScript NodeNext types: ok"

sample="node_modules/convnode/samples/0000-ankle-boot.png"
expected_label="Ankle boot"
classify() { # $1 = case name; remaining: env assignments for `user`
  local name="$1"
  shift
  user "$@" npx --no-install convnode classify --json --top 3 "$sample" >"$work/classify-$name.json" 2>"$work/classify-$name.err" || {
    cat "$work/classify-$name.err" >&2
    die "npx convnode classify failed in the $name case"
  }
  user node -e '
    const report = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const top = report.results[0].top[0];
    if (top.label !== process.argv[2]) { console.error(`top label ${JSON.stringify(top.label)}, expected ${JSON.stringify(process.argv[2])}`); process.exit(1); }
    console.log(`${report.results[0].file}: ${top.label} ${(100 * top.probability).toFixed(1)}%`);
  ' "$work/classify-$name.json" "$expected_label" || die "npx convnode classify gave the wrong label in the $name case"
}
log "  npx convnode classify: $(classify prebuild)"
grep -q CONVNODE_NATIVE_FALLBACK "$work/classify-prebuild.err" && die "the CLI printed a fallback warning although the prebuild is there"

# --- 3b. case prebuild with install scripts allowed (npm 11.19's default still runs them) ---------
# The package's install script (scripts/build-native.mjs --optional) must see the prebuild and
# build nothing: without a compiler, a build attempt here would fail the user's install.
log "case prebuild, install scripts allowed: the install script must not try to compile"
allowed="$work/project-scripts-allowed"
mkdir -p "$allowed"
(cd "$allowed" && user npm init -y >/dev/null &&
  user npm install --foreground-scripts --no-audit --no-fund --prefer-offline --loglevel=error "$tarball" >"$work/install-allowed.log" 2>&1) || {
  cat "$work/install-allowed.log" >&2
  die "npm install with install scripts allowed failed (no compiler on PATH)"
}
grep -q "convnode: using the prebuilt binary" "$work/install-allowed.log" ||
  die "the install script did not run or did not pick the prebuild: $(cat "$work/install-allowed.log")"
[[ ! -e "$allowed/node_modules/convnode/build" ]] || die "the install script built build/ although a prebuild was there"
cp "$repo/scripts/test-install-probe.mjs" "$allowed/probe.mjs"
(cd "$allowed" && user node probe.mjs native node_modules/convnode/prebuilds/linux-x64/convnode.glibc.node) >"$work/probe-allowed.out" 2>&1 || {
  cat "$work/probe-allowed.out" >&2
  die "the scripts-allowed install does not run natively"
}
log "  $(grep -m1 'convnode: using the prebuilt binary' "$work/install-allowed.log")"

# The fallback cases must warn exactly once: expect_one_warning <stderr file> <what warned>.
expect_one_warning() {
  local printed
  printed="$(grep -c CONVNODE_NATIVE_FALLBACK "$1" || true)"
  [[ "$printed" == 1 ]] || die "$2 was printed $printed times, expected once: $(cat "$1")"
}

# --- 4. case wasm ------------------------------------------------------------------------------
log "case wasm: the linux-x64 prebuild made unloadable"
for addon in "$installed"/prebuilds/linux-x64/*.node; do printf 'not a shared object\n' >"$addon"; done
user node probe.mjs wasm >"$work/probe-wasm.out" 2>"$work/probe-wasm.err" || {
  cat "$work/probe-wasm.err" >&2
  die "the wasm case failed"
}
expect_one_warning "$work/probe-wasm.err" "the wasm fallback warning"
log "  $(cat "$work/probe-wasm.out" | cut -c1-200)"
# The one-thread build ships too: CONVNODE_WASM_THREADS=1 runs it (hosts without shared memory get it unasked).
CONVNODE_WASM_THREADS=1 user node probe.mjs wasm >"$work/probe-wasm1.out" 2>"$work/probe-wasm1.err" || {
  cat "$work/probe-wasm1.err" >&2
  die "the wasm case at CONVNODE_WASM_THREADS=1 failed"
}
expect_one_warning "$work/probe-wasm1.err" "the wasm fallback warning (1 thread)"
log "  CONVNODE_WASM_THREADS=1: $(cat "$work/probe-wasm1.out" | cut -c1-200)"
log "  npx convnode classify: $(classify wasm)"
expect_one_warning "$work/classify-wasm.err" "the CLI's wasm fallback warning"

# --- 5. case fallback --------------------------------------------------------------------------
log "case fallback: prebuilds/linux-x64 and prebuilds/wasm32-wasi removed"
rm -rf "$installed/prebuilds/linux-x64" "$installed/prebuilds/wasm32-wasi"
user node probe.mjs js >"$work/probe-js.out" 2>"$work/probe-js.err" || {
  cat "$work/probe-js.err" >&2
  die "the fallback case failed"
}
expect_one_warning "$work/probe-js.err" "the fallback warning"
log "  $(cat "$work/probe-js.out")"
log "  printed: $(grep CONVNODE_NATIVE_FALLBACK "$work/probe-js.err")"

log "  npx convnode classify: $(classify fallback)"
expect_one_warning "$work/classify-fallback.err" "the CLI's fallback warning"

# CONVNODE_BACKEND=native makes the missing binary an error instead of a fallback.
if user CONVNODE_BACKEND=native node --input-type=module -e '
  const { getBackend } = await import("convnode");
  console.log(getBackend());
' >"$work/forced.out" 2>"$work/forced.err"; then
  die "CONVNODE_BACKEND=native without a binary did not fail (printed: $(cat "$work/forced.out"))"
fi
grep -q "^BackendError: the native backend is not available" "$work/forced.err" ||
  die "CONVNODE_BACKEND=native failed without a BackendError: $(cat "$work/forced.err")"
log "  CONVNODE_BACKEND=native: $(grep -m1 '^BackendError: ' "$work/forced.err" | cut -c1-160)"

log "ok"
