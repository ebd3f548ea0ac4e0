// How the memory-streaming ops (pooling, depthwise) cut their independent units (planes, or
// bands of a plane) into ThreadPool tasks.
#pragma once
#include <cstddef>
#include <vector>

#include "../runtime/thread_pool.h"

namespace convnode {

// Task t covers units [bounds[t], bounds[t + 1]). Tasks are contiguous runs, so each thread
// reads one long ascending stream of memory: one unit per task (the threads taking turns) was
// measured slower on 2 threads for memory-bound work (max pool 3x3/2 64x112x112 batch 8:
// 0.78-0.86 vs 0.54-0.62 ms), the same on 1. Each run is 1 / (2 x threads) of the units not yet
// given out (but at least min_run): long runs first and short ones last, so a thread that wakes
// late (~20 us on the 2-core VM) still ends with the others. threads == 1 gives one task.
std::vector<size_t> guided_task_bounds(size_t units, size_t threads, size_t min_run);

// Runs of `run` units each (the last one shorter).
std::vector<size_t> equal_task_bounds(size_t units, size_t run);

// fn(0) ... fn(count - 1): on the calling thread when `threads` (what the pool's grain rule,
// ThreadPool::threads_for, gave the job) is 1, else over the pool. A cut that is not made from
// the thread count (GEMM's column chunks, one task per group) can give several tasks to a job
// the rule keeps whole; handed to the pool, they would still wake a worker for it.
template <typename Fn>
void parallel_for_threads(size_t count, size_t threads, const Fn& fn) {
  if (threads <= 1 || count <= 1) {
#if !defined(__wasi__)
    // Traced (bench/pool-jobs.mjs) as a job kept whole, so the serial ops have a name.
    if (ThreadPool::tracing_jobs()) return ThreadPool::instance().run_whole_traced(count, fn);
#endif
    for (size_t i = 0; i < count; i++) fn(i);
    return;
  }
  ThreadPool::instance().parallel_for(count, fn);
}

// fn(unit) for every unit, one pool task per run of `bounds`.
template <typename Fn>
void parallel_for_runs(const std::vector<size_t>& bounds, const Fn& fn) {
  ThreadPool::instance().parallel_for(bounds.size() - 1, [&](size_t task) {
    for (size_t unit = bounds[task]; unit < bounds[task + 1]; unit++) fn(unit);
  });
}

}  // namespace convnode
