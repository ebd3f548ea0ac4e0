// AVX-512 16x16 micro-kernel: 16 zmm accumulators (one per output row), one B load and 16
// broadcast FMAs per k step (the broadcast folds into the FMA as a {1to16} memory operand).
// Built with the AVX-512 F/BW/DQ/VL flags (this file only). Every function and type here has
// 'avx512' in its name, so any out-of-line copy (a template instance) is one the ISA check allows.
//
// Why 16x16 zmm on Zen 4 (which runs a 512-bit FMA as two 256-bit halves, so the AVX-512 FMA
// peak equals AVX2's): measured in one process on AMD EPYC (Zen 4), 1 thread, a 168 x 224 block
// with B micro-panels in L1 and A panels from L2, GFLOP/s at K blocks of 128 / 256:
//   ymm 6x16 (the avx2 tile) 109-110 / 113-114, ymm 14x16 with 32 registers 112 / 114,
//   zmm 14x32 114 / 110-116, zmm 12x32 114 / 115, zmm 8x16 118 / 115-118, zmm 16x16 117 / 116-118,
//   zmm 24x16 117 / 117, zmm 28x16 116-117 / 117 (the FMA probe's peak: ~117).
// Every zmm x16 tile from 8 rows up reaches the probe's peak; 16 rows match the channel counts
// of CNNs (16, 32, 64, ... 960 are multiples of 16, where 24- or 28-row panels leave a partial
// one), keep the pixel tile 16 wide like avx2 (a 7x7 map's 49 pixels are 3 x 16 + 1, not a
// half-empty 32-wide tile), and make the A panel exactly one zmm per k, which the GEMV reads
// whole. Partial row panels run a kernel compiled for their row count, not padded rows.
#include <immintrin.h>

#include <array>
#include <cstdint>
#include <utility>

#include "../../simd/avx512-epilogue.h"
#include "gemm-tile-store.h"
#include "gemm.h"

