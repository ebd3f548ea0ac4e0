// avx2 f32-resize: 8 lanes per step. The gathers are vgatherdps (the source row is a few KB, so
// the gathered lines stay in L1); the vertical blend is one FMA per 8 outputs; 2x duplication is
// two unpacks and two lane permutes, no gather at all.
#include <immintrin.h>

#include "resize-impl.h"

namespace convnode {

namespace {

struct Avx2ResizeOps {
  static void gather(size_t n, const float* src, const int32_t* index, float* dst) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      const __m256i at = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(index + i));
      _mm256_storeu_ps(dst + i, _mm256_i32gather_ps(src, at, 4));
    }
    ScalarResizeOps::gather(n - i, src, index + i, dst + i);
  }
  static void blend_gather(size_t n, const float* src, const int32_t* lo, const int32_t* hi, const float* weight,
                           float* dst) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      const __m256 a = _mm256_i32gather_ps(src, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lo + i)), 4);
      const __m256 b = _mm256_i32gather_ps(src, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(hi + i)), 4);
      _mm256_storeu_ps(dst + i, _mm256_fmadd_ps(_mm256_sub_ps(b, a), _mm256_loadu_ps(weight + i), a));
    }
    ScalarResizeOps::blend_gather(n - i, src, lo + i, hi + i, weight + i, dst + i);
  }
  static void blend(size_t n, const float* a, const float* b, float w, float* dst) {
    const __m256 weight = _mm256_set1_ps(w);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      const __m256 va = _mm256_loadu_ps(a + i);
      _mm256_storeu_ps(dst + i, _mm256_fmadd_ps(_mm256_sub_ps(_mm256_loadu_ps(b + i), va), weight, va));
    }
    ScalarResizeOps::blend(n - i, a + i, b + i, w, dst + i);
  }
  static void duplicate(size_t n, const float* src, float* dst) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      const __m256 v = _mm256_loadu_ps(src + i);
      const __m256 low = _mm256_unpacklo_ps(v, v);   // s0 s0 s1 s1 | s4 s4 s5 s5
      const __m256 high = _mm256_unpackhi_ps(v, v);  // s2 s2 s3 s3 | s6 s6 s7 s7
      _mm256_storeu_ps(dst + 2 * i, _mm256_permute2f128_ps(low, high, 0x20));
      _mm256_storeu_ps(dst + 2 * i + 8, _mm256_permute2f128_ps(low, high, 0x31));
    }
    ScalarResizeOps::duplicate(n - i, src + i, dst + 2 * i);
  }
};

}  // namespace

CONVNODE_DEFINE_RESIZE(avx2, Avx2ResizeOps)

}  // namespace convnode
