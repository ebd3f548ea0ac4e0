// NEON f32-vaffine: one FMA per 4 floats, then the activation over the block in L1.
#include <arm_neon.h>

#include <algorithm>
#include <cstring>

#include "../f32-vbinary/vbinary.h"
#include "../f32-vunary/vunary.h"
#include "vaffine.h"

namespace convnode {

namespace {

void affine_neon(size_t n, const float* input, float scale, float shift, float* output) {
  const float32x4_t s = vdupq_n_f32(scale);
  const float32x4_t t = vdupq_n_f32(shift);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(output + i, vfmaq_f32(t, vld1q_f32(input + i), s));
  if (i < n) {
    float tail[4] = {0, 0, 0, 0};
    std::memcpy(tail, input + i, (n - i) * sizeof(float));
    vst1q_f32(tail, vfmaq_f32(t, vld1q_f32(tail), s));
    std::memcpy(output + i, tail, (n - i) * sizeof(float));
  }
}

}  // namespace

void f32_vaffine__neon(size_t n, const float* input, float scale, float shift, float* output,
                       const Activation& activation) {
  if (activation.kind == ActivationKind::None) return affine_neon(n, input, scale, shift, output);
  for (size_t i = 0; i < n; i += kElementwiseBlock) {
    const size_t count = std::min(kElementwiseBlock, n - i);
    affine_neon(count, input + i, scale, shift, output + i);
    f32_vunary__neon(count, output + i, output + i, activation);
  }
}

}  // namespace convnode