namespace convnode {

namespace {

constexpr size_t kMR = 16;
constexpr size_t kNR = 16;

// 16 lanes (zmm) for full tiles, 8 (ymm, EVEX-encoded, half the FMA cost on Zen 4) for the
// narrow kernel of edge tiles with at most 8 columns.
struct Avx512Zmm {
  using V = __m512;
  static constexpr size_t kLanes = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V fma(const float* a, V b, V c) { return _mm512_fmadd_ps(_mm512_set1_ps(*a), b, c); }
  static V add(V x, V y) { return _mm512_add_ps(x, y); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static bool vectorizable(const Activation& act) { return avx512_activation_vectorizable(act); }
  static void finish_store(V v, float* c, size_t nr, bool accumulate, const Epilogue* ep, float bias,
                           const float* residual) {
    avx512_finish_store(v, c, avx512_lanes_mask(nr), accumulate, ep, bias, residual);
  }
};

struct Avx512Ymm {
  using V = __m256;
  static constexpr size_t kLanes = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V fma(const float* a, V b, V c) { return _mm256_fmadd_ps(_mm256_set1_ps(*a), b, c); }
  static V add(V x, V y) { return _mm256_add_ps(x, y); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static bool vectorizable(const Activation& act) { return avx512_ymm_activation_vectorizable(act); }
  static void finish_store(V v, float* c, size_t nr, bool accumulate, const Epilogue* ep, float bias,
                           const float* residual) {
    const __mmask8 lanes = static_cast<__mmask8>(avx512_lanes_mask(nr));
    if (accumulate) v = _mm256_add_ps(v, _mm256_maskz_loadu_ps(lanes, c));
    if (ep != nullptr) {
      if (ep->bias != nullptr) v = _mm256_add_ps(v, _mm256_set1_ps(bias));
      if (residual != nullptr) v = _mm256_add_ps(v, _mm256_maskz_loadu_ps(lanes, residual));
      v = avx512_activate_ymm(v, ep->activation);
    }
    _mm256_mask_storeu_ps(c, lanes, v);
  }
};

// How a tile is finished, resolved once per kernel call rather than per stored row. The general
// form (Avx512AnyFinish) reads the epilogue's fields and switches on its activation for every
// row: on 1x1 64->256 @56 that per-row work (field reloads, the kind's jump table, the
// transcendental call's spills) was ~15% of the kernel's samples. The full 16-row zmm tile, the
// hot one, is compiled once per Avx512FixedFinish form instead: whether C is accumulated into (a
// later K block), whether the epilogue runs, with a bias, with a residual, and its activation
// kind (None, Relu, Relu6 fixed; kAnyKind: any other, read at run time).
constexpr int kAnyKind = -1;

struct Avx512AnyFinish {
  static constexpr bool kFixed = false;  // the flags below are unused: the epilogue is read per row
  static constexpr bool kResidual = false;
};

template <bool ACCUMULATE, bool EPILOGUE, bool BIAS, bool RESIDUAL, int KIND>
struct Avx512FixedFinish {
  static constexpr bool kFixed = true;
  static constexpr bool kAccumulate = ACCUMULATE;
  static constexpr bool kEpilogue = EPILOGUE;
  static constexpr bool kBias = BIAS;
  static constexpr bool kResidual = RESIDUAL;
  static constexpr int kKind = KIND;
};

// The fixed form's arithmetic on one zmm row: what avx512_finish_store does, with every test
// decided at compile time. lanes: the row's stored columns (all 16 when FULL).
template <class F, bool FULL>
__attribute__((always_inline)) inline void avx512_fixed_finish_row(__m512 v, float* c, __mmask16 lanes, float bias,
                                                                   const float* residual, const Activation& act) {
  if constexpr (F::kAccumulate) v = _mm512_add_ps(v, FULL ? _mm512_loadu_ps(c) : _mm512_maskz_loadu_ps(lanes, c));
  if constexpr (F::kEpilogue) {
    if constexpr (F::kBias) v = _mm512_add_ps(v, _mm512_set1_ps(bias));
    if constexpr (F::kResidual) {
      v = _mm512_add_ps(v, FULL ? _mm512_loadu_ps(residual) : _mm512_maskz_loadu_ps(lanes, residual));
    }
    if constexpr (F::kKind == kAnyKind) {
      v = avx512_activate(v, act);
    } else {
      v = avx512_activate_kind<static_cast<ActivationKind>(F::kKind)>(v, act);
    }
  }
  if constexpr (FULL) {
    _mm512_storeu_ps(c, v);
  } else {
    _mm512_mask_storeu_ps(c, lanes, v);
  }
}

// Where a tile's B rows are. Strided: row k at b + k * ldb (a packed panel: ldb = 16). Indirect:
// row k at b + offsets[k], for B rows read in place from a layout no single stride describes
// (f32_igemm_16x16__avx512).
struct Avx512StridedRows {
  const float* b;
  size_t ldb;
  const float* next() {
    const float* row = b;
    b += ldb;
    return row;
  }
};

struct Avx512IndirectRows {
  const float* b;
  const int32_t* offsets;
  const float* next() { return b + *offsets++; }
};

// ROWS x kLanes tile over an A panel of kMR interleaved rows (rows past ROWS are padding, never
// read). Fewer than 8 rows are fewer FMA chains than FMA latency x throughput (4 x 2 on Zen 4),
// so short panels keep SETS accumulator sets over alternating k and add them at the end.
template <typename Vec, size_t ROWS, class Finish, class BRows = Avx512StridedRows>
__attribute__((always_inline)) inline void avx512_tile(size_t nr, size_t kc, const float* a, BRows b, float* c,
                                                size_t ldc, bool accumulate, const Epilogue* ep) {
  using V = typename Vec::V;
  constexpr size_t SETS = ROWS >= 8 ? 1 : (ROWS >= 4 ? 2 : 4);
  V acc[SETS][ROWS];
#pragma GCC unroll 16
  for (size_t s = 0; s < SETS; s++) {
#pragma GCC unroll 16
    for (size_t i = 0; i < ROWS; i++) acc[s][i] = Vec::zero();
  }
  // The tile's C rows (and residual rows) are requested now, so that their misses overlap the
  // FMA loop: a stored row whose line is not in cache holds a store-queue entry until the line
  // arrives, and 16 of them (rows a channel plane apart, the output of a 56x56 layer is
  // megabytes) stalled the kernel after every tile.
  const bool residual_rows = Finish::kFixed ? Finish::kResidual : ep != nullptr && ep->residual != nullptr;
#pragma GCC unroll 16
  for (size_t i = 0; i < ROWS; i++) {
    __builtin_prefetch(c + i * ldc, 1, 3);
    if (residual_rows) __builtin_prefetch(ep->residual + i * ep->residual_stride, 0, 3);
  }
  size_t k = 0;
  for (; k + SETS <= kc; k += SETS) {
#pragma GCC unroll 4
    for (size_t s = 0; s < SETS; s++) {
      const V bv = Vec::load(b.next());
#pragma GCC unroll 16
      for (size_t i = 0; i < ROWS; i++) acc[s][i] = Vec::fma(a + i, bv, acc[s][i]);
      a += kMR;
    }
  }
  for (; k < kc; k++) {
    const V bv = Vec::load(b.next());
#pragma GCC unroll 16
    for (size_t i = 0; i < ROWS; i++) acc[0][i] = Vec::fma(a + i, bv, acc[0][i]);
    a += kMR;
  }
#pragma GCC unroll 4
  for (size_t s = 1; s < SETS; s++) {
#pragma GCC unroll 16
    for (size_t i = 0; i < ROWS; i++) acc[0][i] = Vec::add(acc[0][i], acc[s][i]);
  }
  if constexpr (Finish::kFixed) {
    // The epilogue's fields, read once for the tile.
    const float* bias = Finish::kBias ? ep->bias : nullptr;
    const float* residual = Finish::kResidual ? ep->residual : nullptr;
    const size_t residual_stride = Finish::kResidual ? ep->residual_stride : 0;
    const Activation act = Finish::kEpilogue ? ep->activation : Activation();
    if (nr == kNR) {
#pragma GCC unroll 16
      for (size_t i = 0; i < ROWS; i++) {
        avx512_fixed_finish_row<Finish, true>(acc[0][i], c + i * ldc, 0xFFFF, Finish::kBias ? bias[i] : 0.0f,
                                              residual + i * residual_stride, act);
      }
    } else {
      const __mmask16 lanes = avx512_lanes_mask(nr);
#pragma GCC unroll 16
      for (size_t i = 0; i < ROWS; i++) {
        avx512_fixed_finish_row<Finish, false>(acc[0][i], c + i * ldc, lanes, Finish::kBias ? bias[i] : 0.0f,
                                               residual + i * residual_stride, act);
      }
    }
    return;
  } else {
    if (ep == nullptr || Vec::vectorizable(ep->activation)) {
      // Masked loads and stores: a tile's last columns (nr < lanes) need no scalar path.
#pragma GCC unroll 16
      for (size_t i = 0; i < ROWS; i++) {
        const float* residual =
            ep != nullptr && ep->residual != nullptr ? ep->residual + i * ep->residual_stride : nullptr;
        const float bias = ep != nullptr && ep->bias != nullptr ? ep->bias[i] : 0.0f;
        Vec::finish_store(acc[0][i], c + i * ldc, nr, accumulate, ep, bias, residual);
      }
      return;
    }
    // Kinds without a vector form on this width (the transcendental ones on ymm) take the scalar
    // epilogue over the tile.
    float spill[kMR][kNR];
#pragma GCC unroll 16
    for (size_t i = 0; i < ROWS; i++) Vec::store(spill[i], acc[0][i]);
    store_tile_scalar<kMR, kNR>(spill, ROWS, nr, c, ldc, accumulate, ep);
  }
}

template <typename Vec, size_t ROWS, class Finish>
void avx512_tile_fn(size_t nr, size_t kc, const float* a, const float* b, size_t ldb, float* c, size_t ldc,
                    bool accumulate, const Epilogue* ep) {
  avx512_tile<Vec, ROWS, Finish>(nr, kc, a, Avx512StridedRows{b, ldb}, c, ldc, accumulate, ep);
}

// The indirect tile: B row k at b + offsets[k]; one K block, so C is never accumulated into.
template <size_t ROWS, class Finish>
void avx512_indirect_tile_fn(size_t nr, size_t kc, const float* a, const float* b, const int32_t* offsets, float* c,
                             size_t ldc, const Epilogue* ep) {
  avx512_tile<Avx512Zmm, ROWS, Finish>(nr, kc, a, Avx512IndirectRows{b, offsets}, c, ldc, false, ep);
}

using TileFn = void (*)(size_t, size_t, const float*, const float*, size_t, float*, size_t, bool, const Epilogue*);

// One compiled tile per row count 1..16, general finish: table[mr - 1].
template <typename Vec, size_t... I>
constexpr std::array<TileFn, sizeof...(I)> tiles_by_rows(std::index_sequence<I...>) {
  return {&avx512_tile_fn<Vec, I + 1, Avx512AnyFinish>...};
}
constexpr auto kWideTiles = tiles_by_rows<Avx512Zmm>(std::make_index_sequence<kMR>());
constexpr auto kNarrowTiles = tiles_by_rows<Avx512Ymm>(std::make_index_sequence<kMR>());

// The full tile's forms. Index: accumulate * 17 + form, form 0 = no epilogue (an earlier K
// block), else 1 + (bias * 2 + residual) * 4 + kind slot (None, Relu, Relu6, any other).
constexpr int kFixedKinds[4] = {static_cast<int>(ActivationKind::None), static_cast<int>(ActivationKind::Relu),
                                static_cast<int>(ActivationKind::Relu6), kAnyKind};
constexpr size_t kFinishForms = 17;

template <size_t INDEX>
constexpr TileFn avx512_full_tile_form() {
  constexpr bool accumulate = INDEX / kFinishForms == 1;
  constexpr size_t form = INDEX % kFinishForms;
  if constexpr (form == 0) {
    return &avx512_tile_fn<Avx512Zmm, kMR, Avx512FixedFinish<accumulate, false, false, false, kAnyKind>>;
  } else {
    constexpr size_t flags = (form - 1) / 4;
    return &avx512_tile_fn<Avx512Zmm, kMR,
                           Avx512FixedFinish<accumulate, true, (flags & 2) != 0, (flags & 1) != 0,
                                             kFixedKinds[(form - 1) % 4]>>;
  }
}

template <size_t... I>
constexpr std::array<TileFn, sizeof...(I)> avx512_full_tile_forms(std::index_sequence<I...>) {
  return {avx512_full_tile_form<I>()...};
}
constexpr auto kFullTiles = avx512_full_tile_forms(std::make_index_sequence<2 * kFinishForms>());

using IndirectTileFn = void (*)(size_t, size_t, const float*, const float*, const int32_t*, float*, size_t,
                               const Epilogue*);

template <size_t... I>
constexpr std::array<IndirectTileFn, sizeof...(I)> avx512_indirect_tiles_by_rows(std::index_sequence<I...>) {
  return {&avx512_indirect_tile_fn<I + 1, Avx512AnyFinish>...};
}
constexpr auto kIndirectPartialTiles = avx512_indirect_tiles_by_rows(std::make_index_sequence<kMR>());

// The full indirect tile's forms, indexed as kFullTiles' first kFinishForms (never accumulating).
template <size_t FORM>
constexpr IndirectTileFn avx512_indirect_full_tile_form() {
  if constexpr (FORM == 0) {
    return &avx512_indirect_tile_fn<kMR, Avx512FixedFinish<false, false, false, false, kAnyKind>>;
  } else {
    constexpr size_t flags = (FORM - 1) / 4;
    return &avx512_indirect_tile_fn<kMR, Avx512FixedFinish<false, true, (flags & 2) != 0, (flags & 1) != 0,
                                                            kFixedKinds[(FORM - 1) % 4]>>;
  }
}

template <size_t... I>
constexpr std::array<IndirectTileFn, sizeof...(I)> avx512_indirect_full_tile_forms(std::index_sequence<I...>) {
  return {avx512_indirect_full_tile_form<I>()...};
}
constexpr auto kIndirectFullTiles = avx512_indirect_full_tile_forms(std::make_index_sequence<kFinishForms>());

// The full tile compiled for this call's finish.
// Which of the kFinishForms finishes an epilogue takes (0: none).
inline size_t avx512_finish_form(const Epilogue* ep) {
  if (ep == nullptr) return 0;
  const ActivationKind kind = ep->activation.kind;
  const size_t slot = kind == ActivationKind::None ? 0 : kind == ActivationKind::Relu ? 1 : kind == ActivationKind::Relu6 ? 2 : 3;
  return 1 + ((ep->bias != nullptr ? 2 : 0) + (ep->residual != nullptr ? 1 : 0)) * 4 + slot;
}

inline TileFn avx512_full_tile_for(bool accumulate, const Epilogue* ep) {
  return kFullTiles[(accumulate ? kFinishForms : 0) + avx512_finish_form(ep)];
}

}  // namespace

void f32_gemm_16x16__avx512(size_t mr, size_t nr, size_t kc, const float* a, const float* b, size_t ldb, float* c,
                            size_t ldc, bool accumulate, const Epilogue* epilogue) {
  (mr == kMR ? avx512_full_tile_for(accumulate, epilogue) : kWideTiles[mr - 1])(nr, kc, a, b, ldb, c, ldc, accumulate,
                                                                                 epilogue);
}

void f32_igemm_16x16__avx512(size_t mr, size_t nr, size_t kc, const float* a, const float* b, const int32_t* offsets,
                             float* c, size_t ldc, const Epilogue* epilogue) {
  (mr == kMR ? kIndirectFullTiles[avx512_finish_form(epilogue)] : kIndirectPartialTiles[mr - 1])(nr, kc, a, b, offsets, c,
                                                                                                ldc, epilogue);
}

// Edge tiles of at most 8 columns on the same 16-wide panels: 8-lane vectors cost half a zmm
// FMA on Zen 4 (a 7x7 map's 49th pixel, 14x14's last 4).
void f32_gemm_16x8__avx512(size_t mr, size_t nr, size_t kc, const float* a, const float* b, size_t ldb, float* c,
                           size_t ldc, bool accumulate, const Epilogue* epilogue) {
  kNarrowTiles[mr - 1](nr, kc, a, b, ldb, c, ldc, accumulate, epilogue);
}

// One A panel against nc columns of 16-wide B panels (kc x 16 each, consecutive): the 1x1 path
// with few input channels, where a driver call per tile costs about half a tile's FMAs.
void f32_gemm_16x16_sweep__avx512(size_t mr, size_t nc, size_t kc, const float* a, const float* b, float* c,
                                  size_t ldc, bool accumulate, const Epilogue* epilogue) {
  Epilogue moved;  // the epilogue with its residual pointer at the tile's first column
  if (epilogue != nullptr) moved = *epilogue;
  const Epilogue* ep = epilogue != nullptr ? &moved : nullptr;
  const TileFn wide = mr == kMR ? avx512_full_tile_for(accumulate, epilogue) : kWideTiles[mr - 1];
  const TileFn narrow = kNarrowTiles[mr - 1];
  for (size_t j = 0; j < nc; j += kNR, b += kc * kNR) {
    if (epilogue != nullptr && epilogue->residual != nullptr) moved.residual = epilogue->residual + j;
    const size_t nr = nc - j < kNR ? nc - j : kNR;
    (nr > kNR / 2 ? wide : narrow)(nr, kc, a, b, kNR, c + j, ldc, accumulate, ep);
  }
}

// 16 rows of A (m of them real, the rest zero) x columns [k0, k0 + kc), 16 k at a time: 16 row
// loads (masked at the block's end), a 16x16 transpose in four shuffle stages, 16 stores of one
// k step's 16 rows each.
void f32_gemm_pack_a_16__avx512(size_t mr_tile, size_t m, size_t k0, size_t kc, const float* src, size_t lda,
                                float* dst) {
  if (mr_tile != kMR) {
    f32_gemm_pack_a(mr_tile, m, k0, kc, src, lda, dst);
    return;
  }
  for (size_t m0 = 0; m0 < m; m0 += kMR, dst += kMR * kc) {
    const size_t rows = m - m0 < kMR ? m - m0 : kMR;
    const float* panel = src + m0 * lda + k0;
    for (size_t k = 0; k < kc; k += 16) {
      const size_t count = kc - k < 16 ? kc - k : 16;
      const __mmask16 valid = static_cast<__mmask16>(count == 16 ? 0xffffu : (1u << count) - 1);
      __m512 r[16];
#pragma GCC unroll 16
      for (size_t i = 0; i < 16; i++) {
        r[i] = i < rows ? _mm512_maskz_loadu_ps(valid, panel + i * lda + k) : _mm512_setzero_ps();
      }
      // Pairs of rows, 32-bit interleave: per 128-bit lane L, t[2i] = a0 b0 a1 b1, t[2i+1] = a2 b2 a3 b3.
      __m512 t[16];
#pragma GCC unroll 8
      for (size_t i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
      }
      // Groups of 4 rows, 64-bit interleave: u[4g + j] holds, in lane L, column 4L + j of rows 4g..4g+3.
      __m512 u[16];
#pragma GCC unroll 4
      for (size_t g = 0; g < 4; g++) {
        const __m512d lo0 = _mm512_castps_pd(t[4 * g]), hi0 = _mm512_castps_pd(t[4 * g + 1]);
        const __m512d lo1 = _mm512_castps_pd(t[4 * g + 2]), hi1 = _mm512_castps_pd(t[4 * g + 3]);
        u[4 * g] = _mm512_castpd_ps(_mm512_unpacklo_pd(lo0, lo1));
        u[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(lo0, lo1));
        u[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(hi0, hi1));
        u[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(hi0, hi1));
      }
      // Lanes gathered across the four groups: column 4L + j = rows 0..15 from lane L of
      // u[j], u[4 + j], u[8 + j], u[12 + j].
      float* out = dst + k * kMR;
#pragma GCC unroll 4
      for (size_t j = 0; j < 4; j++) {
        const __m512 v0 = _mm512_shuffle_f32x4(u[j], u[4 + j], 0x88);       // A0 A2 B0 B2
        const __m512 v1 = _mm512_shuffle_f32x4(u[j], u[4 + j], 0xdd);       // A1 A3 B1 B3
        const __m512 w0 = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0x88);  // C0 C2 D0 D2
        const __m512 w1 = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0xdd);  // C1 C3 D1 D3
        const __m512 col[4] = {_mm512_shuffle_f32x4(v0, w0, 0x88), _mm512_shuffle_f32x4(v1, w1, 0x88),
                               _mm512_shuffle_f32x4(v0, w0, 0xdd), _mm512_shuffle_f32x4(v1, w1, 0xdd)};
#pragma GCC unroll 4
        for (size_t lane = 0; lane < 4; lane++) {
          if (4 * lane + j < count) _mm512_storeu_ps(out + (4 * lane + j) * kMR, col[lane]);
        }
      }
    }
  }
}

}  // namespace convnode
