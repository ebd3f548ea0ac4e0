#!/bin/sh
# The standalone native kernel tests (native/tests: kernels_test.cc and the families' *_checks.cc), four ways:
#   1. native build: the host's vector ISAs (AVX2, AVX-512) against scalar, scalar against the definition
#   2. aarch64 cross build run under qemu-user: NEON against scalar
#   3. native build with AddressSanitizer + UndefinedBehaviorSanitizer
#   4. the addon itself built with both sanitizers, driven from Node (the N-API layer too)
# Prints PASS/FAIL per stage and exits non-zero if any stage fails. Build trees: build/ (the addon's
# Release tree, shared with scripts/build-native.mjs), build-kernels-*/; logs: build-kernels-logs/.
# Set CONVNODE_SKIP_AARCH64=1 where no cross compiler / qemu is installed (reported as SKIP), and
# CONVNODE_AARCH64_RUN=0 to build the aarch64 test and check its NEON code without running it
# under qemu (the CI runs the aarch64 kernel test once, on the shipped prebuild objects).
# Each stage's line gives its wall and CPU seconds (user + system of all it ran).
# The CMake builds compile through ccache where it is installed (CONVNODE_CCACHE=0: never), with
# paths taken relative to the checkout (CCACHE_BASEDIR), so a file compiled with the same flags
# before (the addon's own build/, an earlier run, another clone) is not compiled again.
set -u
cd "$(dirname "$0")/.."
JOBS=${JOBS:-2}
failed=0
launcher=
if [ "${CONVNODE_CCACHE:-1}" != 0 ] && command -v ccache >/dev/null 2>&1; then
  launcher=-DCMAKE_CXX_COMPILER_LAUNCHER=ccache
  CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(pwd -P)}
  export CCACHE_BASEDIR
fi

# CPU seconds (user + system) of this shell's finished children so far: `times` must run in
# this shell (in a $(...) subshell it would count the subshell's), so it writes to a file.
times_file=$(mktemp)
trap 'rm -f "$times_file"' EXIT
children_cpu_seconds() {
  awk 'NR == 2 { split($1, u, "m"); split($2, s, "m"); printf "%.1f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$times_file"
}

stage() {
  name=$1
  shift
  mkdir -p build-kernels-logs
  log="build-kernels-logs/$name.log"
  started=$(date +%s)
  times >"$times_file"
  cpu_before=$(children_cpu_seconds)
  "$@" >"$log" 2>&1
  status=$?
  times >"$times_file"
  took="$(($(date +%s) - started)) s wall, $(echo "$(children_cpu_seconds) $cpu_before" | awk '{ printf "%.1f", $1 - $2 }') s CPU"
  if [ "$status" = 0 ]; then
    echo "test-native-kernels: $name: PASS ($(grep -hE '(kernels_test|addon_sanitizer_drive): PASS|check-arm64-neon: ok' "$log" | tail -n 1); $took)"
  else
    echo "test-native-kernels: $name: FAIL (log: $log; $took)"
    tail -n 20 "$log"
    failed=1
  fi
}

build() {
  dir=$1
  shift
  cmake -S . -B "$dir" -DCONVNODE_BUILD_ADDON=OFF -DCONVNODE_BUILD_TESTS=ON $launcher "$@" &&
    cmake --build "$dir" --target convnode_kernels_test -j "$JOBS"
}

node_include_dir="$(dirname "$(dirname "$(command -v node)")")/include/node"

# The x86-64 run must show the avx2 tier, and the avx512 tier where the CPU has AVX-512F/BW/DQ/VL:
# a tier that silently dropped out of the build or the dispatch table fails the stage.
# One Release tree for the addon and the kernel test: build/, where scripts/build-native.mjs (and
# so `npm install`) builds the addon. convnode_core has the same flags either way (the test
# targets only add executables), so the core sources compile once, not once per tree; an addon
# already built there is not rebuilt (only the test targets are asked for).
native() {
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCONVNODE_BUILD_TESTS=ON $launcher "-DNODE_INCLUDE_DIR=$node_include_dir" &&
    # The per-kernel micro-benchmark is built too (not run): it fills the kernels' argument
    # structs by hand, so a struct change that forgets it fails here, not in a later session.
    cmake --build build --target convnode_kernels_test convnode_kernels_bench -j "$JOBS" &&
    ./build/convnode_kernels_test >build-kernels-logs/native.out &&
    cat build-kernels-logs/native.out &&
    insist_on_x86_tiers build-kernels-logs/native.out
}

