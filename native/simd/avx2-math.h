// AVX2 + FMA forms of the transcendental activations (vector-math.h over 8 floats). Include only
// from files built with -mavx2 -mfma; every symbol that can come out of here names avx2.
#pragma once
#include <immintrin.h>

#include "vector-math.h"

namespace convnode {

// In an unnamed namespace: internal linkage, so no copy compiled with other ISA flags can be
// merged with this one by the linker.
namespace {

struct avx2_ops {
  using V = __m256;
  using M = __m256;
  using I = __m256i;
  static inline V splat(float v) { return _mm256_set1_ps(v); }
  static inline V add(V a, V b) { return _mm256_add_ps(a, b); }
  static inline V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static inline V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static inline V div(V a, V b) { return _mm256_div_ps(a, b); }
  static inline V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static inline V fnmadd(V a, V b, V c) { return _mm256_fnmadd_ps(a, b, c); }
  // min/max return their second operand when either is NaN: x second keeps a NaN x.
  static inline V min_keep(V x, V c) { return _mm256_min_ps(c, x); }
  static inline V max_keep(V x, V c) { return _mm256_max_ps(c, x); }
  static inline V abs(V x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x); }
  static inline V round(V x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static inline M lt(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static inline M gt(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
  static inline V select(M m, V t, V f) { return _mm256_blendv_ps(f, t, m); }
  static inline V copy_sign(V mag, V sign) {
    const V bit = _mm256_set1_ps(-0.0f);
    return _mm256_or_ps(_mm256_andnot_ps(bit, mag), _mm256_and_ps(bit, sign));
  }
  static inline I to_int(V x) { return _mm256_cvtps_epi32(x); }
  static inline I int_sub(I a, I b) { return _mm256_sub_epi32(a, b); }
  static inline I int_sra1(I a) { return _mm256_srai_epi32(a, 1); }
  static inline V pow2_bits(I n) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n, _mm256_set1_epi32(127)), 23));
  }
};

}  // namespace

static inline __m256 avx2_exp(__m256 x) { return vmath::exp<avx2_ops>(x); }
static inline __m256 avx2_expm1(__m256 x) { return vmath::expm1<avx2_ops>(x); }
static inline __m256 avx2_sigmoid(__m256 x) { return vmath::sigmoid<avx2_ops>(x); }
static inline __m256 avx2_silu(__m256 x) { return vmath::silu<avx2_ops>(x); }
static inline __m256 avx2_tanh(__m256 x) { return vmath::tanh<avx2_ops>(x); }
static inline __m256 avx2_elu(__m256 x, float alpha) { return vmath::elu<avx2_ops>(x, alpha); }
static inline __m256 avx2_softplus(__m256 x) { return vmath::softplus<avx2_ops>(x); }
static inline __m256 avx2_mish(__m256 x) { return vmath::mish<avx2_ops>(x); }
static inline __m256 avx2_gelu(__m256 x) { return vmath::gelu<avx2_ops>(x); }
static inline __m256 avx2_gelu_tanh(__m256 x) { return vmath::gelu_tanh<avx2_ops>(x); }

}  // namespace convnode
