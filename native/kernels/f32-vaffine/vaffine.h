// f32-vaffine: output[i] = activation(input[i] * scale + shift) over n floats (one channel's plane
// of a BatchNormalization folded to scale/shift, or of a squeeze-and-excitation gate). output may
// equal input.
#pragma once
#include <cstddef>

#include "../epilogue.h"

namespace convnode {

using VAffineKernel = void (*)(size_t n, const float* input, float scale, float shift, float* output,
                               const Activation& activation);

void f32_vaffine__scalar(size_t n, const float* input, float scale, float shift, float* output,
                         const Activation& activation);
void f32_vaffine__avx2(size_t n, const float* input, float scale, float shift, float* output,
                       const Activation& activation);
void f32_vaffine__avx512(size_t n, const float* input, float scale, float shift, float* output,
                         const Activation& activation);
void f32_vaffine__neon(size_t n, const float* input, float scale, float shift, float* output,
                       const Activation& activation);

}  // namespace convnode
