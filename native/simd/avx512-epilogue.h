// AVX-512 form of the epilogue's activation, the same API as avx2-epilogue.h: on __m512 every
// kind (the ones that need exp, tanh or erf through avx512-math.h, out of line), and on __m256
// (kernels that pick 256-bit tiles with the 32 registers of AVX-512VL) the cheap kinds, the rest
// taking the scalar path (those callers check avx512_ymm_activation_vectorizable() first).
//
// Only files built with the AVX-512 flags (CONVNODE_AVX512_SOURCES) may include this header, and
// every function here is static inline with 'avx512' in its name: should the compiler keep an
// out-of-line copy, scripts/check-x64-isa.mjs still finds it inside an 'avx512' symbol.
#pragma once
#include <immintrin.h>

#include <cstddef>

#include "../kernels/epilogue.h"
#include "avx512-math.h"

namespace convnode {

// Clip and HardSigmoid are cheap too (a max and a min): vector form here, unlike avx2's list.
static constexpr bool avx512_vector_kind(ActivationKind kind) {
  return kind == ActivationKind::None || kind == ActivationKind::Relu || kind == ActivationKind::Relu6 ||
         kind == ActivationKind::Clip || kind == ActivationKind::LeakyRelu || kind == ActivationKind::HardSigmoid ||
         kind == ActivationKind::HardSwish;
}

// Every kind has a zmm form; the ymm form (avx512_activate_ymm) has the cheap kinds only.
static inline bool avx512_activation_vectorizable(const Activation&) { return true; }
static inline bool avx512_ymm_activation_vectorizable(const Activation& act) { return avx512_vector_kind(act.kind); }

// The kinds that need exp, tanh or erf, out of line for the same reason as
// avx2_activate_transcendental: inlined into every store they grow the GEMM's store helpers past
// what GCC inlines. One copy per file (static); its name says avx512.
static inline __attribute__((noinline)) __m512 avx512_activate_transcendental(__m512 x, const Activation& act) {
  switch (act.kind) {
    case ActivationKind::Elu: return avx512_elu(x, act.alpha);
    case ActivationKind::Sigmoid: return avx512_sigmoid(x);
    case ActivationKind::Silu: return avx512_silu(x);
    case ActivationKind::Tanh: return avx512_tanh(x);
    case ActivationKind::Gelu: return avx512_gelu(x);
    case ActivationKind::GeluTanh: return avx512_gelu_tanh(x);
    case ActivationKind::Exp: return avx512_exp(x);
    case ActivationKind::Softplus: return avx512_softplus(x);
    case ActivationKind::Mish: return avx512_mish(x);
    default: return x;
  }
}

// Per vector, the kind read at run time (epilogues of kernels that are not instantiated per kind):
// the call-free kinds through avx512-math.h's avx512_activate_kind, so the two cannot drift apart
// (as avx2-epilogue.h's avx2_activate does), the rest out of line.
static inline __m512 avx512_activate(__m512 x, const Activation& act) {
  switch (act.kind) {
#define CONVNODE_AVX512_KIND(K) \
  case ActivationKind::K: return avx512_activate_kind<ActivationKind::K>(x, act);
    CONVNODE_AVX512_KIND(None)
    CONVNODE_AVX512_KIND(Relu)
    CONVNODE_AVX512_KIND(Relu6)
    CONVNODE_AVX512_KIND(Clip)
    CONVNODE_AVX512_KIND(LeakyRelu)
    CONVNODE_AVX512_KIND(HardSigmoid)
    CONVNODE_AVX512_KIND(HardSwish)
#undef CONVNODE_AVX512_KIND
    default: return avx512_activate_transcendental(x, act);
  }
}

// The same on 256-bit vectors, for kernels whose tiles measured faster at 256 bits (Zen 4 splits
// every 512-bit operation in two) but which use the 32 registers and mask registers of AVX-512VL.
static inline __m256 avx512_activate_ymm(__m256 x, const Activation& act) {
  const __m256 zero = _mm256_setzero_ps();
  switch (act.kind) {
    case ActivationKind::Relu: return _mm256_max_ps(zero, x);
    case ActivationKind::Relu6: return _mm256_min_ps(_mm256_set1_ps(6.0f), _mm256_max_ps(zero, x));
    case ActivationKind::Clip:
      return _mm256_min_ps(_mm256_set1_ps(act.max), _mm256_max_ps(_mm256_set1_ps(act.min), x));
    case ActivationKind::LeakyRelu: {
      const __mmask8 negative = _mm256_cmp_ps_mask(x, zero, _CMP_LT_OQ);
      return _mm256_mask_mul_ps(x, negative, x, _mm256_set1_ps(act.alpha));
    }
    case ActivationKind::HardSigmoid: {
      // one rounding (an FMA), as the scalar form and avx512_activate_kind
      const __m256 y = _mm256_fmadd_ps(x, _mm256_set1_ps(act.alpha), _mm256_set1_ps(act.beta));
      return _mm256_min_ps(_mm256_set1_ps(1.0f), _mm256_max_ps(zero, y));
    }
    case ActivationKind::HardSwish: {
      const __m256 gate = _mm256_add_ps(x, _mm256_set1_ps(3.0f));
      const __m256 clipped = _mm256_min_ps(_mm256_set1_ps(6.0f), _mm256_max_ps(zero, gate));
      const __m256 y = _mm256_mul_ps(x, _mm256_mul_ps(clipped, _mm256_set1_ps(1.0f / 6.0f)));
      return _mm256_maskz_mov_ps(_mm256_cmp_ps_mask(gate, zero, _CMP_NLE_UQ), y);
    }
    default: return x;
  }
}

// The lanes [0, n) of a vector, as a k-register: edge tiles load and store through it instead of
// a scalar loop (n <= 16; n = 16 is every lane).
static inline __mmask16 avx512_lanes_mask(size_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u);
}

// bias + residual + activation on one row's vector at c, lanes `lanes`, then stored. accumulate
// adds what c holds (a later K block). Lanes outside the mask are neither read nor written, so a
// tile's last columns need no scalar path. residual may be null; bias is the row's value (0 when
// there is none).
static inline void avx512_finish_store(__m512 v, float* c, __mmask16 lanes, bool accumulate, const Epilogue* ep,
                                       float bias, const float* residual) {
  if (accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(lanes, c));
  if (ep != nullptr) {
    if (ep->bias != nullptr) v = _mm512_add_ps(v, _mm512_set1_ps(bias));
    if (residual != nullptr) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(lanes, residual));
    v = avx512_activate(v, ep->activation);
  }
  // A whole row stores unmasked: the common case should not depend on how fast a CPU's masked
  // stores are.
  if (lanes == 0xFFFF) {
    _mm512_storeu_ps(c, v);
  } else {
    _mm512_mask_storeu_ps(c, lanes, v);
  }
}

}  // namespace convnode
