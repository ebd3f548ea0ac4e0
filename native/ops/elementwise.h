// The element-wise engine: what a model does between its convs that is not fused into their
// epilogues. Activations over a buffer, broadcast binary ops (residual sums, a
// squeeze-and-excitation gate times its feature map), and the per-channel affine step (a
// standalone BatchNormalization folded to scale/shift). Each checks its arguments (throwing
// ArgumentError naming them), cuts the work into contiguous runs of the kernel table's
// f32-vunary / f32-vbinary / f32-vaffine kernels, and spreads large jobs over the thread pool.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "../runtime/dispatch.h"

namespace convnode {

// output[i] = act(input[i]) for i < n; output may be input, else the two must not overlap.
void check_unary(size_t input_length, size_t output_length);
void run_unary(const KernelConfig& config, size_t n, const float* input, float* output, const Activation& act);

struct BinaryRun {
  BinaryOp op = BinaryOp::Add;
  std::vector<size_t> a_shape, b_shape, out_shape;
  Activation activation;
};

// out = act(a op b) under numpy broadcasting; out_shape must be the broadcast of the two shapes.
void check_binary(const BinaryRun& run, size_t a_length, size_t b_length, size_t output_length);
void run_binary(const KernelConfig& config, const BinaryRun& run, const float* a, const float* b, float* output);

// out[n, c, p] = act(in[n, c, p] * scale + shift). scale / shift hold `channels` values or
// batch * channels (one per image and channel); either may be absent (1 / 0).
struct AffineRun {
  size_t batch = 0, channels = 0, plane = 0;
  bool has_scale = false, has_shift = false;
  bool scale_per_image = false, shift_per_image = false;  // set by check_affine
  Activation activation;
};

void check_affine(AffineRun& run, size_t input_length, size_t output_length, size_t scale_length,
                  size_t shift_length);
void run_affine(const KernelConfig& config, const AffineRun& run, const float* input, const float* scale,
                const float* shift, float* output);

// "[2, 3, 4]"
std::string format_shape(const std::vector<size_t>& shape);

}  // namespace convnode
