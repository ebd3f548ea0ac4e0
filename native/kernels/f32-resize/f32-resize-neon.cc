// neon f32-resize: NEON has no gather, so the horizontal blends and the nearest gather stay
// scalar (they run once per source row, not per output row); the vertical blend (the bulk of an
// upsample's work) is one fused multiply-add per 4 outputs, and 2x duplication two zips.
#include <arm_neon.h>

#include "resize-impl.h"

namespace convnode {

namespace {

struct NeonResizeOps {
  static void gather(size_t n, const float* src, const int32_t* index, float* dst) {
    ScalarResizeOps::gather(n, src, index, dst);
  }
  static void blend_gather(size_t n, const float* src, const int32_t* lo, const int32_t* hi, const float* weight,
                           float* dst) {
    ScalarResizeOps::blend_gather(n, src, lo, hi, weight, dst);
  }
  static void blend(size_t n, const float* a, const float* b, float w, float* dst) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
      const float32x4_t va = vld1q_f32(a + i);
      vst1q_f32(dst + i, vfmaq_n_f32(va, vsubq_f32(vld1q_f32(b + i), va), w));
    }
    ScalarResizeOps::blend(n - i, a + i, b + i, w, dst + i);
  }
  static void duplicate(size_t n, const float* src, float* dst) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
      const float32x4_t v = vld1q_f32(src + i);
      vst1q_f32(dst + 2 * i, vzip1q_f32(v, v));
      vst1q_f32(dst + 2 * i + 4, vzip2q_f32(v, v));
    }
    ScalarResizeOps::duplicate(n - i, src + i, dst + 2 * i);
  }
};

}  // namespace

CONVNODE_DEFINE_RESIZE(neon, NeonResizeOps)

}  // namespace convnode
