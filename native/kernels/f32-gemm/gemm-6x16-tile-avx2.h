// The AVX2+FMA 6x16 tile, shared by the one-tile kernel (f32-gemm-6x16-avx2.cc) and the sweep
// (f32-gemm-6x16-sweep-avx2.cc), which inline it; finish() is also the 6x8 edge tile's row
// epilogue. Included by AVX2-compiled files only; everything here is internal to each of them.
#pragma once
#include <immintrin.h>

#include "../../simd/avx2-epilogue.h"
#include "gemm-tile-store.h"
#include "gemm.h"

namespace convnode {
namespace {

inline __m256 finish(__m256 v, const float* c, bool accumulate, const Epilogue* ep, size_t row, const float* residual) {
  if (accumulate) v = _mm256_add_ps(v, _mm256_loadu_ps(c));
  if (ep != nullptr) {
    if (ep->bias != nullptr) v = _mm256_add_ps(v, _mm256_set1_ps(ep->bias[row]));
    if (residual != nullptr) v = _mm256_add_ps(v, _mm256_loadu_ps(residual));
    v = avx2_activate(v, ep->activation);
  }
  return v;
}

// The 6x16 tile, inlined into both the one-tile kernel and the sweep below.
__attribute__((always_inline)) inline void tile_6x16(size_t mr, size_t nr, size_t kc, const float* a, const float* b,
                                                     size_t ldb, float* c, size_t ldc, bool accumulate,
                                                     const Epilogue* epilogue) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (size_t k = 0; k < kc; k++) {
    const __m256 b0 = _mm256_loadu_ps(b);
    const __m256 b1 = _mm256_loadu_ps(b + 8);
    b += ldb;
    __m256 va = _mm256_broadcast_ss(a + 0);
    c00 = _mm256_fmadd_ps(va, b0, c00);
    c01 = _mm256_fmadd_ps(va, b1, c01);
    va = _mm256_broadcast_ss(a + 1);
    c10 = _mm256_fmadd_ps(va, b0, c10);
    c11 = _mm256_fmadd_ps(va, b1, c11);
    va = _mm256_broadcast_ss(a + 2);
    c20 = _mm256_fmadd_ps(va, b0, c20);
    c21 = _mm256_fmadd_ps(va, b1, c21);
    va = _mm256_broadcast_ss(a + 3);
    c30 = _mm256_fmadd_ps(va, b0, c30);
    c31 = _mm256_fmadd_ps(va, b1, c31);
    va = _mm256_broadcast_ss(a + 4);
    c40 = _mm256_fmadd_ps(va, b0, c40);
    c41 = _mm256_fmadd_ps(va, b1, c41);
    va = _mm256_broadcast_ss(a + 5);
    c50 = _mm256_fmadd_ps(va, b0, c50);
    c51 = _mm256_fmadd_ps(va, b1, c51);
    a += 6;
  }
  // Full-width tiles store with vectors whatever their row count: layers whose M is not a
  // multiple of 6 (16, 64 output channels) end every column sweep with a 4-row tile, and the
  // scalar store of those was ~1/5 of 1x1 32->16 @112's time (0.27 -> 0.21 ms). The rows go by
  // name through a switch: a loop over an accumulator array made GCC keep the array on the stack.
  if (nr == 16 && (epilogue == nullptr || avx2_activation_vectorizable(epilogue->activation))) {
    auto store_row = [&](size_t i, __m256 lo, __m256 hi) {
      float* row = c + i * ldc;
      const float* res = epilogue != nullptr && epilogue->residual != nullptr
                             ? epilogue->residual + i * epilogue->residual_stride
                             : nullptr;
      _mm256_storeu_ps(row, finish(lo, row, accumulate, epilogue, i, res));
      _mm256_storeu_ps(row + 8, finish(hi, row + 8, accumulate, epilogue, i, res ? res + 8 : nullptr));
    };
    switch (mr) {
      case 6: store_row(5, c50, c51); [[fallthrough]];
      case 5: store_row(4, c40, c41); [[fallthrough]];
      case 4: store_row(3, c30, c31); [[fallthrough]];
      case 3: store_row(2, c20, c21); [[fallthrough]];
      case 2: store_row(1, c10, c11); [[fallthrough]];
      default: store_row(0, c00, c01);
    }
    return;
  }
  const __m256 acc[6][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  float tile[6][16];
  for (size_t i = 0; i < 6; i++) {
    _mm256_storeu_ps(tile[i], acc[i][0]);
    _mm256_storeu_ps(tile[i] + 8, acc[i][1]);
  }
  store_tile_scalar<6, 16>(tile, mr, nr, c, ldc, accumulate, epilogue);
}

}  // namespace

}  // namespace convnode
