// f32-vunary: output[i] = activation(input[i]) over n floats; output may equal input (in place),
// but must not otherwise overlap it.
#pragma once
#include <cstddef>

#include "../epilogue.h"

namespace convnode {

using VUnaryKernel = void (*)(size_t n, const float* input, float* output, const Activation& activation);

void f32_vunary__scalar(size_t n, const float* input, float* output, const Activation& activation);
void f32_vunary__avx2(size_t n, const float* input, float* output, const Activation& activation);
void f32_vunary__avx512(size_t n, const float* input, float* output, const Activation& activation);
void f32_vunary__neon(size_t n, const float* input, float* output, const Activation& activation);

}  // namespace convnode
