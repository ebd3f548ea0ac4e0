// Standalone test of the plain-C++ ops (no Node): every vector ISA this CPU runs is compared
// against the scalar table, and the scalar table against the naive definition, over sweeps of
// conv / depthwise / pooling / linear shapes. Built natively it checks AVX2; cross-compiled for
// aarch64 and run under qemu it checks NEON; built with sanitizers it checks memory safety.
// Prints one line per ISA and exits non-zero on the first mismatch. The tables it runs are the
// kernel lists' content (kernel_lists_checks.cc proves it), so each listed kernel is covered.
//
// This file is main only: each family's checks are in their own file (conv, winograd, dwconv,
// pool, gemm, elementwise, normalize, kernel_lists _checks.cc; the list is
// native/tests/sources.cmake), the helpers they share in kernels_test.h. A new family's checks go
// in a new file, listed there, and one call below.
#include <cstring>

#include "../runtime/thread_pool.h"
#include "kernels_test.h"

using namespace kernels_test;

int main() {
  const KernelConfig* scalar = config_for(Isa::Scalar);
  std::vector<const KernelConfig*> isas = {scalar};
  for (Isa isa : {Isa::Avx2, Isa::Avx512, Isa::Neon, Isa::WasmSimd}) {
    if (config_for(isa) != nullptr) isas.push_back(config_for(isa));
  }
#if defined(__x86_64__)
  // Never a silent skip: say why the avx512 tier did not run.
  if (config_for(Isa::Avx512) == nullptr) {
    std::printf("kernels_test: avx512: skipped, %s\n",
                cpu_supports(Isa::Avx512) ? "this build has no avx512 kernels" : "CPU lacks AVX-512F/BW/DQ/VL (or the OS does not save ZMM state)");
  }
#endif
  test_kernel_lists();

  // CONVNODE_KERNELS_TEST_THREADS=1 runs the single-thread pass only: emulated CPUs (qemu) check
  // the dispatch and the instructions, which the task split does not change.
  std::vector<size_t> thread_counts = {1, 3};
  if (const char* only = std::getenv("CONVNODE_KERNELS_TEST_THREADS")) {
    const size_t n = std::strtoul(only, nullptr, 10);
    if (n > 0) thread_counts = {n};
  }
  // CONVNODE_KERNELS_TEST_SCALAR_PASS=0 leaves out the scalar table's own pass where a vector ISA
  // runs (the vector passes still compare against the scalar table). Only for an emulated CPU
  // whose instruction set contains that of one the same binary's scalar pass already ran on:
  // the scalar pass executes the same instructions on both (check-prebuild-kernels.mjs: Haswell
  // after SandyBridge), so a second run of it under emulation checks nothing new.
  const char* scalar_pass_env = std::getenv("CONVNODE_KERNELS_TEST_SCALAR_PASS");
  const bool skip_scalar_pass = scalar_pass_env != nullptr && std::strcmp(scalar_pass_env, "0") == 0 && isas.size() > 1;
  for (size_t threads : thread_counts) {
    ThreadPool::instance().set_threads(threads);
    for (const KernelConfig* isa : isas) {
      if (isa == scalar && skip_scalar_pass) {
        std::printf("kernels_test: scalar threads %zu: not run (CONVNODE_KERNELS_TEST_SCALAR_PASS=0)\n", threads);
        continue;
      }
      const int before = g_failures;
      const int checks_before = g_checks;
      test_convs(*isa, *scalar);
      test_winograd_transforms(*isa, *scalar);
      test_conv_plan_checks(*isa);
      test_pointwise_few_outputs(*isa, *scalar);
      test_dwconv_scratch_reuse(*isa, *scalar);
      test_dwconv_kxk(*isa, *scalar);
      test_pools(*isa, *scalar);
      test_maxpool_3x3s2(*isa, *scalar);
      test_global_pools(*isa);
      test_linear(*isa, *scalar);
      if (threads == 1) test_gemm_tiles(*isa);
      if (threads == 1) test_winograd_gemm_tile(*isa);
      if (threads == 1) test_split_scales(*isa);
      if (threads == 1) test_balanced_cut(*isa);
      if (threads == 1) test_im2col(*isa);
      if (threads == 1) test_pack_a(*isa);
      test_elementwise(*isa, *scalar);
      test_squeeze_excite(*isa);
      test_normalize(*isa, *scalar);
      test_resize(*isa, *scalar);
      std::printf("kernels_test: %-6s threads %zu: %d checks, %s\n", isa_name(isa->isa), threads, g_checks - checks_before,
                  g_failures == before ? "ok" : "FAILED");
    }
    const int col2im_before = g_failures, col2im_checks = g_checks;
    test_col2im();
    std::printf("kernels_test: col2im threads %zu: %d checks, %s\n", threads, g_checks - col2im_checks,
                g_failures == col2im_before ? "ok" : "FAILED");
  }
#if defined(__wasi__)
  // The wasm build's pool runs every task on the caller (native/wasm/thread_pool_single.h):
  // thread_pool_checks.cc tests the native pool's threads and wake policies.
  std::printf("kernels_test: thread pool: not run (the wasm build's pool is single-threaded)\n");
#else
  test_thread_pool();
#endif
  // The activations' accuracy: fewer samples under qemu / sanitizers (CONVNODE_ULP_SAMPLES).
  const char* samples_env = std::getenv("CONVNODE_ULP_SAMPLES");
  const size_t ulp_samples = samples_env != nullptr ? std::strtoul(samples_env, nullptr, 10) : 2000000;
  for (const KernelConfig* isa : isas) {
    if (isa != scalar) test_activation_ulp(*isa, ulp_samples);
  }
  if (config_for(Isa::Avx512) != nullptr && config_for(Isa::Avx2) != nullptr) {
    test_scalef_forms(*config_for(Isa::Avx512), *config_for(Isa::Avx2));
  }
  if (isas.size() == 1) std::printf("kernels_test: note: no vector ISA on this CPU/build, scalar only\n");
  if (g_refusals_skipped > 0) {
    std::printf("kernels_test: note: %d refusal checks not run (no C++ exceptions in this build)\n", g_refusals_skipped);
  }
  std::printf("kernels_test: %s (%d checks, %d failures)\n", g_failures == 0 ? "PASS" : "FAIL", g_checks, g_failures);
  return g_failures == 0 ? 0 : 1;
}
