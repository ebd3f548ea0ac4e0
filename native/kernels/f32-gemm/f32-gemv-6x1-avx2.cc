// AVX2+FMA GEMV over the 6x16 kernel's 6-row packed A panels (Linear layers at batch <= 2).
// Built with -mavx2 -mfma (this file only).
#include <immintrin.h>

#include "gemm.h"

namespace convnode {

// GEMV over a 6-row panel. Four k steps are 24 consecutive floats, i.e. three vectors; x is
// spread to match them (lanes k0 x6 k1 x2 | k1 x4 k2 x4 | k2 x2 k3 x6), so every load is used
// whole and the six row sums are folded out of the lanes once per call. Two groups of four k per
// iteration keep six independent FMA chains in flight.
void f32_gemv_6x1__avx2(size_t /*mr == 6*/, size_t kc, const float* a, const float* x, float* acc) {
  const __m256i spread0 = _mm256_setr_epi32(0, 0, 0, 0, 0, 0, 1, 1);
  const __m256i spread1 = _mm256_setr_epi32(1, 1, 1, 1, 2, 2, 2, 2);
  const __m256i spread2 = _mm256_setr_epi32(2, 2, 3, 3, 3, 3, 3, 3);
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps();
  __m256 t0 = _mm256_setzero_ps(), t1 = _mm256_setzero_ps(), t2 = _mm256_setzero_ps();
  size_t k = 0;
  for (; k + 8 <= kc; k += 8) {
    const __m256 xa = _mm256_castps128_ps256(_mm_loadu_ps(x + k));
    const __m256 xb = _mm256_castps128_ps256(_mm_loadu_ps(x + k + 4));
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a), _mm256_permutevar8x32_ps(xa, spread0), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + 8), _mm256_permutevar8x32_ps(xa, spread1), s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + 16), _mm256_permutevar8x32_ps(xa, spread2), s2);
    t0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + 24), _mm256_permutevar8x32_ps(xb, spread0), t0);
    t1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + 32), _mm256_permutevar8x32_ps(xb, spread1), t1);
    t2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + 40), _mm256_permutevar8x32_ps(xb, spread2), t2);
    a += 48;
  }
  if (k + 4 <= kc) {
    const __m256 xa = _mm256_castps128_ps256(_mm_loadu_ps(x + k));
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a), _mm256_permutevar8x32_ps(xa, spread0), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + 8), _mm256_permutevar8x32_ps(xa, spread1), s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + 16), _mm256_permutevar8x32_ps(xa, spread2), s2);
    a += 24;
    k += 4;
  }
  // The 24 lanes hold [k%4 == 0: rows 0-5][k%4 == 1: rows 0-5] ...: fold the four groups.
  float lanes[24];
  _mm256_storeu_ps(lanes, _mm256_add_ps(s0, t0));
  _mm256_storeu_ps(lanes + 8, _mm256_add_ps(s1, t1));
  _mm256_storeu_ps(lanes + 16, _mm256_add_ps(s2, t2));
  for (size_t i = 0; i < 6; i++) acc[i] += (lanes[i] + lanes[6 + i]) + (lanes[12 + i] + lanes[18 + i]);
  for (; k < kc; k++) {
    for (size_t i = 0; i < 6; i++) acc[i] += a[i] * x[k];
    a += 6;
  }
}

}  // namespace convnode
