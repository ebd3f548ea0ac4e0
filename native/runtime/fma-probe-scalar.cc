#include <cstddef>

#include "fma-probe.h"

namespace convnode {

double fma_probe_scalar() {
  volatile float sink = 0.0f;
  return best_gflops(
      [&](size_t iterations) {
        float acc[8] = {0, 1, 2, 3, 4, 5, 6, 7};
        for (size_t i = 0; i < iterations; i++) {
          for (float& a : acc) a = a * 0.999999f + 1e-6f;
        }
        float total = 0.0f;
        for (float a : acc) total += a;
        sink = total;
      },
      8 * 2.0);
}

}  // namespace convnode
