// 1x1 convs with few output channels on large maps (MobileNetV2 / MnasNet / EfficientNet's
// 32 -> 16 @112): the GEMM micro-kernel reads B, the input's channel rows, in place.
#pragma once
#include <cstddef>

#include "../runtime/kernel-lists.h"

namespace convnode {

// C[m x pixels] = A * input for each image, A the conv's packed weights (pack_a's layout), when
// A is at most two MR-row panels and one K block (m <= 2 mr, k <= kc_max), the map has at least
// kFewOutputsMinPixels pixels, and CONVNODE_PW_IN_PLACE is not 0. Returns false (nothing done)
// otherwise: the caller then runs the packed GEMM.
bool run_pointwise_few_outputs(const GemmConfig& cfg, const float* packed_a, size_t m, size_t k, size_t batch,
                               size_t pixels, const float* input, float* output, const float* bias,
                               const float* residual, const Activation& activation);

}  // namespace convnode
