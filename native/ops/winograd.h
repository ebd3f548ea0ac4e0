// The Winograd paths of Conv2d, F(2x2, 3x3) and F(4x4, 3x3): 3x3, stride 1, dilation 1, groups 1
// convs (winograd_applies; whether one pays is lib/planner/conv-plan.ts's rule, which the conv's
// plan carries here). Weights are transformed at prepare time into P = (T + 2)^2 packed A
// matrices U[point] = [Cout x Cin]; a run transforms a chunk of input tiles into V[point] =
// [Cin x tiles], multiplies U[point] V[point] with the GEMM micro-kernel of the conv's table,
// and transforms the P products back with the epilogue.
#pragma once
#include <cstddef>

#include "../kernels/epilogue.h"
#include "../runtime/dispatch.h"
#include "window.h"

namespace convnode {

// Output tile side T: 2, 4 or 6.
enum class WinogradTile : size_t { F2x2 = 2, F4x4 = 4, F6x6 = 6 };

// Element-wise products per tile, (T + 2)^2: 16, 36 or 64.
size_t winograd_points(WinogradTile tile);

// Whether Winograd computes this conv at all: a 3x3 window, stride 1, dilation 1, groups 1.
bool winograd_applies(size_t kernel_h, size_t kernel_w, size_t stride_h, size_t stride_w, size_t dilation_h,
                      size_t dilation_w, size_t groups);

size_t winograd_packed_size(const GemmConfig& cfg, WinogradTile tile, size_t out_channels, size_t in_channels);
// weight: [Cout, Cin, 3, 3]. dst: winograd_packed_size floats.
void winograd_pack(const GemmConfig& cfg, WinogradTile tile, size_t out_channels, size_t in_channels,
                   const float* weight, float* dst);

struct WinogradRun {
  const KernelConfig* config;
  WinogradTile tile;
  const float* packed;  // from winograd_pack with config->gemm and this tile
  size_t batch, in_channels, out_channels;
  Window window;
  const float* bias;  // null or one per output channel
  Activation activation;
};

// Uses the process thread pool.
void winograd_run(const WinogradRun& r, const float* input, float* output, const float* residual);

}  // namespace convnode
