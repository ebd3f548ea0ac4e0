// A prepared 2-D convolution: weights checked and packed once for the kernel table active at
// preparation, then run (const, so concurrent runs are safe) over batched NCHW tensors.
// groups == inChannels > 1 (depthwise, any channel multiplier) runs the direct dwconv kernels;
// everything else is im2col + packed GEMM, with no im2col at all for 1x1 stride-1 unpadded convs
// (their B panels are copied straight from the input's channel rows) and Winograd F(2x2, 3x3)
// for the 3x3 stride-1 convs winograd.h takes. Convs that qualify for Winograd pack only its 16
// U matrices at prepare (16/9 of the filters); their im2col form is packed by the first run that
// needs it (a stride of 2, a map under 6x6), so most never hold both.
#pragma once
#include <atomic>
#include <cstddef>
#include <mutex>
#include <vector>

#include "../kernels/epilogue.h"
#include "../runtime/dispatch.h"
#include "window.h"

namespace convnode {

struct ConvParams {
  size_t in_channels, out_channels, groups;
  size_t kernel_h, kernel_w;
  Activation activation;
};

struct ConvRun {
  size_t batch, in_channels, out_channels, groups;
  Window window;
};

class Conv2d {
 public:
  // Throws ArgumentError for inconsistent parameters or weight / bias lengths.
  Conv2d(const ConvParams& params, const float* weight, size_t weight_length, const float* bias, size_t bias_length,
         const KernelConfig& config);

  // Checks a run's geometry against this conv and the arrays' lengths (residual_length is ignored
  // without a residual). Throws ArgumentError naming the argument.
  void check(const ConvRun& run, size_t input_length, size_t output_length, bool has_residual,
             size_t residual_length) const;

  // Assumes check() passed. Uses the process thread pool. Concurrent runs are safe, including
  // the first ones that need the im2col weights (one packs them, the others wait for it).
  void run(const ConvRun& run, const float* input, float* output, const float* residual) const;

  // Native memory held now: the packed weights made so far and the bias. Grows once, when a run
  // first packs the im2col form (any thread may read it at any time).
  size_t packed_bytes() const {
    return (gemm_floats_.load(std::memory_order_acquire) + winograd_packed_.size() + bias_.size()) * sizeof(float);
  }
  // Whether this run would pack the im2col weights first (so packed_bytes grows by it).
  bool run_packs_weights(const ConvRun& run) const;
  bool depthwise() const { return depthwise_; }
  Isa isa() const { return config_->isa; }

 private:
  void run_gemm(const ConvRun& run, const float* input, float* output, const float* residual) const;
  void run_depthwise(const ConvRun& run, const float* input, float* output, const float* residual) const;
  bool takes_winograd(const ConvRun& run) const;
  // The im2col + GEMM weights, packed from the Winograd matrices on first use if need be.
  const float* gemm_weights() const;
  void pack_gemm_weights(const float* weight) const;

  ConvParams params_;
  const KernelConfig* config_;
  bool depthwise_;
  size_t group_k_;             // (inChannels / groups) * KH * KW
  size_t group_packed_size_;   // floats of packed A per group
  // Packed A per group (GEMM), or the plain filters (depthwise). Written once: at construction,
  // or for Winograd convs inside gemm_once_ by the first run that needs it.
  mutable std::vector<float> packed_;
  mutable std::once_flag gemm_once_;
  mutable std::atomic<size_t> gemm_floats_{0};  // packed_.size() once it is complete
  std::vector<float> bias_;                     // empty when there is no bias
  std::vector<float> winograd_packed_;  // 16 packed U matrices, empty unless winograd_weights_suit
};

}  // namespace convnode
