#include <arm_neon.h>

#include <cstddef>

#include "fma-probe.h"

namespace convnode {

double fma_probe_neon() {
  volatile float sink = 0.0f;
  return best_gflops(
      [&](size_t iterations) {
        float32x4_t acc[16];
        for (int j = 0; j < 16; j++) acc[j] = vdupq_n_f32(static_cast<float>(j));
        const float32x4_t scale = vdupq_n_f32(0.999999f);
        const float32x4_t add = vdupq_n_f32(1e-6f);
        for (size_t i = 0; i < iterations; i++) {
          for (int j = 0; j < 16; j++) acc[j] = vfmaq_f32(add, acc[j], scale);
        }
        float32x4_t total = acc[0];
        for (int j = 1; j < 16; j++) total = vaddq_f32(total, acc[j]);
        sink = vgetq_lane_f32(total, 0);
      },
      16 * 4 * 2.0);
}

}  // namespace convnode
