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
  maxpool_3x3s2_plane<4>(p, [&](const MaxpoolRows& rows, const MaxpoolSteps& steps, size_t, float* out) {
    row_steps(p, rows, steps, out);
  });
}

}  // namespace convnode
