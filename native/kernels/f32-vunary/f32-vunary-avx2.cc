// AVX2 f32-vunary: 8 floats per step, two steps per iteration; the tail goes through a padded
// stack vector so it is computed by the same code (same rounding) as the body.
#include <immintrin.h>

#include <cstring>

#include "../../simd/avx2-epilogue.h"
#include "vunary.h"

namespace convnode {

void f32_vunary__avx2(size_t n, const float* input, float* output, const Activation& activation) {
  with_activation_kind(activation.kind, [&](auto kind) {
    constexpr ActivationKind K = decltype(kind)::value;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
      const __m256 x0 = _mm256_loadu_ps(input + i);
      const __m256 x1 = _mm256_loadu_ps(input + i + 8);
      _mm256_storeu_ps(output + i, avx2_activate_kind<K>(x0, activation));
      _mm256_storeu_ps(output + i + 8, avx2_activate_kind<K>(x1, activation));
    }
    for (; i + 8 <= n; i += 8) {
      _mm256_storeu_ps(output + i, avx2_activate_kind<K>(_mm256_loadu_ps(input + i), activation));
    }
    if (i < n) {
      float tail[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      std::memcpy(tail, input + i, (n - i) * sizeof(float));
      _mm256_storeu_ps(tail, avx2_activate_kind<K>(_mm256_loadu_ps(tail), activation));
      std::memcpy(output + i, tail, (n - i) * sizeof(float));
    }
  });
}

}  // namespace convnode
