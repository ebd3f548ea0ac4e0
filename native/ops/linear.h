// A prepared fully connected layer: out = act(x W^T + b), weight [outFeatures, inFeatures] packed
// once. Run as C^T = W x^T through the same GEMM as conv (outFeatures rows, batch columns), then
// transposed into the caller's batch x outFeatures output; where MR == NR (avx512) and the batch
// fills a row panel, as C = x W^T instead (run_rows). Small batches skip the GEMM: a GEMV per
// image over the same packed panels.
#pragma once
#include <cstddef>
#include <vector>

#include "../kernels/epilogue.h"
#include "../runtime/dispatch.h"

namespace convnode {

class Linear {
 public:
  Linear(size_t in_features, size_t out_features, const float* weight, size_t weight_length, const float* bias,
         size_t bias_length, Activation activation, const KernelConfig& config);

  void check(size_t batch, size_t input_length, size_t output_length) const;
  void run(size_t batch, const float* input, float* output) const;

  size_t packed_bytes() const { return (packed_.size() + bias_.size()) * sizeof(float); }

 private:
  static constexpr size_t kMaxPanelRows = 16;  // the tallest A panel (MR) of any kernel table
  void run_gemv(size_t batch, const float* input, float* output) const;
  void run_gemm(size_t batch, const float* input, float* output) const;
  void run_rows(size_t batch, const float* input, float* output) const;

  size_t in_features_, out_features_;
  Activation activation_;
  const KernelConfig* config_;
  std::vector<float> packed_;
  std::vector<float> bias_;
};

}  // namespace convnode
