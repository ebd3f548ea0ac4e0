// AVX2 form of the epilogue's activation for the cheap kinds. The kinds that need exp, tanh or
// erf go through the scalar path instead (callers check vectorizable() first).
#pragma once
#include <immintrin.h>

#include "../kernels/epilogue.h"

namespace convnode {

static constexpr bool avx2_vector_kind(ActivationKind kind) {
  return kind == ActivationKind::None || kind == ActivationKind::Relu || kind == ActivationKind::Relu6 ||
         kind == ActivationKind::LeakyRelu || kind == ActivationKind::HardSwish;
}

static inline bool avx2_activation_vectorizable(const Activation& act) { return avx2_vector_kind(act.kind); }

// max/min are ordered so a NaN input comes out as NaN (the second operand wins on unordered).
static inline __m256 avx2_activate(__m256 x, const Activation& act) {
  const __m256 zero = _mm256_setzero_ps();
  switch (act.kind) {
    case ActivationKind::Relu: return _mm256_max_ps(zero, x);
    case ActivationKind::Relu6: return _mm256_min_ps(_mm256_set1_ps(6.0f), _mm256_max_ps(zero, x));
    case ActivationKind::LeakyRelu: {
      const __m256 negative = _mm256_cmp_ps(x, zero, _CMP_LT_OQ);
      return _mm256_blendv_ps(x, _mm256_mul_ps(x, _mm256_set1_ps(act.alpha)), negative);
    }
    case ActivationKind::HardSwish: {
      const __m256 gate = _mm256_add_ps(x, _mm256_set1_ps(3.0f));
      const __m256 clipped = _mm256_min_ps(_mm256_set1_ps(6.0f), _mm256_max_ps(zero, gate));
      return _mm256_mul_ps(x, _mm256_mul_ps(clipped, _mm256_set1_ps(1.0f / 6.0f)));
    }
    default: return x;
  }
}

}  // namespace convnode
