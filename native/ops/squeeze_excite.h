// A squeeze-and-excitation block (MobileNetV3, EfficientNet, MnasNet-A, RegNetY) as one op:
//   s = mean over H x W of x;  h = act1(W1 s + b1);  g = act2(W2 h + b2);  out = x * g
// per image and channel. One call runs the squeeze (the f32-gpool kernel), both gate layers
// (Linear's packed GEMV, then their activations as f32-vunary passes) and the channel scale (f32-vaffine),
// with the gate's small buffers owned by the call: the ONNX step it replaces made four native
// calls (and four queued jobs) and allocated the three gate arrays in JS on every run.
#pragma once
#include <cstddef>

#include "../kernels/epilogue.h"
#include "../runtime/dispatch.h"
#include "linear.h"

namespace convnode {

struct SqueezeExciteLayer {
  const float* weight = nullptr;  // [out, in] (a 1x1 conv's [out, in, 1, 1])
  size_t weight_length = 0;
  const float* bias = nullptr;    // null or `out` values
  size_t bias_length = 0;
  Activation activation;
};

class SqueezeExcite {
 public:
  // reduce: channels -> hidden, expand: hidden -> channels.
  SqueezeExcite(size_t channels, size_t hidden, const SqueezeExciteLayer& reduce, const SqueezeExciteLayer& expand,
                const KernelConfig& config);

  // input and output: batch x channels x plane floats; output may be input (the scale reads each
  // value once, after the squeeze has read them all).
  void check(size_t batch, size_t plane, size_t input_length, size_t output_length) const;
  void run(size_t batch, size_t plane, const float* input, float* output) const;

  size_t channels() const { return channels_; }
  size_t hidden() const { return hidden_; }
  size_t packed_bytes() const { return reduce_.packed_bytes() + expand_.packed_bytes(); }

 private:
  size_t channels_, hidden_;
  Linear reduce_, expand_;  // without activations: run() applies them in vectors
  Activation reduce_activation_, expand_activation_;
  const KernelConfig* config_;
};

}  // namespace convnode
