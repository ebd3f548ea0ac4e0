// The point GEMMs' full 16x16 tile on AVX-512 with the A stream prefetched from inside the k loop.
// ResNet's 3x3 convs on 7x7 and 14x14 maps multiply U matrices of megabytes (512->512: 16.8 MB)
// by a few 16-wide tile panels, so each A row of 16 floats (one cache line) is used by one tile's
// 16 FMAs and U streams from memory at ~15 GB/s; the hardware prefetcher alone delivered ~11.
// Here every k step also requests the line `prefetch` floats ahead of the A row it reads: one
// request per line, spread over the FMAs (a burst of a panel's 171 requests before each call
// filled the miss queue and took 1.53 -> 2.42 ms on 512->512 @7). The driver walks U in memory
// order (native/ops/winograd.cc), so the line ahead is the one the walk reads next.
// Built with the AVX-512 flags (this file only).
#include <immintrin.h>

#include "winograd-transforms.h"

namespace convnode {

void f32_winograd_gemm_16x16__avx512(size_t kc, const float* a, const float* b, float* c, size_t ldc, bool accumulate,
                                     size_t prefetch) {
  __m512 acc[16];
#pragma GCC unroll 16
  for (size_t i = 0; i < 16; i++) acc[i] = _mm512_setzero_ps();
  for (size_t k = 0; k < kc; k++) {
    _mm_prefetch(reinterpret_cast<const char*>(a + prefetch), _MM_HINT_T0);
    const __m512 bv = _mm512_loadu_ps(b);
#pragma GCC unroll 16
    for (size_t i = 0; i < 16; i++) acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(a[i]), bv, acc[i]);
    a += 16;
    b += 16;
  }
#pragma GCC unroll 16
  for (size_t i = 0; i < 16; i++) {
    __m512 v = acc[i];
    if (accumulate) v = _mm512_add_ps(v, _mm512_loadu_ps(c + i * ldc));
    _mm512_storeu_ps(c + i * ldc, v);
  }
}

}  // namespace convnode
