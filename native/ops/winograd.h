// The Winograd F(2x2, 3x3) path of Conv2d: 3x3, stride 1, dilation 1, groups 1 convs with enough
// channels and pixels to pay for the transforms (winograd_suits). Weights are transformed at
// prepare time into 16 packed A matrices U[point] = [Cout x Cin]; a run transforms a chunk of
// input tiles into V[point] = [Cin x tiles], multiplies U[point] V[point] with the GEMM
// micro-kernel of the conv's table, and transforms the 16 products back with the epilogue.
#pragma once
#include <cstddef>

#include "../kernels/epilogue.h"
#include "../runtime/dispatch.h"
#include "window.h"

namespace convnode {

// Whether the conv's parameters allow the Winograd path at all (then its weights are packed).
bool winograd_weights_suit(size_t kernel_h, size_t kernel_w, size_t groups, size_t in_channels, size_t out_channels);

// Whether a run of such a conv takes it.
bool winograd_suits(const Window& w);

size_t winograd_packed_size(const GemmConfig& cfg, size_t out_channels, size_t in_channels);
// weight: [Cout, Cin, 3, 3]. dst: winograd_packed_size floats.
void winograd_pack(const GemmConfig& cfg, size_t out_channels, size_t in_channels, const float* weight, float* dst);

// The inverse of winograd_pack: the [Cout, Cin, 3, 3] filters back from the packed U matrices,
// for convs that pack their im2col weights only when a run needs them (conv2d.cc keeps no copy of
// the filters). The 4 corner taps come back exactly, the others within about one float rounding
// of the filter's scale (each is a difference of two or four rounded points).
void winograd_unpack(const GemmConfig& cfg, size_t out_channels, size_t in_channels, const float* packed, float* weight);

struct WinogradRun {
  const KernelConfig* config;
  const float* packed;  // from winograd_pack with config->gemm
  size_t batch, in_channels, out_channels;
  Window window;
  const float* bias;  // null or one per output channel
  Activation activation;
};

// Uses the process thread pool.
void winograd_run(const WinogradRun& r, const float* input, float* output, const float* residual);

}  // namespace convnode
