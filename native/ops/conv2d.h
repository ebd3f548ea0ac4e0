// A prepared 2-D convolution: weights checked and packed once for the kernel table active at
// preparation, then run (const, so concurrent runs are safe) over batched NCHW tensors.
// groups == inChannels > 1 (depthwise, any channel multiplier) runs the direct dwconv kernels;
// everything else is im2col + packed GEMM, with no im2col at all for 1x1 stride-1 unpadded convs
// (their B panels are copied straight from the input's channel rows) and Winograd F(2x2, 3x3)
// for the 3x3 stride-1 convs winograd.h takes. Convs that qualify for Winograd pack only its 16
// U matrices at prepare (16/9 of the filters); their im2col form is packed by the first run that
// needs it (a stride of 2, a map under 6x6), so most never hold both; and when that run comes
// before any Winograd run, U is dropped (rebuilt from the im2col form if a Winograd run follows):
// a stride-2 conv ends with the im2col form alone.
#pragma once
#include <atomic>
#include <cstddef>
#include <memory>
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

// The depthwise kernel a run uses (ops/depthwise.cc): the K x K stride-S row kernel of the table
// for square 3x3 / 5x5 / 7x7 windows with the same stride 1 or 2 on both axes (any dilation and
// padding), else its general kernel.
DwconvKernel depthwise_kernel_for(const KernelConfig& config, const Window& window);

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
  // the first ones that need a packed form not made yet (one makes it, the others wait).
  void run(const ConvRun& run, const float* input, float* output, const float* residual) const;

  // Native memory held now: the packed weights and the bias. Changes when a run makes or drops a
  // packed form (any thread may read it at any time).
  size_t packed_bytes() const {
    return (packed_floats_.load(std::memory_order_acquire) + bias_.size()) * sizeof(float);
  }
  // Whether this run would make or drop a packed form first (so packed_bytes changes).
  bool run_changes_packing(const ConvRun& run) const;
  bool depthwise() const { return depthwise_; }
  Isa isa() const { return config_->isa; }

 private:
  using Packed = std::shared_ptr<const std::vector<float>>;

  void run_gemm(const ConvRun& run, const float* packed, const float* input, float* output,
                const float* residual) const;
  void run_depthwise(const ConvRun& run, const float* input, float* output, const float* residual) const;
  bool takes_winograd(const ConvRun& run) const;
  std::vector<float> pack_gemm(const float* filters) const;
  std::vector<float> pack_winograd(const float* filters) const;
  // The form a run needs, made from the other one if need be (under forms_mutex_); runs keep
  // their copy of the pointer, so a form dropped meanwhile lives until they finish.
  Packed winograd_form() const;
  Packed gemm_form() const;
  void count_forms() const;  // under forms_mutex_

  ConvParams params_;
  const KernelConfig* config_;
  bool depthwise_;
  bool winograd_ok_;           // qualifies for Winograd by its weights (winograd_weights_suit)
  size_t group_k_;             // (inChannels / groups) * KH * KW
  size_t group_packed_size_;   // floats of packed A per group
  // Convs that never take Winograd: packed A per group (GEMM), or the plain filters (depthwise).
  std::vector<float> packed_;
  // Winograd convs: the im2col + GEMM form and the 16 U matrices, either may be null.
  mutable std::mutex forms_mutex_;
  mutable Packed gemm_form_, winograd_form_;
  mutable bool winograd_used_ = false;          // a Winograd run has happened: U is kept
  mutable std::atomic<size_t> packed_floats_{0};
  std::vector<float> bias_;  // empty when there is no bias
};

}  // namespace convnode
