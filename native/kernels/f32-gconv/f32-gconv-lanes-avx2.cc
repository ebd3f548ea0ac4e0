// The channels-in-lanes grouped conv (gconv.h, GconvLanes), AVX2 + FMA (built with -mavx2
// -mfma): a pixel's 16 output channels in two ymm, 6 pixels a step (12 accumulators, two weight
// vectors, a broadcast: the 16 registers), run ends through a small buffer (masked stores are
// slow on AMD).
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "../../simd/avx2-epilogue.h"
#include "gconv.h"

namespace convnode {
namespace {
namespace gconv_lanes_avx2 {

struct Avx2Lanes {
  using vec = __m256;
  static constexpr size_t kLanes = 8;
  static constexpr size_t kPixels = 6;
  static vec zero() { return _mm256_setzero_ps(); }
  static vec load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, vec v) { _mm256_storeu_ps(p, v); }
  static vec broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static vec fma(vec a, vec b, vec c) { return _mm256_fmadd_ps(a, b, c); }
  static vec add(vec a, vec b) { return _mm256_add_ps(a, b); }
  static vec activate(vec v, const Activation& act) { return avx2_activate(v, act); }
  // 8 x 8: swap the off-diagonal 4 x 4 blocks of rows i, i + 4 (128-bit halves), then the 2 x 2
  // blocks of rows i, i + 2, then single floats of rows i, i + 1.
  static void transpose(vec r[8]) {
    for (int i = 0; i < 4; i++) {
      const vec a = _mm256_permute2f128_ps(r[i], r[i + 4], 0x20);
      const vec b = _mm256_permute2f128_ps(r[i], r[i + 4], 0x31);
      r[i] = a;
      r[i + 4] = b;
    }
    for (int i : {0, 1, 4, 5}) {
      const vec a = _mm256_shuffle_ps(r[i], r[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
      const vec b = _mm256_shuffle_ps(r[i], r[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
      r[i] = a;
      r[i + 2] = b;
    }
    for (int i : {0, 2, 4, 6}) {
      const vec lo = _mm256_unpacklo_ps(r[i], r[i + 1]);  // a0 b0 a1 b1 | a4 b4 a5 b5
      const vec hi = _mm256_unpackhi_ps(r[i], r[i + 1]);  // a2 b2 a3 b3 | a6 b6 a7 b7
      r[i] = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(1, 0, 1, 0));
      r[i + 1] = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 2, 3, 2));
    }
  }
  static vec load_first(const float* p, size_t m) {
    if (m == kLanes) return _mm256_loadu_ps(p);
    alignas(32) float lanes[kLanes] = {};
    std::memcpy(lanes, p, m * sizeof(float));
    return _mm256_load_ps(lanes);
  }
  static void store_first(float* p, vec v, size_t m) {
    if (m == kLanes) return _mm256_storeu_ps(p, v);
    alignas(32) float lanes[kLanes];
    _mm256_store_ps(lanes, v);
    std::memcpy(p, lanes, m * sizeof(float));
  }
};

#include "gconv-lanes.inc"

}  // namespace gconv_lanes_avx2
}  // namespace

void f32_gconv_lanes__avx2(const GconvLanes& g) { gconv_lanes_avx2::gconv_lanes<gconv_lanes_avx2::Avx2Lanes>(g); }

}  // namespace convnode
