#!/bin/sh
# The standalone native kernel tests (native/tests: kernels_test.cc and the families' *_checks.cc), four ways:
#   1. native build: the host's vector ISAs (AVX2, AVX-512) against scalar, scalar against the definition
#   2. aarch64 cross build run under qemu-user: NEON against scalar
#   3. native build with AddressSanitizer + UndefinedBehaviorSanitizer
#   4. the addon itself built with both sanitizers, driven from Node (the N-API layer too)
# Prints PASS/FAIL per stage and exits non-zero if any stage fails. Build trees and logs: build-kernels-*/.
# Set CONVNODE_SKIP_AARCH64=1 where no cross compiler / qemu is installed (reported as SKIP).
set -u
cd "$(dirname "$0")/.."
JOBS=${JOBS:-2}
failed=0

stage() {
  name=$1
  shift
  mkdir -p build-kernels-logs
  log="build-kernels-logs/$name.log"
  if "$@" >"$log" 2>&1; then
    echo "test-native-kernels: $name: PASS ($(grep -hE '(kernels_test|addon_sanitizer_drive): PASS' "$log" | tail -n 1))"
  else
    echo "test-native-kernels: $name: FAIL (log: $log)"
    tail -n 20 "$log"
    failed=1
  fi
}

build() {
  dir=$1
  shift
  cmake -S . -B "$dir" -DCONVNODE_BUILD_ADDON=OFF -DCONVNODE_BUILD_TESTS=ON "$@" &&
    cmake --build "$dir" --target convnode_kernels_test -j "$JOBS"
}

# The x86-64 run must show the avx2 tier, and the avx512 tier where the CPU has AVX-512F/BW/DQ/VL:
# a tier that silently dropped out of the build or the dispatch table fails the stage.
native() {
  build build-kernels-native -DCMAKE_BUILD_TYPE=Release &&
    ./build-kernels-native/convnode_kernels_test >build-kernels-logs/native.out &&
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

aarch64() {
  build build-kernels-aarch64 -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_TOOLCHAIN_FILE=native/cmake/aarch64-linux-gnu.cmake &&
    file build-kernels-aarch64/convnode_kernels_test | grep -q 'ARM aarch64' &&
    CONVNODE_ULP_SAMPLES=200000 qemu-aarch64 -L /usr/aarch64-linux-gnu ./build-kernels-aarch64/convnode_kernels_test >build-kernels-logs/aarch64.out &&
    cat build-kernels-logs/aarch64.out &&
    grep -q '^kernels_test: neon ' build-kernels-logs/aarch64.out
}

sanitizers() {
  flags="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
  build build-kernels-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_CXX_FLAGS=$flags" "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined" &&
    CONVNODE_ULP_SAMPLES=200000 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      ./build-kernels-asan/convnode_kernels_test
}

addon_sanitizers() {
  flags="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
  cmake -S . -B build-kernels-asan-addon -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS=$flags" \
    "-DNODE_INCLUDE_DIR=$(dirname "$(dirname "$(command -v node)")")/include/node" &&
    cmake --build build-kernels-asan-addon --target convnode -j "$JOBS" &&
    LD_PRELOAD="$(g++ -print-file-name=libasan.so):$(g++ -print-file-name=libubsan.so)" \
      ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      node native/tests/addon_sanitizer_drive.cjs build-kernels-asan-addon/Release/convnode.node
}

stage native native
if [ "${CONVNODE_SKIP_AARCH64:-0}" = 1 ]; then
  echo "test-native-kernels: aarch64: SKIP (CONVNODE_SKIP_AARCH64=1)"
else
  stage aarch64 aarch64
fi
stage sanitizers sanitizers
stage addon-sanitizers addon_sanitizers

if [ "$failed" = 0 ]; then
  echo "test-native-kernels: PASS"
else
  echo "test-native-kernels: FAIL"
fi
exit "$failed"
