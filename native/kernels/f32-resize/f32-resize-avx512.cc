// avx512 f32-resize: 16 lanes per step, k-masked tails (no scalar loop); 2x duplication is one
// vpermps per 16 outputs.
#include <immintrin.h>

#include "resize-impl.h"

namespace convnode {

namespace {

inline __mmask16 resize_tail_mask_avx512(size_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u);
}

struct Avx512ResizeOps {
  static void gather(size_t n, const float* src, const int32_t* index, float* dst) {
    for (size_t i = 0; i < n; i += 16) {
      const __mmask16 m = resize_tail_mask_avx512(n - i);
      const __m512i at = _mm512_maskz_loadu_epi32(m, index + i);
      _mm512_mask_storeu_ps(dst + i, m, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, at, src, 4));
    }
  }
  static void blend_gather(size_t n, const float* src, const int32_t* lo, const int32_t* hi, const float* weight,
                           float* dst) {
    for (size_t i = 0; i < n; i += 16) {
      const __mmask16 m = resize_tail_mask_avx512(n - i);
      const __m512 a = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, _mm512_maskz_loadu_epi32(m, lo + i), src, 4);
      const __m512 b = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, _mm512_maskz_loadu_epi32(m, hi + i), src, 4);
      const __m512 w = _mm512_maskz_loadu_ps(m, weight + i);
      _mm512_mask_storeu_ps(dst + i, m, _mm512_fmadd_ps(_mm512_sub_ps(b, a), w, a));
    }
  }
  static void blend(size_t n, const float* a, const float* b, float w, float* dst) {
    const __m512 weight = _mm512_set1_ps(w);
    for (size_t i = 0; i < n; i += 16) {
      const __mmask16 m = resize_tail_mask_avx512(n - i);
      const __m512 va = _mm512_maskz_loadu_ps(m, a + i);
      const __m512 vb = _mm512_maskz_loadu_ps(m, b + i);
      _mm512_mask_storeu_ps(dst + i, m, _mm512_fmadd_ps(_mm512_sub_ps(vb, va), weight, va));
    }
  }
  static void duplicate(size_t n, const float* src, float* dst) {
    const __m512i first = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    const __m512i second = _mm512_setr_epi32(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
    for (size_t i = 0; i < n; i += 16) {
      const size_t left = n - i;
      const __m512 v = _mm512_maskz_loadu_ps(resize_tail_mask_avx512(left), src + i);
      // 2 * left outputs: the first 16 (or fewer) from lanes 0-7, the rest from lanes 8-15.
      _mm512_mask_storeu_ps(dst + 2 * i, resize_tail_mask_avx512(2 * left), _mm512_permutexvar_ps(first, v));
      if (left > 8) {
        _mm512_mask_storeu_ps(dst + 2 * i + 16, resize_tail_mask_avx512(2 * left - 16), _mm512_permutexvar_ps(second, v));
      }
    }
  }
};

}  // namespace

CONVNODE_DEFINE_RESIZE(avx512, Avx512ResizeOps)

}  // namespace convnode
