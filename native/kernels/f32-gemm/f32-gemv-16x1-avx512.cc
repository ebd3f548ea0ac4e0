// AVX-512 GEMV over the 16x16 kernel's packed A panels (16 rows interleaved per k): Linear layers
// at batch 1-2 (native/ops/linear.cc) and Winograd's few-column products. Kept apart from the
// tile kernels, whose template tables it does not use. Built with the AVX-512 F/BW/DQ/VL flags;
// every name here has 'avx512'.
#include <immintrin.h>

#include "../../simd/avx512-epilogue.h"
#include "gemm.h"

namespace convnode {

// GEMV over a 16-row panel: one k step of the panel is exactly one zmm (16 rows), times x[k]
// broadcast. Four accumulators over k % 4 cover the FMA latency; they are summed once per call.
void f32_gemv_16x1__avx512(size_t mr, size_t kc, const float* a, const float* x, float* acc) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
  size_t k = 0;
  for (; k + 4 <= kc; k += 4) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a), _mm512_set1_ps(x[k]), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + 16), _mm512_set1_ps(x[k + 1]), s1);
    s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + 32), _mm512_set1_ps(x[k + 2]), s2);
    s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + 48), _mm512_set1_ps(x[k + 3]), s3);
    a += 64;
  }
  for (; k < kc; k++) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a), _mm512_set1_ps(x[k]), s0);
    a += 16;
  }
  const __m512 sum = _mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3));
  const __mmask16 rows = avx512_lanes_mask(mr);
  _mm512_mask_storeu_ps(acc, rows, _mm512_add_ps(sum, _mm512_maskz_loadu_ps(rows, acc)));
}

}  // namespace convnode
