// Built with -mavx2 -mfma. 12 independent chains cover the FMA latency (4-5 cycles) on 2 ports.
#include <immintrin.h>

#include <cstddef>

#include "fma-probe.h"

namespace convnode {

double fma_probe_avx2() {
  volatile float sink = 0.0f;
  return best_gflops(
      [&](size_t iterations) {
        __m256 acc[12];
        for (int j = 0; j < 12; j++) acc[j] = _mm256_set1_ps(static_cast<float>(j));
        const __m256 scale = _mm256_set1_ps(0.999999f);
        const __m256 add = _mm256_set1_ps(1e-6f);
        for (size_t i = 0; i < iterations; i++) {
          for (int j = 0; j < 12; j++) acc[j] = _mm256_fmadd_ps(acc[j], scale, add);
        }
        __m256 total = acc[0];
        for (int j = 1; j < 12; j++) total = _mm256_add_ps(total, acc[j]);
        sink = _mm256_cvtss_f32(total);
      },
      12 * 8 * 2.0);
}

}  // namespace convnode
