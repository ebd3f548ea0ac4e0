// AVX-512 (F/DQ) forms of the transcendental activations (vector-math.h over 16 floats). Include
// only from files built with the avx512 flags; every symbol that can come out of here names avx512.
#pragma once
#include <immintrin.h>

#include "../kernels/epilogue.h"
#include "vector-math.h"

namespace convnode {

// In an unnamed namespace: internal linkage, so no copy compiled with other ISA flags can be
// merged with this one by the linker.
namespace {

struct avx512_ops {
  using V = __m512;
  using M = __mmask16;
  using I = __m512i;
  static inline V splat(float v) { return _mm512_set1_ps(v); }
  static inline V add(V a, V b) { return _mm512_add_ps(a, b); }
  static inline V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static inline V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static inline V div(V a, V b) { return _mm512_div_ps(a, b); }
  static inline V fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static inline V fnmadd(V a, V b, V c) { return _mm512_fnmadd_ps(a, b, c); }
  // Like AVX's, vminps/vmaxps return the second operand when either is NaN.
  static inline V min_keep(V x, V c) { return _mm512_min_ps(c, x); }
  static inline V max_keep(V x, V c) { return _mm512_max_ps(c, x); }
  static inline V abs(V x) { return _mm512_abs_ps(x); }
  static inline V round(V x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static inline M lt(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static inline M gt(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
  static inline V select(M m, V t, V f) { return _mm512_mask_blend_ps(m, f, t); }
  static inline V copy_sign(V mag, V sign) {
    // Bit select, mask ? mag : sign, per bit: ternary-logic truth table 0xCA.
    return _mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_set1_epi32(0x7fffffff), _mm512_castps_si512(mag),
                                                         _mm512_castps_si512(sign), 0xCA));
  }
  static inline I to_int(V x) { return _mm512_cvtps_epi32(x); }
  static inline I int_sub(I a, I b) { return _mm512_sub_epi32(a, b); }
  static inline I int_sra1(I a) { return _mm512_srai_epi32(a, 1); }
  static inline V pow2_bits(I n) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n, _mm512_set1_epi32(127)), 23));
  }
  // v 2^n (n integral-valued), rounded once: vector-math.h's sigmoid_scalef / silu_scalef.
  static inline V scalef(V v, V n) { return _mm512_scalef_ps(v, n); }
  static inline V scalef_unless(M m, V v, V n) { return _mm512_mask_scalef_ps(v, static_cast<M>(~m), v, n); }
  static inline V mul_unless(M m, V a, V b) { return _mm512_mask_mul_ps(a, static_cast<M>(~m), a, b); }
};

}  // namespace

static inline __m512 avx512_exp(__m512 x) { return vmath::exp<avx512_ops>(x); }
static inline __m512 avx512_expm1(__m512 x) { return vmath::expm1<avx512_ops>(x); }
static inline __m512 avx512_sigmoid(__m512 x) { return vmath::sigmoid_scalef<avx512_ops>(x); }
static inline __m512 avx512_silu(__m512 x) { return vmath::silu_scalef<avx512_ops>(x); }
static inline __m512 avx512_tanh(__m512 x) { return vmath::tanh<avx512_ops>(x); }
static inline __m512 avx512_elu(__m512 x, float alpha) { return vmath::elu<avx512_ops>(x, alpha); }
static inline __m512 avx512_softplus(__m512 x) { return vmath::softplus<avx512_ops>(x); }
static inline __m512 avx512_mish(__m512 x) { return vmath::mish<avx512_ops>(x); }
static inline __m512 avx512_gelu(__m512 x) { return vmath::gelu<avx512_ops>(x); }
static inline __m512 avx512_gelu_tanh(__m512 x) { return vmath::gelu_tanh<avx512_ops>(x); }

// Every activation kind on 16 floats, the kind fixed at compile time (the avx512 twin of
// avx2-epilogue.h's avx2_activate_kind; avx512-epilogue.h's per-vector form can call it).
template <ActivationKind K>
static inline __m512 avx512_activate_kind(__m512 x, const Activation& act) {
  const __m512 zero = _mm512_setzero_ps();
  switch (K) {
    case ActivationKind::None: return x;
    case ActivationKind::Relu: return _mm512_max_ps(zero, x);
    case ActivationKind::Relu6: return _mm512_min_ps(_mm512_set1_ps(6.0f), _mm512_max_ps(zero, x));
    case ActivationKind::Clip:
      return _mm512_min_ps(_mm512_set1_ps(act.max), _mm512_max_ps(_mm512_set1_ps(act.min), x));
    case ActivationKind::LeakyRelu:
      return _mm512_mask_mul_ps(x, _mm512_cmp_ps_mask(x, zero, _CMP_LT_OQ), x, _mm512_set1_ps(act.alpha));
    case ActivationKind::Elu: return avx512_elu(x, act.alpha);
    case ActivationKind::HardSigmoid: {
      const __m512 y = _mm512_fmadd_ps(x, _mm512_set1_ps(act.alpha), _mm512_set1_ps(act.beta));
      return _mm512_min_ps(_mm512_set1_ps(1.0f), _mm512_max_ps(zero, y));
    }
    case ActivationKind::HardSwish: {
      const __m512 gate = _mm512_add_ps(x, _mm512_set1_ps(3.0f));
      const __m512 clipped = _mm512_min_ps(_mm512_set1_ps(6.0f), _mm512_max_ps(zero, gate));
      const __m512 y = _mm512_mul_ps(x, _mm512_mul_ps(clipped, _mm512_set1_ps(1.0f / 6.0f)));
      // 0 where gate <= 0 (not -inf * 0 = NaN); unordered keeps y, so NaN stays NaN.
      return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(gate, zero, _CMP_NLE_UQ), y);
    }
    case ActivationKind::Sigmoid: return avx512_sigmoid(x);
    case ActivationKind::Silu: return avx512_silu(x);
    case ActivationKind::Tanh: return avx512_tanh(x);
    case ActivationKind::Gelu: return avx512_gelu(x);
    case ActivationKind::GeluTanh: return avx512_gelu_tanh(x);
    case ActivationKind::Exp: return avx512_exp(x);
    case ActivationKind::Softplus: return avx512_softplus(x);
    case ActivationKind::Mish: return avx512_mish(x);
  }
  return x;
}

}  // namespace convnode
