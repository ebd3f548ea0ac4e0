// 3x3 stride-2 max pooling (ResNet's stem pool), AVX2. 8 output pixels per step along W with the
// even/odd de-interleave of the stride-2 dwconv; borders and tails take the scalar path.
// Built with -mavx2 -mfma.
#include <immintrin.h>

#include <cmath>
#include <limits>

#include "pool.h"

namespace convnode {

namespace {

// Inputs 0 2 8 10 | 4 6 12 14 (even) or 1 3 9 11 | 5 7 13 15 (odd) of row[0..15]: one in-lane
// shuffle. Max is lane-wise, so the order is fixed once per step with in_order().
inline __m256 even_lanes(const float* row) {
  return _mm256_shuffle_ps(_mm256_loadu_ps(row), _mm256_loadu_ps(row + 8), 0x88);
}

inline __m256 odd_lanes(const float* row) {
  return _mm256_shuffle_ps(_mm256_loadu_ps(row), _mm256_loadu_ps(row + 8), 0xDD);
}

inline __m256 in_order(__m256 v) { return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), 0xD8)); }

float max_pixel_avx2(const PoolPlane& p, const TapRange& ty, size_t oy, size_t ox) {
  const TapRange tx = pool_taps(ox, 2, p.pad_left, 3, 1, p.in_w);
  const size_t iy0 = oy * 2 + ty.first - p.pad_top;
  const size_t ix0 = ox * 2 + tx.first - p.pad_left;
  float best = -std::numeric_limits<float>::infinity();
  for (size_t a = 0; a < ty.count; a++) {
    const float* row = p.input + (iy0 + a) * p.in_w + ix0;
    for (size_t b = 0; b < tx.count; b++) {
      if (row[b] > best || row[b] != row[b]) best = best != best ? best : row[b];
    }
  }
  return best;
}

}  // namespace

void f32_maxpool_3x3s2__avx2(const PoolPlane& p) {
  const size_t lo = (p.pad_left + 1) / 2;  // first column whose window starts inside the row
  const __m256 nan = _mm256_set1_ps(std::numeric_limits<float>::quiet_NaN());
  // One past the last output a vector step may cover: its step must start at or before
  // max_start, where it still reads inside the row.
  size_t last = lo;
  if (p.in_w + p.pad_left >= 18) {
    const size_t max_start = (p.in_w + p.pad_left - 18) / 2;
    last = p.out_w < max_start + 8 ? p.out_w : max_start + 8;
  }
  for (size_t oy = 0; oy < p.out_h; oy++) {
    const TapRange ty = pool_taps(oy, 2, p.pad_top, 3, 1, p.in_h);
    const size_t iy0 = oy * 2 + ty.first - p.pad_top;
    float* out = p.output + oy * p.out_w;
    size_t ox = 0;
    for (; ox < lo && ox < p.out_w; ox++) out[ox] = max_pixel_avx2(p, ty, oy, ox);
    // Steps of 8 outputs from `lo` to `last`; one step reads input columns ix .. ix + 17, and
    // the final step may overlap the previous one so no interior pixel is left to the scalar path.
    if (last >= lo + 8) {
      for (size_t step = lo;; step = step + 8 < last - 8 ? step + 8 : last - 8) {
        const size_t ix = step * 2 - p.pad_left;
        __m256 best = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
        __m256 any_nan = _mm256_setzero_ps();
        for (size_t a = 0; a < ty.count; a++) {
          const float* row = p.input + (iy0 + a) * p.in_w + ix;
          const __m256 taps[3] = {even_lanes(row), odd_lanes(row), even_lanes(row + 2)};
          for (const __m256& v : taps) {
            any_nan = _mm256_or_ps(any_nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
            best = _mm256_max_ps(best, v);
          }
        }
        _mm256_storeu_ps(out + step, in_order(_mm256_blendv_ps(best, nan, any_nan)));
        if (step + 8 == last) break;
      }
      ox = last;
    }
    for (; ox < p.out_w; ox++) out[ox] = max_pixel_avx2(p, ty, oy, ox);
  }
}

}  // namespace convnode
