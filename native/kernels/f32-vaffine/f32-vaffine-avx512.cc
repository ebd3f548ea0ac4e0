// AVX-512 f32-vaffine: one FMA per 16 floats (masked tail), then the activation over the block in L1.
// GCC 12 reports the _mm512_undefined_* inside its own intrinsics (e.g. _mm512_cvtps_epi32) as
// maybe-uninitialized once they are inlined here: a known false positive.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>

#include "../f32-vbinary/vbinary.h"
#include "../f32-vunary/vunary.h"
#include "vaffine.h"

namespace convnode {

namespace {

void affine_avx512(size_t n, const float* input, float scale, float shift, float* output) {
  const __m512 s = _mm512_set1_ps(scale);
  const __m512 t = _mm512_set1_ps(shift);
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512 r0 = _mm512_fmadd_ps(_mm512_loadu_ps(input + i), s, t);
    const __m512 r1 = _mm512_fmadd_ps(_mm512_loadu_ps(input + i + 16), s, t);
    _mm512_storeu_ps(output + i, r0);
    _mm512_storeu_ps(output + i + 16, r1);
  }
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(output + i, _mm512_fmadd_ps(_mm512_loadu_ps(input + i), s, t));
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(output + i, m, _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, input + i), s, t));
  }
}

}  // namespace

void f32_vaffine__avx512(size_t n, const float* input, float scale, float shift, float* output,
                         const Activation& activation) {
  if (activation.kind == ActivationKind::None) return affine_avx512(n, input, scale, shift, output);
  for (size_t i = 0; i < n; i += kElementwiseBlock) {
    const size_t count = std::min(kElementwiseBlock, n - i);
    affine_avx512(count, input + i, scale, shift, output + i);
    f32_vunary__avx512(count, output + i, output + i, activation);
  }
}

}  // namespace convnode
