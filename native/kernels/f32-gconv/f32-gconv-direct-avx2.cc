// The flat-grid grouped conv, AVX2 + FMA (built with -mavx2 -mfma): one ymm per 8 grid pixels,
// 16 registers (8 channels x 1 vector, 4 x 2, 2 x 4 accumulators per step). Partial vectors
// (row ends) store lane by lane: masked stores are slow on AMD.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>

#include "../../simd/avx2-epilogue.h"
#include "gconv.h"

namespace convnode {
namespace {
namespace gconv_avx2 {

struct Avx2Vec {
  using vec = __m256;
  static constexpr size_t kLanes = 8;
  static constexpr size_t kRegisters = 16;
  static constexpr bool kMasked = false;
  static vec zero() { return _mm256_setzero_ps(); }
  static vec load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, vec v) { _mm256_storeu_ps(p, v); }
  static vec broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static vec fma(vec a, vec b, vec c) { return _mm256_fmadd_ps(a, b, c); }
  static vec add(vec a, vec b) { return _mm256_add_ps(a, b); }
  static vec activate(vec v, const Activation& act) { return avx2_activate(v, act); }
};

#include "gconv-flat.inc"

}  // namespace gconv_avx2
}  // namespace

void f32_gconv_direct__avx2(const GconvRows& rows) { gconv_avx2::gconv_rows<gconv_avx2::Avx2Vec>(rows); }

}  // namespace convnode
