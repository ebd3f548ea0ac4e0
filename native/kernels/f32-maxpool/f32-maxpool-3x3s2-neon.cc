// 3x3 stride-2 max pooling, NEON (arm64 only). The AVX2 kernel's scheme: per output row, the
// vertical max of the window rows, then the horizontal 3-tap max in registers, the left taps
// being the right taps shifted one lane with the first carried from the previous step. vld2q
// splits even (middle tap) and odd (right tap) columns as it loads, so a step of 4 outputs is
// 6 loads, 7 max and one extract. vmaxq_f32 (FMAX) returns NaN when either input is NaN, so
// NaN propagates with no extra work.
#include <arm_neon.h>

#include <limits>

#include "maxpool-3x3s2.h"

namespace convnode {

namespace {

void row_steps(const PoolPlane& p, const MaxpoolRows& rows, const MaxpoolSteps& steps, float* out) {
  float32x4_t carry = vdupq_n_f32(0.0f);
  size_t carried_for = static_cast<size_t>(-1);  // the step whose left tap `carry` holds
  for (size_t step = steps.first;; step = step + 4 < steps.last ? step + 4 : steps.last) {
    const size_t s = 2 * step + 1 - p.pad_left;  // middle tap of output `step`
    if (step != carried_for) {
      // First step, or the last one overlapping its predecessor: the left tap from scratch.
      carry = vdupq_n_f32(s >= 1 ? maxpool_3x3s2_column(rows, s - 1) : -std::numeric_limits<float>::infinity());
    }
    const float32x4x2_t a = vld2q_f32(rows.r0 + s);
    const float32x4x2_t b = vld2q_f32(rows.r1 + s);
    const float32x4x2_t d = vld2q_f32(rows.r2 + s);
    const float32x4_t middle = vmaxq_f32(vmaxq_f32(a.val[0], b.val[0]), d.val[0]);
    const float32x4_t right = vmaxq_f32(vmaxq_f32(a.val[1], b.val[1]), d.val[1]);
    vst1q_f32(out + step, vmaxq_f32(vextq_f32(carry, right, 3), vmaxq_f32(middle, right)));
    carry = right;
    carried_for = step + 4;
    if (step == steps.last) break;
  }
}

}  // namespace

void f32_maxpool_3x3s2__neon(const PoolPlane& p) {
  const MaxpoolSteps steps = maxpool_3x3s2_steps(p, 4);
  for (size_t oy = 0; oy < p.out_h; oy++) {
    const TapRange ty = pool_taps(oy, 2, p.pad_top, 3, 1, p.in_h);
    const size_t iy0 = oy * 2 + ty.first - p.pad_top;
    float* out = p.output + oy * p.out_w;
    size_t ox = 0;
    for (; ox < steps.first && ox < p.out_w; ox++) out[ox] = maxpool_3x3s2_pixel(p, ty, iy0, ox);
    if (steps.any) {
      row_steps(p, maxpool_3x3s2_rows(p, ty, iy0), steps, out);
      ox = steps.last + 4;
    }
    for (; ox < p.out_w; ox++) out[ox] = maxpool_3x3s2_pixel(p, ty, iy0, ox);
  }
}

}  // namespace convnode
