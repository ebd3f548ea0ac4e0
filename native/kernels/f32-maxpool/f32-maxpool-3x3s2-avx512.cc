// 3x3 stride-2 max pooling (ResNet's stem pool), AVX-512 (built with the avx512 flags): the
// AVX2 kernel's scheme 16 outputs wide. A step reads 32 input columns of each of the (up to 3)
// window rows once, takes their vertical max, then splits even columns (the middle taps) from
// odd ones (the right taps) with one two-source permute each; the left tap of output k is the
// right tap of output k - 1, so one more two-source permute shifts the right taps by a lane,
// lane 0 coming from the previous step's last right tap. No lane shuffles across 128-bit halves
// to undo, unlike the AVX2 kernel.
//
// NaN: vmaxps drops a NaN first operand, so the steps only record whether any input they read is
// NaN (unordered compares into a k-register); a plane that had one is pooled again by the
// general kernel, which propagates NaN. Columns outside the vector steps take the scalar
// per-pixel path of maxpool-3x3s2.h.
#include <immintrin.h>

#include <limits>

#include "maxpool-3x3s2.h"

namespace convnode {

namespace {

// Vertical max of 16 columns from c; records NaN lanes of the rows new to this output row (r1,
// r2, and r0 at the top row).
inline __m512 vertical16_avx512(const MaxpoolRows& rows, size_t c, bool check_r0, __mmask16* nan) {
  const __m512 a = _mm512_loadu_ps(rows.r0 + c);
  const __m512 b = _mm512_loadu_ps(rows.r1 + c);
  const __m512 d = _mm512_loadu_ps(rows.r2 + c);
  if (check_r0) *nan |= _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q);
  *nan |= _mm512_cmp_ps_mask(b, d, _CMP_UNORD_Q);
  return _mm512_max_ps(_mm512_max_ps(a, b), d);
}

void row_steps_avx512(const PoolPlane& p, const MaxpoolRows& rows, const MaxpoolSteps& steps, bool check_r0,
                      float* out, __mmask16* nan_lanes, bool* nan) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  // Lane 0 from the first source's lane 15 (the carry), lanes 1..15 from the second's 0..14.
  const __m512i left_of = _mm512_setr_epi32(15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30);
  __m512 carry = _mm512_setzero_ps();  // lane 15: the left tap of the step's first output
  size_t carried_for = static_cast<size_t>(-1);
  for (size_t step = steps.first;; step = step + 16 < steps.last ? step + 16 : steps.last) {
    const size_t s = 2 * step + 1 - p.pad_left;  // middle tap of output `step`
    if (step != carried_for) {
      const float left_tap = s >= 1 ? maxpool_3x3s2_column(rows, s - 1) : -std::numeric_limits<float>::infinity();
      if (left_tap != left_tap) *nan = true;
      carry = _mm512_set1_ps(left_tap);
    }
    const __m512 v0 = vertical16_avx512(rows, s, check_r0, nan_lanes);
    const __m512 v1 = vertical16_avx512(rows, s + 16, check_r0, nan_lanes);
    const __m512 middle = _mm512_permutex2var_ps(v0, even, v1);
    const __m512 right = _mm512_permutex2var_ps(v0, odd, v1);
    const __m512 left = _mm512_permutex2var_ps(carry, left_of, right);
    _mm512_storeu_ps(out + step, _mm512_max_ps(left, _mm512_max_ps(middle, right)));
    carry = right;
    carried_for = step + 16;
    if (step == steps.last) break;
  }
}

}  // namespace

void f32_maxpool_3x3s2__avx512(const PoolPlane& p) {
  __mmask16 nan_lanes = 0;
  bool nan = false;
  maxpool_3x3s2_plane<16>(p, [&](const MaxpoolRows& rows, const MaxpoolSteps& steps, size_t oy, float* out) {
    row_steps_avx512(p, rows, steps, oy == 0, out, &nan_lanes, &nan);
  });
  if (nan || nan_lanes != 0) f32_maxpool_general__scalar(p);
}

}  // namespace convnode
