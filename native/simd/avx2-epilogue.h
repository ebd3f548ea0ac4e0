// AVX2 form of the epilogue's activation, for every kind: the cheap ones inline here, the
// transcendental ones from avx2-math.h (a few ulp from the scalar definition).
#pragma once
#include <immintrin.h>

#include "../kernels/epilogue.h"
#include "avx2-math.h"

namespace convnode {

// Every kind has a vector form; kept so callers can still ask (and other ISAs' headers match).
static constexpr bool avx2_vector_kind(ActivationKind) { return true; }

static inline bool avx2_activation_vectorizable(const Activation& act) { return avx2_vector_kind(act.kind); }

// One kind, chosen at compile time: element-wise loops instantiate this per kind so the switch
// is taken once per call, not once per vector. max/min are ordered so a NaN input comes out as
// NaN (the second operand wins on unordered).
template <ActivationKind K>
static inline __m256 avx2_activate_kind(__m256 x, const Activation& act) {
  const __m256 zero = _mm256_setzero_ps();
  switch (K) {
    case ActivationKind::None: return x;
    case ActivationKind::Relu: return _mm256_max_ps(zero, x);
    case ActivationKind::Relu6: return _mm256_min_ps(_mm256_set1_ps(6.0f), _mm256_max_ps(zero, x));
    case ActivationKind::Clip:
      return _mm256_min_ps(_mm256_set1_ps(act.max), _mm256_max_ps(_mm256_set1_ps(act.min), x));
    case ActivationKind::LeakyRelu: {
      const __m256 negative = _mm256_cmp_ps(x, zero, _CMP_LT_OQ);
      return _mm256_blendv_ps(x, _mm256_mul_ps(x, _mm256_set1_ps(act.alpha)), negative);
    }
    case ActivationKind::Elu: return avx2_elu(x, act.alpha);
    case ActivationKind::HardSigmoid: {
      const __m256 y = _mm256_fmadd_ps(x, _mm256_set1_ps(act.alpha), _mm256_set1_ps(act.beta));
      return _mm256_min_ps(_mm256_set1_ps(1.0f), _mm256_max_ps(zero, y));
    }
    case ActivationKind::HardSwish: {
      const __m256 gate = _mm256_add_ps(x, _mm256_set1_ps(3.0f));
      const __m256 clipped = _mm256_min_ps(_mm256_set1_ps(6.0f), _mm256_max_ps(zero, gate));
      const __m256 y = _mm256_mul_ps(x, _mm256_mul_ps(clipped, _mm256_set1_ps(1.0f / 6.0f)));
      // 0 where gate <= 0 (not -inf * 0 = NaN); unordered keeps y, so NaN stays NaN.
      return _mm256_and_ps(y, _mm256_cmp_ps(gate, zero, _CMP_NLE_UQ));
    }
    case ActivationKind::Sigmoid: return avx2_sigmoid(x);
    case ActivationKind::Silu: return avx2_silu(x);
    case ActivationKind::Tanh: return avx2_tanh(x);
    case ActivationKind::Gelu: return avx2_gelu(x);
    case ActivationKind::GeluTanh: return avx2_gelu_tanh(x);
    case ActivationKind::Exp: return avx2_exp(x);
    case ActivationKind::Softplus: return avx2_softplus(x);
    case ActivationKind::Mish: return avx2_mish(x);
  }
  return x;
}

// The kinds that need exp, tanh or erf, out of line: inlined into every store of an epilogue they
// made the GEMM's store helpers too large for GCC to inline, and those then came out as local
// functions without 'avx2' in their name (scripts/check-x64-isa.mjs refuses that). A call per
// vector costs little beside the ~30-cycle math. One copy per file (static); its name says avx2.
static inline __attribute__((noinline)) __m256 avx2_activate_transcendental(__m256 x, const Activation& act) {
  switch (act.kind) {
    case ActivationKind::Elu: return avx2_elu(x, act.alpha);
    case ActivationKind::Sigmoid: return avx2_sigmoid(x);
    case ActivationKind::Silu: return avx2_silu(x);
    case ActivationKind::Tanh: return avx2_tanh(x);
    case ActivationKind::Gelu: return avx2_gelu(x);
    case ActivationKind::GeluTanh: return avx2_gelu_tanh(x);
    case ActivationKind::Exp: return avx2_exp(x);
    case ActivationKind::Softplus: return avx2_softplus(x);
    case ActivationKind::Mish: return avx2_mish(x);
    default: return x;
  }
}

// Per vector, the kind read at run time (epilogues of kernels that are not instantiated per kind).
static inline __m256 avx2_activate(__m256 x, const Activation& act) {
  switch (act.kind) {
#define CONVNODE_AVX2_KIND(K) \
  case ActivationKind::K: return avx2_activate_kind<ActivationKind::K>(x, act);
    CONVNODE_AVX2_KIND(None)
    CONVNODE_AVX2_KIND(Relu)
    CONVNODE_AVX2_KIND(Relu6)
    CONVNODE_AVX2_KIND(Clip)
    CONVNODE_AVX2_KIND(LeakyRelu)
    CONVNODE_AVX2_KIND(HardSigmoid)
    CONVNODE_AVX2_KIND(HardSwish)
#undef CONVNODE_AVX2_KIND
    default: return avx2_activate_transcendental(x, act);
  }
}

}  // namespace convnode
