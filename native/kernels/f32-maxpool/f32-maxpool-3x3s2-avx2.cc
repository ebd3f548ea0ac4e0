// 3x3 stride-2 max pooling (ResNet's stem pool), AVX2. Built with -mavx2 -mfma.
//
// Per output row, a step of 8 outputs reads 16 input columns of each of the (up to 3) window
// rows once: the vertical max of the rows first (2 max per 8 columns), then the horizontal 3-tap
// max in registers. With the step starting at the middle tap of its first output, the even
// columns are the middle taps and the odd ones the right taps; the left tap of output k is the
// right tap of output k - 1, so the odd vector is shifted one lane, its first lane carried from
// the previous step. About 25 instructions per 8 outputs, and no border cases inside a row.
//
// NaN: _mm256_max_ps drops a NaN first operand, so the steps only record whether any input
// they read is NaN (one unordered compare per two vectors of rows that are new to the row
// pass); a plane that had one is pooled again by the scalar kernel, which propagates NaN.
// Columns outside the vector steps (the left border with pad >= 2, the right border where a
// window passes the input, rows narrower than one step) take the scalar per-pixel path.
#include <immintrin.h>

#include <cmath>
#include <limits>

#include "pool.h"

namespace convnode {

namespace {

constexpr float kMinusInf = -std::numeric_limits<float>::infinity();

// The max over a window clipped to the input, NaN-propagating (the border pixels).
float window_max(const PoolPlane& p, const TapRange& ty, size_t iy0, size_t ox) {
  const TapRange tx = pool_taps(ox, 2, p.pad_left, 3, 1, p.in_w);
  const size_t ix0 = ox * 2 + tx.first - p.pad_left;
  float best = kMinusInf;
  for (size_t a = 0; a < ty.count; a++) {
    const float* row = p.input + (iy0 + a) * p.in_w + ix0;
    for (size_t b = 0; b < tx.count; b++) {
      if (row[b] > best || row[b] != row[b]) best = best != best ? best : row[b];
    }
  }
  return best;
}

// Lane order after _mm256_shuffle_ps of two 8-column vectors is 0 2 8 10 | 4 6 12 14; this
// puts it back to 0 2 4 6 8 10 12 14.
inline __m256 in_order(__m256 v) {
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), 0xD8));
}

// [carry[7], v[0..6]]: v moved up one lane, the lane shifted in taken from the previous step.
inline __m256 shift_in(__m256 carry, __m256 v) {
  const __m256i low_with_carry = _mm256_castps_si256(_mm256_permute2f128_ps(carry, v, 0x21));
  return _mm256_castsi256_ps(_mm256_alignr_epi8(_mm256_castps_si256(v), low_with_carry, 12));
}

struct WindowRows {
  const float* r0;
  const float* r1;
  const float* r2;
};

// Vertical max of column c (c < in_w). Records a NaN in *nan.
inline float column_max(const WindowRows& rows, size_t c, bool* nan) {
  const float a = rows.r0[c], b = rows.r1[c], d = rows.r2[c];
  if (a != a || b != b || d != d) *nan = true;
  const float m = a > b ? a : b;
  return m > d ? m : d;
}

