// NEON f32-vunary: 4 floats per step, two steps per iteration; the tail goes through a padded
// stack vector so it is computed by the same code as the body.
#include <arm_neon.h>

#include <cstring>

#include "../../simd/neon-epilogue.h"
#include "vunary.h"

namespace convnode {

void f32_vunary__neon(size_t n, const float* input, float* output, const Activation& activation) {
  with_activation_kind(activation.kind, [&](auto kind) {
    constexpr ActivationKind K = decltype(kind)::value;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      const float32x4_t x0 = vld1q_f32(input + i);
      const float32x4_t x1 = vld1q_f32(input + i + 4);
      vst1q_f32(output + i, neon_activate_kind<K>(x0, activation));
      vst1q_f32(output + i + 4, neon_activate_kind<K>(x1, activation));
    }
    for (; i + 4 <= n; i += 4) vst1q_f32(output + i, neon_activate_kind<K>(vld1q_f32(input + i), activation));
    if (i < n) {
      float tail[4] = {0, 0, 0, 0};
      std::memcpy(tail, input + i, (n - i) * sizeof(float));
      vst1q_f32(tail, neon_activate_kind<K>(vld1q_f32(tail), activation));
      std::memcpy(output + i, tail, (n - i) * sizeof(float));
    }
  });
}

}  // namespace convnode
