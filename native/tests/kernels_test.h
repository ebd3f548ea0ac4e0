// The standalone kernel test's shared parts (native/tests/kernels_test.cc holds main). Each kernel
// family's checks live in their own file (<family>_checks.cc) and count through the same two
// counters: every comparison adds a check, every mismatch a failure (and prints one FAIL line).
// The helpers here are the ones several families use: random inputs, the two comparisons, the
// activations' definition in double, and the conv cases (depthwise runs through Conv2d too).
#pragma once

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "../ops/argument_error.h"
#include "../ops/conv2d.h"
#include "../runtime/dispatch.h"

namespace kernels_test {

using namespace convnode;

extern int g_failures;
extern int g_checks;
// Refusal checks (an op's ArgumentError caught) not run: the wasm build (scripts/build-wasm.mjs
// --kernels-test) has no C++ exceptions; its refusals are checked through the JS loader instead
// (test/wasm-backend.test.ts). main prints the count, so nothing is skipped silently.
extern int g_refusals_skipped;
#if defined(__cpp_exceptions)
// True when f throws an ArgumentError (an op refusing bad sizes or tables before any read).
bool throws_argument_error(const std::function<void()>& f);
#endif

std::vector<float> random_floats(size_t n, std::mt19937& rng);

// Within 1e-4 relative (1e-4 absolute below 1); NaN matches NaN. One check.
void expect_close(const std::vector<float>& got, const std::vector<float>& want, const std::string& label);
// Identical values (NaN matches NaN): for kernels that only move values. One check.
void expect_same(const std::vector<float>& got, const std::vector<float>& want, const std::string& label);

struct ConvCase {
  size_t batch, cin, cout, groups, h, w, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
  ActivationKind act;
  bool bias, residual;
};

std::string describe(const ConvCase& c);

// Every activation kind, numbered as in epilogue.h (None = 0 ... Mish = 15).
constexpr int kActivationKinds = 16;

Activation test_activation(ActivationKind kind);
float reference_activation(float xf, ActivationKind kind);

ConvRun run_of(const ConvCase& c);
// Each output's float64 sum over its window (bias included; residual and activation not), and
// the magnitude of its products, sum |w * x| (the error model's scale), in output order.
struct ConvSum {
  double sum, magnitude;
};
std::vector<ConvSum> conv_sums_f64(const ConvCase& c, const ConvRun& r, const std::vector<float>& in,
                                   const std::vector<float>& wt, const std::vector<float>& bias);
std::vector<float> naive_conv(const ConvCase& c, const ConvRun& r, const std::vector<float>& in, const std::vector<float>& wt,
                              const std::vector<float>& bias, const std::vector<float>& res);
ConvParams params_of(const ConvCase& c);
// With the structural default algorithm unless one is named.
std::vector<float> run_conv(const KernelConfig& config, const ConvCase& c, const ConvRun& r, const std::vector<float>& in,
                            const std::vector<float>& wt, const std::vector<float>& bias, const std::vector<float>& res,
                            int algorithm = -1);

// The families' checks, in the order main runs them. `isa` is the table under test, `scalar`
// the portable one it is compared with (the scalar table is also checked against definitions).
void test_kernel_lists();                                                          // kernel_lists_checks.cc
void test_convs(const KernelConfig& isa, const KernelConfig& scalar);              // conv_checks.cc
void test_conv_plan_checks(const KernelConfig& isa);                               // conv_checks.cc
void test_pointwise_few_outputs(const KernelConfig& isa, const KernelConfig& scalar);  // conv_checks.cc
void test_winograd_transforms(const KernelConfig& isa, const KernelConfig& scalar);  // winograd_checks.cc
void test_winograd_gemm_tile(const KernelConfig& isa);                             // winograd_checks.cc
void test_dwconv_scratch_reuse(const KernelConfig& isa, const KernelConfig& scalar);  // dwconv_checks.cc
void test_dwconv_kxk(const KernelConfig& isa, const KernelConfig& scalar);         // dwconv_checks.cc
void test_pools(const KernelConfig& isa, const KernelConfig& scalar);              // pool_checks.cc
void test_maxpool_3x3s2(const KernelConfig& isa, const KernelConfig& scalar);      // pool_checks.cc
void test_global_pools(const KernelConfig& isa);                                   // pool_checks.cc
void test_linear(const KernelConfig& isa, const KernelConfig& scalar);             // gemm_checks.cc
void test_gemm_tiles(const KernelConfig& isa);                                     // gemm_checks.cc
void test_balanced_cut(const KernelConfig& isa);                                   // gemm_checks.cc
void test_split_scales(const KernelConfig& isa);                                   // gemm_checks.cc
void test_im2col(const KernelConfig& isa);                                         // gemm_checks.cc
void test_pack_a(const KernelConfig& isa);                                         // gemm_checks.cc
void test_elementwise(const KernelConfig& isa, const KernelConfig& scalar);        // elementwise_checks.cc
void test_normalize(const KernelConfig& isa, const KernelConfig& scalar);          // normalize_checks.cc
void test_resize(const KernelConfig& isa, const KernelConfig& scalar);             // resize_checks.cc
void test_activation_ulp(const KernelConfig& isa, size_t samples);                 // elementwise_checks.cc
void test_scalef_forms(const KernelConfig& avx512, const KernelConfig& avx2);      // elementwise_checks.cc
void test_squeeze_excite(const KernelConfig& isa);                                 // elementwise_checks.cc
void test_thread_pool();                                                           // thread_pool_checks.cc
void test_col2im();                                                                // col2im_checks.cc (no ISA variants)

}  // namespace kernels_test
