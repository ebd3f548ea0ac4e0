// Stride-2 convs with a small K (Cin x KH x KW in one K block: ResNet's 7x7/2 stem over RGB, K
// 147; MobileNet / EfficientNet's 3x3/2 stems, K 27) without im2col: the input's rows are split
// once into their even and odd columns, and the GEMM tile reads each of its K rows straight
// from them (ops/conv_phase_rows.cc says why and how).
#pragma once
#include <cstddef>

#include "../runtime/kernel-lists.h"
#include "window.h"

namespace convnode {

// output = conv(input) + bias (+ residual), activated, for a groups-1 conv whose packed weights
// (pack_a's layout) are one K block of k = Cin x KH x KW <= kc_max, at stride 2 x 2 without
// dilation, on a table with an indirect tile (GemmConfig::igemm), with output rows at least 14
// wide and at most 1/8 of a 16-wide tile per row wasted, while CONVNODE_PHASE_ROWS is not 0.
// Returns false (nothing done) otherwise: the caller then runs im2col + GEMM.
bool run_conv_phase_rows(const GemmConfig& cfg, const float* packed_a, size_t m, size_t k, size_t batch,
                         size_t in_channels, const Window& w, const float* input, float* output, const float* bias,
                         const float* residual, const Activation& activation);

}  // namespace convnode