// Vertical max of 8 columns from c; hands back rows r1 and r2 for the caller's NaN check, and
// checks r0 itself when asked (the top output row, whose r0 no earlier row read).
inline __m256 vertical8(const WindowRows& rows, size_t c, bool check_r0, __m256* nan_lanes, __m256* r1_out,
                        __m256* r2_out) {
  const __m256 a = _mm256_loadu_ps(rows.r0 + c);
  const __m256 b = _mm256_loadu_ps(rows.r1 + c);
  const __m256 d = _mm256_loadu_ps(rows.r2 + c);
  if (check_r0) *nan_lanes = _mm256_or_ps(*nan_lanes, _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
  *r1_out = b;
  *r2_out = d;
  return _mm256_max_ps(_mm256_max_ps(a, b), d);
}

// One output row: outputs [lo, last_step + 8) by steps of 8, the rest per pixel. Returns the
// running mask of NaN lanes.
__m256 pool_row(const PoolPlane& p, const WindowRows& rows, const TapRange& ty, size_t iy0, size_t lo,
                size_t last_step, bool vector_steps, bool check_r0, float* out, __m256 nan_lanes, bool* nan) {
  size_t ox = 0;
  for (; ox < lo && ox < p.out_w; ox++) out[ox] = window_max(p, ty, iy0, ox);
  if (vector_steps) {
    __m256 carry = _mm256_set1_ps(kMinusInf);
    size_t expected = static_cast<size_t>(-1);  // the step whose left tap `carry` holds
    for (size_t step = lo;; step = step + 8 < last_step ? step + 8 : last_step) {
      const size_t s = 2 * step + 1 - p.pad_left;  // middle tap of output `step`
      if (step != expected) {
        // First step, or the last one overlapping its predecessor: the left tap from scratch.
        carry = _mm256_set1_ps(s >= 1 ? column_max(rows, s - 1, nan) : kMinusInf);
      }
      __m256 b0, b1, d0, d1;
      const __m256 v0 = vertical8(rows, s, check_r0, &nan_lanes, &b0, &d0);
      const __m256 v1 = vertical8(rows, s + 8, check_r0, &nan_lanes, &b1, &d1);
      nan_lanes = _mm256_or_ps(nan_lanes, _mm256_cmp_ps(b0, b1, _CMP_UNORD_Q));
      nan_lanes = _mm256_or_ps(nan_lanes, _mm256_cmp_ps(d0, d1, _CMP_UNORD_Q));
      const __m256 middle = _mm256_shuffle_ps(v0, v1, 0x88);
      const __m256 right = _mm256_shuffle_ps(v0, v1, 0xDD);
      const __m256 right_in_order = in_order(right);
      const __m256 middle_right = in_order(_mm256_max_ps(middle, right));
      _mm256_storeu_ps(out + step, _mm256_max_ps(shift_in(carry, right_in_order), middle_right));
      carry = right_in_order;
      expected = step + 8;
      if (step == last_step) break;
    }
    ox = last_step + 8;
  }
  for (; ox < p.out_w; ox++) out[ox] = window_max(p, ty, iy0, ox);
  return nan_lanes;
}

}  // namespace

void f32_maxpool_3x3s2__avx2(const PoolPlane& p) {
  // First output whose middle tap column 2 * ox + 1 - pad_left is inside the row.
  const size_t lo = p.pad_left / 2;
  // A step from output ox reads columns 2 * ox + 1 - pad_left .. + 15; the last step starts
  // where that still ends inside the row and its 8 outputs exist.
  bool vector_steps = false;
  size_t last_step = 0;
  if (p.in_w + p.pad_left >= 17 && p.out_w >= 8) {
    last_step = (p.in_w + p.pad_left - 17) / 2;
    if (last_step > p.out_w - 8) last_step = p.out_w - 8;
    vector_steps = last_step >= lo;
  }
  __m256 nan_lanes = _mm256_setzero_ps();
  bool nan = false;
  for (size_t oy = 0; oy < p.out_h; oy++) {
    const TapRange ty = pool_taps(oy, 2, p.pad_top, 3, 1, p.in_h);
    const size_t iy0 = oy * 2 + ty.first - p.pad_top;
    // Clipped windows repeat their last row: the max is the same and the steps stay branch-free.
    const float* first = p.input + iy0 * p.in_w;
    const WindowRows rows = {first, first + (ty.count > 1 ? p.in_w : 0), first + (ty.count - 1) * p.in_w};
    // Rows r1 and r2 are new to each output row; r0 was the previous row's r2, except at the top.
    nan_lanes = pool_row(p, rows, ty, iy0, lo, last_step, vector_steps, oy == 0, p.output + oy * p.out_w, nan_lanes,
                         &nan);
  }
  if (nan || _mm256_movemask_ps(nan_lanes) != 0) f32_maxpool_general__scalar(p);
}

}  // namespace convnode
