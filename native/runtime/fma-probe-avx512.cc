// Built with the AVX-512 flags. 16 independent zmm chains cover the FMA latency on 2 ports (on
// Zen 4 each 512-bit FMA occupies both 256-bit halves, so its peak equals AVX2's there).
#include <immintrin.h>

#include <cstddef>

#include "fma-probe.h"

namespace convnode {

double fma_probe_avx512() {
  volatile float sink = 0.0f;
  return best_gflops(
      [&](size_t iterations) {
        __m512 acc[16];
        for (int j = 0; j < 16; j++) acc[j] = _mm512_set1_ps(static_cast<float>(j));
        const __m512 scale = _mm512_set1_ps(0.999999f);
        const __m512 add = _mm512_set1_ps(1e-6f);
        for (size_t i = 0; i < iterations; i++) {
          for (int j = 0; j < 16; j++) acc[j] = _mm512_fmadd_ps(acc[j], scale, add);
        }
        __m512 total = acc[0];
        for (int j = 1; j < 16; j++) total = _mm512_add_ps(total, acc[j]);
        sink = _mm512_reduce_add_ps(total);
      },
      16 * 16 * 2.0);
}

}  // namespace convnode
