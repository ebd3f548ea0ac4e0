// The two clocks the thread pool reads (thread_pool.cc, cpu_load.cc, pool_trace.cc): steady
// time for deadlines and latencies, and the calling thread's CPU time for the job trace.
#pragma once
#include <chrono>
#include <cstdint>

#if defined(__linux__)
#include <time.h>
#endif

namespace convnode {

inline uint64_t now_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

// This thread's CPU time in ns (0 where there is no per-thread clock).
inline uint64_t thread_cpu_ns() {
#if defined(__linux__)
  timespec t;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) == 0) return static_cast<uint64_t>(t.tv_sec) * 1000000000u + static_cast<uint64_t>(t.tv_nsec);
#endif
  return 0;
}

}  // namespace convnode
