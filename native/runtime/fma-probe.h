// Times a loop of independent FMA chains on one thread and reports GFLOP/s (2 flops per FMA
// lane): the peak the benchmark compares kernels against.
#pragma once
#include <chrono>

namespace convnode {

// Repeats `run(iterations)` (which performs flops_per_iteration * iterations flops) for about
// 50 ms, three times, and returns the best rate.
template <typename Run>
static double best_gflops(Run run, double flops_per_iteration) {
  using clock = std::chrono::steady_clock;
  double best = 0.0;
  for (int trial = 0; trial < 3; trial++) {
    size_t iterations = 1 << 16;
    for (;;) {
      const auto start = clock::now();
      run(iterations);
      const double seconds = std::chrono::duration<double>(clock::now() - start).count();
      if (seconds > 0.05) {
        const double rate = flops_per_iteration * static_cast<double>(iterations) / seconds / 1e9;
        if (rate > best) best = rate;
        break;
      }
      iterations *= 2;
    }
  }
  return best;
}

}  // namespace convnode
