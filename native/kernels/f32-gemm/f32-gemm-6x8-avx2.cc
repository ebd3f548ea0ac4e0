// AVX2+FMA 6x8 edge micro-kernel over the 6x16 kernel's panels. Built with -mavx2 -mfma (this
// file only).
#include "gemm-6x16-tile-avx2.h"

namespace convnode {

// The 6x8 edge kernel: the last tile of a row of pixels when at most 8 columns are left (a 7x7
// map has 49 = 3 x 16 + 1), reading the first half of the same 16-wide B panel (ldb = 16). Even
// and odd k go to separate accumulators: six FMA chains alone would wait on FMA latency.
void f32_gemm_6x8__avx2(size_t mr, size_t nr, size_t kc, const float* a, const float* b, size_t ldb, float* c,
                        size_t ldc, bool accumulate, const Epilogue* epilogue) {
  // Named accumulators, not arrays: GCC kept an array of them on the stack (a store per FMA).
  __m256 e0 = _mm256_setzero_ps(), e1 = _mm256_setzero_ps(), e2 = _mm256_setzero_ps();
  __m256 e3 = _mm256_setzero_ps(), e4 = _mm256_setzero_ps(), e5 = _mm256_setzero_ps();
  __m256 o0 = _mm256_setzero_ps(), o1 = _mm256_setzero_ps(), o2 = _mm256_setzero_ps();
  __m256 o3 = _mm256_setzero_ps(), o4 = _mm256_setzero_ps(), o5 = _mm256_setzero_ps();
  size_t k = 0;
  for (; k + 2 <= kc; k += 2) {
    const __m256 b0 = _mm256_loadu_ps(b);
    const __m256 b1 = _mm256_loadu_ps(b + ldb);
    b += 2 * ldb;
    e0 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 0), b0, e0);
    e1 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 1), b0, e1);
    e2 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 2), b0, e2);
    e3 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 3), b0, e3);
    e4 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 4), b0, e4);
    e5 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 5), b0, e5);
    o0 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 6), b1, o0);
    o1 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 7), b1, o1);
    o2 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 8), b1, o2);
    o3 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 9), b1, o3);
    o4 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 10), b1, o4);
    o5 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 11), b1, o5);
    a += 12;
  }
  if (k < kc) {
    const __m256 b0 = _mm256_loadu_ps(b);
    e0 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 0), b0, e0);
    e1 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 1), b0, e1);
    e2 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 2), b0, e2);
    e3 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 3), b0, e3);
    e4 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 4), b0, e4);
    e5 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 5), b0, e5);
  }
  const __m256 acc[6] = {_mm256_add_ps(e0, o0), _mm256_add_ps(e1, o1), _mm256_add_ps(e2, o2),
                         _mm256_add_ps(e3, o3), _mm256_add_ps(e4, o4), _mm256_add_ps(e5, o5)};
  if (mr == 6 && nr == 8 && (epilogue == nullptr || avx2_activation_vectorizable(epilogue->activation))) {
    for (size_t i = 0; i < 6; i++) {
      float* row = c + i * ldc;
      const float* res = epilogue != nullptr && epilogue->residual != nullptr
                             ? epilogue->residual + i * epilogue->residual_stride
                             : nullptr;
      _mm256_storeu_ps(row, finish(acc[i], row, accumulate, epilogue, i, res));
    }
    return;
  }
  float tile[6][8];
  for (size_t i = 0; i < 6; i++) _mm256_storeu_ps(tile[i], acc[i]);
  store_tile_scalar<6, 8>(tile, mr, nr, c, ldc, accumulate, epilogue);
}

}  // namespace convnode
