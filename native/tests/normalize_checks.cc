// f32-layernorm and f32-softmax (rows and columns forms, through native/ops/normalize.cc, so the
// thread split is covered too) and batched MatMul (native/ops/matmul.cc): each ISA against the
// scalar table, the scalar table against the naive definition in double. Shapes sweep lengths
// and column counts around every vector width (4, 8, 16) and the 64-column task block.
#include <algorithm>

#include "../ops/argument_error.h"
#include "../ops/matmul.h"
#include "../ops/normalize.h"

#include "kernels_test.h"

namespace kernels_test {
namespace {

void naive_groups(const GroupShape& s, const std::vector<float>& x, const std::vector<float>& scale,
                  const std::vector<float>& bias, float eps, bool softmax, std::vector<float>& y) {
  for (size_t o = 0; o < s.outer; o++)
    for (size_t c = 0; c < s.inner; c++) {
      const size_t base = o * s.length * s.inner + c;
      const auto at = [&](size_t l) { return base + l * s.inner; };
      if (softmax) {
        double max = -INFINITY, sum = 0;
        for (size_t l = 0; l < s.length; l++) max = std::max(max, static_cast<double>(x[at(l)]));
        for (size_t l = 0; l < s.length; l++) sum += std::exp(x[at(l)] - max);
        for (size_t l = 0; l < s.length; l++) y[at(l)] = static_cast<float>(std::exp(x[at(l)] - max) / sum);
        continue;
      }
      double sum = 0, squares = 0;
      for (size_t l = 0; l < s.length; l++) sum += x[at(l)];
      const double mean = sum / s.length;
      for (size_t l = 0; l < s.length; l++) squares += (x[at(l)] - mean) * (x[at(l)] - mean);
      const double inverse = 1.0 / std::sqrt(squares / s.length + eps);
      for (size_t l = 0; l < s.length; l++) {
        y[at(l)] = static_cast<float>((x[at(l)] - mean) * inverse * scale[l] + (bias.empty() ? 0.0 : bias[l]));
      }
    }
}

}  // namespace

void test_normalize(const KernelConfig& isa, const KernelConfig& scalar) {
  std::mt19937 rng(21);
  const size_t shapes[][3] = {{3, 1, 1},  {5, 7, 1},   {4, 33, 1},  {2, 768, 1}, {7, 49, 1}, {2, 96, 3},
                              {1, 5, 17}, {2, 96, 196}, {3, 9, 67}, {1, 4, 16},  {2, 3, 129},
                              {1, 768, 49}, {1, 400, 45}};  // the last two: narrower column blocks at 3 threads
  const std::string name = isa_name(isa.isa);
  for (const auto& d : shapes) {
    const GroupShape s{d[0], d[1], d[2]};
    const size_t total = s.outer * s.length * s.inner;
    auto x = random_floats(total, rng);
    for (float& v : x) v = v * 3.0f + 2.0f;  // a mean far from 0: the two-pass variance matters
    const auto scale = random_floats(s.length, rng);
    const auto bias = random_floats(s.length, rng);
    const std::string shape = " [" + std::to_string(d[0]) + "," + std::to_string(d[1]) + "," + std::to_string(d[2]) + "]";
    for (bool softmax : {false, true}) {
      for (bool with_bias : {false, true}) {
        if (softmax && with_bias) continue;
        std::vector<float> naive(total), want(total, NAN), got(total, NAN);
        const std::vector<float> no_bias;
        naive_groups(s, x, scale, with_bias ? bias : no_bias, 1e-5f, softmax, naive);
        if (softmax) {
          run_softmax(scalar, s, x.data(), want.data());
          run_softmax(isa, s, x.data(), got.data());
        } else {
          const float* b = with_bias ? bias.data() : nullptr;
          run_layernorm(scalar, s, x.data(), scale.data(), b, 1e-5f, want.data());
          run_layernorm(isa, s, x.data(), scale.data(), b, 1e-5f, got.data());
        }
        const std::string what = softmax ? "softmax" : (with_bias ? "layernorm+bias" : "layernorm");
        expect_close(want, naive, "scalar " + what + " vs naive" + shape);
        expect_close(got, want, name + " " + what + " vs scalar" + shape);
        // In place gives the same.
        std::vector<float> inplace = x;
        if (softmax) {
          run_softmax(isa, s, inplace.data(), inplace.data());
        } else {
          run_layernorm(isa, s, inplace.data(), scale.data(), with_bias ? bias.data() : nullptr, 1e-5f, inplace.data());
        }
        expect_close(inplace, got, name + " " + what + " in place" + shape);
      }
    }
  }
  // Batched MatMul: {aShape}, {bShape} with broadcast batch dimensions.
  const std::vector<std::vector<size_t>> cases[] = {
      {{2, 3, 49, 32}, {2, 3, 32, 49}}, {{37, 70}, {70, 23}}, {{1, 5}, {5, 1}},
      {{3, 17, 9}, {3, 9, 33}},         {{4, 2, 6, 8}, {8, 5}}, {{6, 8}, {3, 1, 8, 7}},
  };
  for (const auto& c : cases) {
    MatMulRun run;
    run.a_shape = c[0];
    run.b_shape = c[1];
    run.activation = {ActivationKind::Relu, 0.01f};
    plan_matmul(run);
    const auto a = random_floats(run.a_matrices * run.m * run.k, rng);
    const auto b = random_floats(run.b_matrices * run.k * run.n, rng);
    std::vector<float> naive(run.batches * run.m * run.n), want(naive.size(), NAN), got(naive.size(), NAN);
    for (size_t t = 0; t < run.batches; t++)
      for (size_t i = 0; i < run.m; i++)
        for (size_t j = 0; j < run.n; j++) {
          double sum = 0;
          for (size_t p = 0; p < run.k; p++) {
            sum += static_cast<double>(a[(run.a_index[t] * run.m + i) * run.k + p]) * b[(run.b_index[t] * run.k + p) * run.n + j];
          }
          naive[(t * run.m + i) * run.n + j] = sum > 0 ? static_cast<float>(sum) : 0.0f;
        }
    run_matmul(scalar, run, a.data(), b.data(), want.data());
    run_matmul(isa, run, a.data(), b.data(), got.data());
    expect_close(want, naive, "scalar matmul vs naive");
    expect_close(got, want, name + " matmul vs scalar");
  }
  // Bad shapes are refused with an ArgumentError, not a crash.
  MatMulRun bad;
  bad.a_shape = {2, 3, 4};
  bad.b_shape = {3, 5, 6};
#if defined(__cpp_exceptions)
  g_checks++;
  try {
    plan_matmul(bad);
    std::printf("FAIL matmul: inner dimensions 4 vs 5 were accepted\n");
    g_failures++;
  } catch (const ArgumentError&) {
  }
#else
  g_refusals_skipped++;
#endif
}

}  // namespace kernels_test
