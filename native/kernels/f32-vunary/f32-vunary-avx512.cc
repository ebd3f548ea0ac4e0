// AVX-512 f32-vunary: 16 floats per step, two steps per iteration; the tail is one masked step.
// GCC 12 reports the _mm512_undefined_* inside its own intrinsics (e.g. _mm512_cvtps_epi32) as
// maybe-uninitialized once they are inlined here: a known false positive.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "../../simd/avx512-math.h"
#include "vunary.h"

namespace convnode {

void f32_vunary__avx512(size_t n, const float* input, float* output, const Activation& activation) {
  with_activation_kind(activation.kind, [&](auto kind) {
    constexpr ActivationKind K = decltype(kind)::value;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
      const __m512 x0 = _mm512_loadu_ps(input + i);
      const __m512 x1 = _mm512_loadu_ps(input + i + 16);
      _mm512_storeu_ps(output + i, avx512_activate_kind<K>(x0, activation));
      _mm512_storeu_ps(output + i + 16, avx512_activate_kind<K>(x1, activation));
    }
    for (; i + 16 <= n; i += 16) {
      _mm512_storeu_ps(output + i, avx512_activate_kind<K>(_mm512_loadu_ps(input + i), activation));
    }
    if (i < n) {
      const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
      const __m512 x = _mm512_maskz_loadu_ps(m, input + i);
      _mm512_mask_storeu_ps(output + i, m, avx512_activate_kind<K>(x, activation));
    }
  });
}

}  // namespace convnode
