// AVX2 f32-vaffine: one FMA per 8 floats over a block, then the activation over the block in L1.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "../f32-vbinary/vbinary.h"
#include "../f32-vunary/vunary.h"
#include "vaffine.h"

namespace convnode {

namespace {

void affine_avx2(size_t n, const float* input, float scale, float shift, float* output) {
  const __m256 s = _mm256_set1_ps(scale);
  const __m256 t = _mm256_set1_ps(shift);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 r0 = _mm256_fmadd_ps(_mm256_loadu_ps(input + i), s, t);
    const __m256 r1 = _mm256_fmadd_ps(_mm256_loadu_ps(input + i + 8), s, t);
    _mm256_storeu_ps(output + i, r0);
    _mm256_storeu_ps(output + i + 8, r1);
  }
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(output + i, _mm256_fmadd_ps(_mm256_loadu_ps(input + i), s, t));
  if (i < n) {
    float tail[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::memcpy(tail, input + i, (n - i) * sizeof(float));
    _mm256_storeu_ps(tail, _mm256_fmadd_ps(_mm256_loadu_ps(tail), s, t));
    std::memcpy(output + i, tail, (n - i) * sizeof(float));
  }
}

}  // namespace

void f32_vaffine__avx2(size_t n, const float* input, float scale, float shift, float* output,
                       const Activation& activation) {
  if (activation.kind == ActivationKind::None) return affine_avx2(n, input, scale, shift, output);
  for (size_t i = 0; i < n; i += kElementwiseBlock) {
    const size_t count = std::min(kElementwiseBlock, n - i);
    affine_avx2(count, input + i, scale, shift, output + i);
    f32_vunary__avx2(count, output + i, output + i, activation);
  }
}

}  // namespace convnode
