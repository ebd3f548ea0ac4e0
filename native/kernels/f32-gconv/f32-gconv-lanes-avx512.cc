// The channels-in-lanes grouped conv (gconv.h, GconvLanes), AVX-512 F (built with the AVX-512
// flags): a zmm holds a pixel's 16 output channels, 12 pixels a step (12 accumulators, the tap's
// weight vector; each FMA takes its input as a broadcast memory operand), the planes' run ends
// stored through k-register masks.
// GCC 12 warns of uninitialised values inside avx512fintrin.h (see dwconv-avx512.inc).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "../../simd/avx512-epilogue.h"

#include <algorithm>
#include <cstddef>

#include "gconv.h"

namespace convnode {
namespace {
namespace gconv_lanes_avx512 {

// One stage of the 16 x 16 transpose: rows a (index i) and b (i + h), h a power of two, swap
// their off-diagonal h x h blocks. Four stages (h = 8, 4, 2, 1) transpose the matrix.
template <int H>
inline void swap_blocks(__m512& a, __m512& b) {
  alignas(64) int to_a[16], to_b[16];
  for (int l = 0; l < 16; l++) {
    to_a[l] = (l & H) ? 16 + l - H : l;  // a keeps its lanes without bit H; b's lower block fills the rest
    to_b[l] = (l & H) ? 16 + l : l + H;  // b keeps its lanes with bit H; a's upper block fills the rest
  }
  const __m512 na = _mm512_permutex2var_ps(a, _mm512_load_si512(to_a), b);
  const __m512 nb = _mm512_permutex2var_ps(a, _mm512_load_si512(to_b), b);
  a = na;
  b = nb;
}

template <int H>
inline void transpose_stage(__m512 r[16]) {
#pragma GCC unroll 16
  for (int i = 0; i < 16; i++) {
    if ((i & H) == 0) swap_blocks<H>(r[i], r[i + H]);
  }
}

struct Avx512Lanes {
  using vec = __m512;
  static constexpr size_t kLanes = 16;
  static constexpr size_t kPixels = 12;
  static vec zero() { return _mm512_setzero_ps(); }
  static vec load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, vec v) { _mm512_storeu_ps(p, v); }
  static vec broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static vec fma(vec a, vec b, vec c) { return _mm512_fmadd_ps(a, b, c); }
  static vec add(vec a, vec b) { return _mm512_add_ps(a, b); }
  static vec activate(vec v, const Activation& act) { return avx512_activate(v, act); }
  static void transpose(vec r[16]) {
    transpose_stage<8>(r);
    transpose_stage<4>(r);
    transpose_stage<2>(r);
    transpose_stage<1>(r);
  }
  static vec load_first(const float* p, size_t m) { return _mm512_maskz_loadu_ps(avx512_lanes_mask(m), p); }
  static void store_first(float* p, vec v, size_t m) { _mm512_mask_storeu_ps(p, avx512_lanes_mask(m), v); }
};

#include "gconv-lanes.inc"

}  // namespace gconv_lanes_avx512
}  // namespace

void f32_gconv_lanes__avx512(const GconvLanes& g) { gconv_lanes_avx512::gconv_lanes<gconv_lanes_avx512::Avx512Lanes>(g); }

}  // namespace convnode

#pragma GCC diagnostic pop
