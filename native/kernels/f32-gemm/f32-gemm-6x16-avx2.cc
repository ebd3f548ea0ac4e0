// AVX2+FMA 6x16 micro-kernel: 12 ymm accumulators, 2 B loads and 6 broadcasts per k step, which
// keeps both FMA ports busy on Zen 3 / Haswell-class cores. Built with -mavx2 -mfma (this file only).
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

void f32_gemm_6x16__avx2(size_t mr, size_t nr, size_t kc, const float* a, const float* b, size_t ldb, float* c,
                         size_t ldc, bool accumulate, const Epilogue* epilogue) {
  tile_6x16(mr, nr, kc, a, b, ldb, c, ldc, accumulate, epilogue);
}

// One A panel against nc columns of 16-wide B panels (kc x 16 each, consecutive). With K = 16
// a tile is ~100 cycles of FMAs, and a driver call per tile (its epilogue set-up, prefetch
// slicing, the call) added about half that again.
void f32_gemm_6x16_sweep__avx2(size_t mr, size_t nc, size_t kc, const float* a, const float* b, float* c, size_t ldc,
                               bool accumulate, const Epilogue* epilogue) {
  Epilogue moved;  // the epilogue with its residual pointer at the tile's first column
  if (epilogue != nullptr) moved = *epilogue;
  const Epilogue* ep = epilogue != nullptr ? &moved : nullptr;
  for (size_t j = 0; j < nc; j += 16, b += kc * 16) {
    if (epilogue != nullptr && epilogue->residual != nullptr) moved.residual = epilogue->residual + j;
    const size_t nr = nc - j < 16 ? nc - j : 16;
    if (nr <= 8) {
      f32_gemm_6x8__avx2(mr, nr, kc, a, b, 16, c + j, ldc, accumulate, ep);
    } else {
      tile_6x16(mr, nr, kc, a, b, 16, c + j, ldc, accumulate, ep);
    }
  }
}

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
