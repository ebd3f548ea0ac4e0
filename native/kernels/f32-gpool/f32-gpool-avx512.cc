// Global average / max pooling, AVX-512 (built with the avx512 flags). A plane's tail is one
// k-masked load (zeros for the sum, -inf for the max), not a scalar loop.
//  - avg: 16 floats widened to two 8-lane double vectors per step, summed in double like the
//    scalar kernel (planes of 50k+ values lose digits in float); only the order of the additions
//    differs from it, so the two agree to well inside a float's rounding.
//  - max: vmaxps drops a NaN, so each step also records which lanes saw one; a plane with a NaN
//    gives NaN, as the scalar kernel (and PyTorch) do.
#include <immintrin.h>

#include <cstdint>
#include <limits>

#include "../pool-plane.h"

namespace convnode {

namespace {

inline __mmask16 gpool_tail_mask_avx512(size_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u);
}

}  // namespace

void f32_gavgpool__avx512(const float* input, size_t planes, size_t plane, float* output) {
  for (size_t c = 0; c < planes; c++) {
    const float* x = input + c * plane;
    __m512d lo = _mm512_setzero_pd(), hi = _mm512_setzero_pd();
    for (size_t i = 0; i < plane; i += 16) {
      const __m512 v = _mm512_maskz_loadu_ps(gpool_tail_mask_avx512(plane - i), x + i);
      lo = _mm512_add_pd(lo, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
      hi = _mm512_add_pd(hi, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))));
    }
    const double sum = _mm512_reduce_add_pd(_mm512_add_pd(lo, hi));
    output[c] = plane == 0 ? 0.0f : static_cast<float>(sum / static_cast<double>(plane));
  }
}

void f32_gmaxpool__avx512(const float* input, size_t planes, size_t plane, float* output) {
  const __m512 lowest = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  for (size_t c = 0; c < planes; c++) {
    const float* x = input + c * plane;
    __m512 best = lowest;
    __mmask16 nan = 0;
    for (size_t i = 0; i < plane; i += 16) {
      const __m512 v = _mm512_mask_loadu_ps(lowest, gpool_tail_mask_avx512(plane - i), x + i);
      nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
      best = _mm512_max_ps(best, v);
    }
    output[c] = nan != 0 ? std::numeric_limits<float>::quiet_NaN() : _mm512_reduce_max_ps(best);
  }
}

}  // namespace convnode
