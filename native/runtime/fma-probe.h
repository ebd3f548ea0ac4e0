// Times a loop of independent FMA chains on one thread and reports GFLOP/s (2 flops per FMA
// lane): the peak the benchmark compares kernels against.
#pragma once
#include <chrono>
#include <cstddef>
#if defined(__unix__) || defined(__APPLE__)
#include <time.h>
#endif

namespace convnode {

// The calling thread's CPU time where the OS keeps it: on a shared machine wall time would also
// count the time other processes held the core (a probe on a 2-core VM at load average 25 read
// 8-30 GFLOP/s of a ~117 peak by wall time).
__attribute__((always_inline)) static inline double probe_seconds() {
#if defined(CLOCK_THREAD_CPUTIME_ID)
  timespec t;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) == 0) return static_cast<double>(t.tv_sec) + t.tv_nsec * 1e-9;
#endif
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Repeats `run(iterations)` (which performs flops_per_iteration * iterations flops) for about
// 50 ms of the thread's CPU time, three times, and returns the best rate.
template <typename Run>
static double best_gflops(Run run, double flops_per_iteration) {
  double best = 0.0;
  for (int trial = 0; trial < 3; trial++) {
    size_t iterations = 1 << 16;
    for (;;) {
      const double start = probe_seconds();
      run(iterations);
      const double seconds = probe_seconds() - start;
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