insist_on_x86_tiers() {
  case "$(uname -m)" in x86_64 | amd64) ;; *) return 0 ;; esac
  flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
  if echo "$flags" | grep -qw avx2 && echo "$flags" | grep -qw fma; then
    grep -q '^kernels_test: avx2 ' "$1" || { echo "kernels_test: the CPU has AVX2+FMA but no avx2 line ran"; return 1; }
  fi
  if echo "$flags" | grep -qw avx512f && echo "$flags" | grep -qw avx512bw && echo "$flags" | grep -qw avx512dq &&
    echo "$flags" | grep -qw avx512vl; then
    grep -q '^kernels_test: avx512 ' "$1" || { echo "kernels_test: the CPU has AVX-512 but no avx512 line ran"; return 1; }
  else
    grep -q '^kernels_test: avx512: skipped' "$1" || { echo "kernels_test: no AVX-512 and no skip line"; return 1; }
  fi
}

aarch64_build() {
  build build-kernels-aarch64 -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_TOOLCHAIN_FILE=native/cmake/aarch64-linux-gnu.cmake &&
    file build-kernels-aarch64/convnode_kernels_test | grep -q 'ARM aarch64'
}

# Built, not run: the NEON kernels must be in it (a build that fell back to scalar fails).
aarch64_build_only() {
  aarch64_build && node scripts/check-arm64-neon.mjs build-kernels-aarch64/convnode_kernels_test
}

aarch64() {
  aarch64_build &&
    CONVNODE_ULP_SAMPLES=200000 qemu-aarch64 -L /usr/aarch64-linux-gnu ./build-kernels-aarch64/convnode_kernels_test >build-kernels-logs/aarch64.out &&
    cat build-kernels-logs/aarch64.out &&
    grep -q '^kernels_test: neon ' build-kernels-logs/aarch64.out
}

# Both sanitizer stages use one build tree (build-kernels-asan): the kernel test and the addon
# link the same ASan + UBSan convnode_core, compiled once. The first stage builds both.
# -O1 -g1 instead of RelWithDebInfo's -O2 -g: this tree is CI's slowest compile (every source
# instrumented twice over). -g1 keeps line tables, so ASan and UBSan reports still name the file
# and line of every frame, without full debug info for every inlined intrinsic and check; -O1 is
# what the sanitizers' own documentation suggests (each load and store is still checked; less
# inlining, if anything, leaves more of them in place). f32-gemm-16x16-avx512.cc under ASan +
# UBSan, one process each, Zen 4 at load ~20: -O2 -g 110.4, -O2 -g1 70.2, -O1 -g1 39.5 CPU-s.
# The Release tree above and the prebuilds test the kernels as optimised (-O3) code.
# -fdebug-prefix-map: debug info names the checkout '.', and ccache (which hashes the working
# directory of any compile that writes debug info) then serves these objects to a clone at
# another path too (checked with ccache 4.7: without it, a second clone missed every object).
sanitizer_flags="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -fdebug-prefix-map=$(pwd -P)=."
sanitizers() {
  cmake -S . -B build-kernels-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONVNODE_BUILD_TESTS=ON $launcher \
    "-DCMAKE_CXX_FLAGS=$sanitizer_flags" "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" \
    "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined" "-DNODE_INCLUDE_DIR=$node_include_dir" &&
    cmake --build build-kernels-asan --target convnode_kernels_test convnode -j "$JOBS" &&
    CONVNODE_ULP_SAMPLES=200000 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      ./build-kernels-asan/convnode_kernels_test
}

addon_sanitizers() {
  LD_PRELOAD="$(g++ -print-file-name=libasan.so):$(g++ -print-file-name=libubsan.so)" \
    ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    node native/tests/addon_sanitizer_drive.cjs build-kernels-asan/Release/convnode.node
}

stage native native
if [ "${CONVNODE_SKIP_AARCH64:-0}" = 1 ]; then
  echo "test-native-kernels: aarch64: SKIP (CONVNODE_SKIP_AARCH64=1)"
else
  if [ "${CONVNODE_AARCH64_RUN:-1}" = 0 ]; then
    stage aarch64 aarch64_build_only
    echo "test-native-kernels: aarch64: built, NEON kernels checked, not run (CONVNODE_AARCH64_RUN=0)"
  else
    stage aarch64 aarch64
  fi
fi
stage sanitizers sanitizers
stage addon-sanitizers addon_sanitizers

if [ "$failed" = 0 ]; then
  echo "test-native-kernels: PASS"
else
  echo "test-native-kernels: FAIL"
fi
exit "$failed"
