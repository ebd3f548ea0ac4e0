// 3x3 stride-2 max pooling (ResNet's stem pool), AVX2. Built with -mavx2 -mfma.
//
// Per output row, a step of 8 outputs reads 16 input columns of each of the (up to 3) window
// rows once: the vertical max of the rows first (2 max per 8 columns), then the horizontal 3-tap
// max in registers. With the step starting at the middle tap of its first output, the even
// columns are the middle taps and the odd ones the right taps; the left tap of output k is the
// right tap of output k - 1, so the odd vector is shifted one lane (one permute), its first lane
// carried from the previous step. 22 vector operations per 8 outputs (6 loads, 6 max, 4 shuffles,
// 2 compares + 2 ors for NaN, a blend, a store), and no border cases inside a row.
//
// NaN: _mm256_max_ps drops a NaN first operand, so the steps only record whether any input
// they read is NaN (one unordered compare per two vectors of rows that are new to the row
// pass); a plane that had one is pooled again by the scalar kernel, which propagates NaN.
// Columns outside the vector steps (the left border with pad >= 2, the right border where a
// window passes the input, rows narrower than one step) take the scalar per-pixel path.
#include <immintrin.h>

#include <limits>

#include "maxpool-3x3s2.h"

namespace convnode {

// Helpers carry the ISA in their names: if one is not inlined, scripts/check-x64-isa.mjs still
// sees its AVX2 code inside an 'avx2' symbol.
namespace {

// Lane order after _mm256_shuffle_ps of two 8-column vectors is 0 2 8 10 | 4 6 12 14; this
// puts it back to 0 2 4 6 8 10 12 14.
inline __m256 in_order_avx2(__m256 v) {
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), 0xD8));
}


// Vertical max of 8 columns from c; hands back rows r1 and r2 for the caller's NaN check, and
// checks r0 itself when asked (the top output row, whose r0 no earlier row read).
inline __m256 vertical8_avx2(const MaxpoolRows& rows, size_t c, bool check_r0, __m256* nan_lanes, __m256* r1_out,
                             __m256* r2_out) {
  const __m256 a = _mm256_loadu_ps(rows.r0 + c);
  const __m256 b = _mm256_loadu_ps(rows.r1 + c);
  const __m256 d = _mm256_loadu_ps(rows.r2 + c);
  if (check_r0) *nan_lanes = _mm256_or_ps(*nan_lanes, _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
  *r1_out = b;
  *r2_out = d;
  return _mm256_max_ps(_mm256_max_ps(a, b), d);
}

// The vector steps of one output row. Returns the running mask of NaN lanes; a NaN column
// carried in from scratch sets *nan.
__m256 row_steps_avx2(const PoolPlane& p, const MaxpoolRows& rows, const MaxpoolSteps& steps, bool check_r0,
                      float* out, __m256 nan_lanes, bool* nan) {
  // Lane k of the shuffled right taps holds output {0, 1, 4, 5, 2, 3, 6, 7}[k]'s; this gathers
  // output k - 1's into lane k, and output 7's (the next step's carry) into lane 0.
  const __m256i left_of = _mm256_setr_epi32(7, 0, 1, 4, 5, 2, 3, 6);
  __m256 carry = _mm256_setzero_ps();  // lane 0: the left tap of the step's first output
  size_t carried_for = static_cast<size_t>(-1);  // the step whose left tap `carry` holds
  for (size_t step = steps.first;; step = step + 8 < steps.last ? step + 8 : steps.last) {
    const size_t s = 2 * step + 1 - p.pad_left;  // middle tap of output `step`
    if (step != carried_for) {
      // First step, or the last one overlapping its predecessor: the left tap from scratch.
      const float left_tap = s >= 1 ? maxpool_3x3s2_column(rows, s - 1) : -std::numeric_limits<float>::infinity();
      if (left_tap != left_tap) *nan = true;
      carry = _mm256_set1_ps(left_tap);
    }
    __m256 b0, b1, d0, d1;
    const __m256 v0 = vertical8_avx2(rows, s, check_r0, &nan_lanes, &b0, &d0);
    const __m256 v1 = vertical8_avx2(rows, s + 8, check_r0, &nan_lanes, &b1, &d1);
    nan_lanes = _mm256_or_ps(nan_lanes, _mm256_cmp_ps(b0, b1, _CMP_UNORD_Q));
    nan_lanes = _mm256_or_ps(nan_lanes, _mm256_cmp_ps(d0, d1, _CMP_UNORD_Q));
    const __m256 middle = _mm256_shuffle_ps(v0, v1, 0x88);
    const __m256 right = _mm256_shuffle_ps(v0, v1, 0xDD);
    const __m256 shifted = _mm256_permutevar8x32_ps(right, left_of);
    const __m256 left_taps = _mm256_blend_ps(shifted, carry, 0x01);
    _mm256_storeu_ps(out + step, _mm256_max_ps(left_taps, in_order_avx2(_mm256_max_ps(middle, right))));
    carry = shifted;
    carried_for = step + 8;
    if (step == steps.last) break;
  }
  return nan_lanes;
}

}  // namespace

void f32_maxpool_3x3s2__avx2(const PoolPlane& p) {
  __m256 nan_lanes = _mm256_setzero_ps();
  bool nan = false;
  // Rows r1 and r2 are new to each output row; r0 was the previous row's r2, except at the top.
  maxpool_3x3s2_plane<8>(p, [&](const MaxpoolRows& rows, const MaxpoolSteps& steps, size_t oy, float* out) {
    nan_lanes = row_steps_avx2(p, rows, steps, oy == 0, out, nan_lanes, &nan);
  });
  if (nan || _mm256_movemask_ps(nan_lanes) != 0) f32_maxpool_general__scalar(p);
}

}  // namespace convnode
