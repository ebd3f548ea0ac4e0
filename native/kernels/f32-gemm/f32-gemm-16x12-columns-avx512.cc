// AVX-512 edge kernel for the last, partial pixel tile of a row panel: up to 12 columns of the
// 16x16 kernel's panels, computed column by column. The 16x16 kernel holds one zmm per output
// row and broadcasts A; here the A panel's k step (16 rows, exactly one zmm) is the vector and
// each B column's value is broadcast, so a tile of nr columns costs nr FMAs per k instead of 16
// (or 8 on the ymm narrow kernel). The maps of CNNs leave such remainders everywhere: 7x7 = 49
// pixels is 3 x 16 + 1, 14x14 leaves 4, 13x13 (AlexNet) and 35x35 (Inception) leave 9, 17x17
// leaves 1. On 3x3 512->512 @7 the narrow kernel's one-column tile was 11% of the layer's time.
//
// Each column's result is a vector down the 16 rows, so the epilogue reads and writes C, and the
// residual, as a column (gather / scatter, 16 rows ldc apart); bias is the panel's 16 values in
// one load. A gather and a scatter per column are a few percent of a column's kc FMAs; past 12
// columns the full 16-wide tile (16 FMAs per k, row stores) is as cheap.
// Built with the AVX-512 F/BW/DQ/VL flags (this file only); every name here has 'avx512'.
#include <immintrin.h>

#include <array>
#include <cstdint>
#include <utility>

#include "../../simd/avx512-epilogue.h"
#include "gemm.h"

namespace convnode {

namespace {

constexpr size_t kMR = 16;

// COLS columns over kc steps. A zmm FMA's latency is 4 cycles on Zen 4 and one issues per cycle,
// so fewer than 4 columns keep SETS accumulator sets over alternating k (4 chains at least).
template <size_t COLS>
void avx512_columns(size_t mr, size_t kc, const float* a, const float* b, size_t ldb, float* c, size_t ldc,
                    bool accumulate, const Epilogue* ep) {
  constexpr size_t SETS = COLS >= 4 ? 1 : (COLS >= 2 ? 2 : 4);
  __m512 acc[SETS][COLS];
#pragma GCC unroll 4
  for (size_t s = 0; s < SETS; s++) {
#pragma GCC unroll 16
    for (size_t j = 0; j < COLS; j++) acc[s][j] = _mm512_setzero_ps();
  }
  size_t k = 0;
  for (; k + SETS <= kc; k += SETS) {
#pragma GCC unroll 4
    for (size_t s = 0; s < SETS; s++) {
      const __m512 av = _mm512_loadu_ps(a);
#pragma GCC unroll 16
      for (size_t j = 0; j < COLS; j++) acc[s][j] = _mm512_fmadd_ps(av, _mm512_set1_ps(b[j]), acc[s][j]);
      a += kMR;
      b += ldb;
    }
  }
  for (; k < kc; k++) {
    const __m512 av = _mm512_loadu_ps(a);
#pragma GCC unroll 16
    for (size_t j = 0; j < COLS; j++) acc[0][j] = _mm512_fmadd_ps(av, _mm512_set1_ps(b[j]), acc[0][j]);
    a += kMR;
    b += ldb;
  }
#pragma GCC unroll 4
  for (size_t s = 1; s < SETS; s++) {
#pragma GCC unroll 16
    for (size_t j = 0; j < COLS; j++) acc[0][j] = _mm512_add_ps(acc[0][j], acc[s][j]);
  }
  // Row i of a column sits ldc floats after row i - 1 (residual: residual_stride). Offsets fit
  // 32 bits: the driver's rows are one image's output channels, 15 rows of a plane below 2^31.
  const __mmask16 rows = avx512_lanes_mask(mr);
  const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  const __m512i c_rows = _mm512_mullo_epi32(lane, _mm512_set1_epi32(static_cast<int32_t>(ldc)));
  __m512 bias = _mm512_setzero_ps();
  __m512i residual_rows = _mm512_setzero_si512();
  if (ep != nullptr) {
    if (ep->bias != nullptr) bias = _mm512_maskz_loadu_ps(rows, ep->bias);
    if (ep->residual != nullptr) {
      residual_rows = _mm512_mullo_epi32(lane, _mm512_set1_epi32(static_cast<int32_t>(ep->residual_stride)));
    }
  }
#pragma GCC unroll 16
  for (size_t j = 0; j < COLS; j++) {
    __m512 v = acc[0][j];
    if (accumulate) v = _mm512_add_ps(v, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), rows, c_rows, c + j, 4));
    if (ep != nullptr) {
      v = _mm512_add_ps(v, bias);
      if (ep->residual != nullptr) {
        v = _mm512_add_ps(v, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), rows, residual_rows, ep->residual + j, 4));
      }
      v = avx512_activate(v, ep->activation);
    }
    _mm512_mask_i32scatter_ps(c + j, rows, c_rows, v, 4);
  }
}

using ColumnsFn = void (*)(size_t, size_t, const float*, const float*, size_t, float*, size_t, bool, const Epilogue*);

template <size_t... I>
constexpr std::array<ColumnsFn, sizeof...(I)> avx512_columns_by_count(std::index_sequence<I...>) {
  return {&avx512_columns<I + 1>...};
}
// table[nr - 1], nr = 1..12.
constexpr auto kColumns = avx512_columns_by_count(std::make_index_sequence<12>());

}  // namespace

void f32_gemm_16x12_columns__avx512(size_t mr, size_t nr, size_t kc, const float* a, const float* b, size_t ldb,
                                    float* c, size_t ldc, bool accumulate, const Epilogue* epilogue) {
  kColumns[nr - 1](mr, kc, a, b, ldb, c, ldc, accumulate, epilogue);
}

}  // namespace convnode
