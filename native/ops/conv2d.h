// A prepared 2-D convolution, planned once: the prepare call takes the conv's whole static
// description (channels, groups, kernel, stride, dilation, activation, the table's ISA) and the
// algorithm lib/planner/conv-plan.ts chose for it (the one rule both backends follow), checks the
// algorithm computes this conv, and packs that one form. Runs are const (concurrent runs are
// safe) and refuse a window other than the planned one (check()), so a conv never repacks.
//  - Depthwise (groups == inChannels > 1, any channel multiplier): the direct dwconv kernels;
//  - Pointwise (1x1, stride 1): GEMM whose B panels are copies of the input's channel rows;
//  - Im2colGemm: im2col written into the GEMM's B panels, any window and groups;
//  - WinogradF2x2 / WinogradF4x4 (3x3, stride 1, dilation 1, groups 1): see winograd.h;
//  - GroupedDirect (groups > 1, not depthwise, any stride): f32-gconv, no im2col (grouped.cc).
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "../kernels/epilogue.h"
#include "../runtime/dispatch.h"
#include "window.h"
#include "winograd.h"

namespace convnode {

enum class ConvAlgorithm { Depthwise, Pointwise, Im2colGemm, WinogradF2x2, WinogradF4x4, GroupedDirect, WinogradF6x6 };

// Names as lib/planner/conv-plan.ts spells them.
const char* conv_algorithm_name(ConvAlgorithm a);
// False when the name is unknown.
bool conv_algorithm_from_name(const std::string& name, ConvAlgorithm* out);

struct ConvParams {
  size_t in_channels, out_channels, groups;
  size_t kernel_h, kernel_w;
  size_t stride_h = 1, stride_w = 1;
  size_t dilation_h = 1, dilation_w = 1;
  ConvAlgorithm algorithm;
  Activation activation;
};

// Empty when the algorithm computes a conv with these parameters, else why not.
std::string conv_algorithm_refusal(const ConvParams& params);

// The structural default for callers that name no algorithm (C++ tests, raw addon users):
// depthwise where it applies, else pointwise for 1x1 stride 1, else im2col + GEMM. Speed
// choices such as Winograd are lib/planner/conv-plan.ts's, never made here.
ConvAlgorithm conv_default_algorithm(const ConvParams& params);

struct ConvRun {
  size_t batch, in_channels, out_channels, groups;
  Window window;
};

// The depthwise kernel a run uses (ops/depthwise.cc): the K x K stride-S row kernel of the table
// for square 3x3 / 5x5 / 7x7 windows with the same stride 1 or 2 on both axes (any dilation and
// padding), else its general kernel.
DwconvKernel depthwise_kernel_for(const KernelConfig& config, const Window& window);

class Conv2d {
 public:
  // Throws ArgumentError for inconsistent parameters, weight / bias lengths, or an algorithm
  // that does not compute this conv.
  Conv2d(const ConvParams& params, const float* weight, size_t weight_length, const float* bias, size_t bias_length,
         const KernelConfig& config);

  // Checks a run's geometry against this conv's plan (channels, groups, kernel, stride and
  // dilation must be the planned ones; sizes and pads may vary) and the arrays' lengths
  // (residual_length is ignored without a residual). Throws ArgumentError naming the argument.
  void check(const ConvRun& run, size_t input_length, size_t output_length, bool has_residual,
             size_t residual_length) const;

  // Assumes check() passed. Uses the process thread pool. Concurrent runs are safe.
  void run(const ConvRun& run, const float* input, float* output, const float* residual) const;

  // Native memory held: the packed weights and the bias. Fixed at prepare.
  size_t packed_bytes() const { return (packed_.size() + exact_.size() + bias_.size()) * sizeof(float); }
  bool depthwise() const { return params_.algorithm == ConvAlgorithm::Depthwise; }
  ConvAlgorithm algorithm() const { return params_.algorithm; }
  Isa isa() const { return config_->isa; }

 private:
  void run_gemm(const ConvRun& run, const float* packed, const float* input, float* output,
                const float* residual) const;
  void run_depthwise(const ConvRun& run, const float* input, float* output, const float* residual) const;
  void run_depthwise_planes(const ConvRun& run, const float* input, float* output, const float* residual) const;
  void run_grouped_direct(const ConvRun& run, const float* input, float* output, const float* residual) const;
  void run_grouped_lanes(const ConvRun& run, const float* input, float* output, const float* residual) const;
  void pack_grouped_direct(const float* weight);

  ConvParams params_;
  const KernelConfig* config_;
  size_t group_k_;            // (inChannels / groups) * KH * KW
  size_t group_packed_size_;  // floats of packed A per group (GEMM algorithms)
  // The one packed form: A per group (GEMM), the U matrices (Winograd) or the plain filters
  // (depthwise).
  std::vector<float> packed_;
  // F(4x4) only: the im2col + GEMM form too (9/9 of the filters), for runs whose input holds a
  // NaN or an infinity. F(4x4)'s input transform spreads each input over all 36 points of its
  // tiles (the 4 x 1 ... terms), so a non-finite input would reach outputs whose window does
  // not cover it (Inf - Inf is NaN, where finite values cancel); F(2x2)'s transforms add and
  // subtract only the taps each point needs, and keep every output's footprint.
  std::vector<float> exact_;
  std::vector<float> bias_;  // empty when there is no bias
};

}  // namespace convnode
