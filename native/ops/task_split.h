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

// A GEMM's task grid at batch 1 (split_gemm, gemm_driver.cc): `independent` problems (images x
// groups) of rows x cols outputs and k-long sums, each cut into column chunks of whole nr-wide
// tiles and row chunks of whole mr-row panels; task t is row chunk t % r, column chunk
// (t / r) % c, problem t / (r x c) (the order the pool hands them out).
struct GemmGridShape {
  size_t independent, rows, mr, cols, nr, k;
};
struct GemmGridCut {
  size_t col_chunk_tiles, row_chunk_panels;  // per chunk; the last chunk of each may be shorter
};
// The cut with the shortest predicted span over `threads` threads, among `current` and the cuts
// of `threads` to 4 x `threads` tasks. Why: the cut by pixel blocks alone leaves the threads
// unequal work on small maps (14x14 is 13 tiles of 16 pixels, cut 4 + 4 + 4 + 1: one thread
// gets 8 tiles, the other 5; 28x28 is 49 tiles in blocks of 15: 30 against 19), and the thread
// with less idles at the join. Each cut is scored by playing its tasks, in the pool's order, on
// `threads` threads that each take the next task when free (the caller at once, the workers
// kGemmHelperStartNs later: a polling worker's pick-up); a task costs its multiply-adds, its
// packing of B (each row chunk packs its columns' B again) and a fixed claim cost
// (work_cost.h). Exact ties keep `current`. O(cuts x tasks x threads): callers keep it for few
// threads (split_gemm: up to 4).
GemmGridCut balanced_gemm_cut(const GemmGridShape& shape, size_t threads, GemmGridCut current);
// For a cut that already has 4 x threads tasks or more (pixel blocks of a large map): the same
// rows, and pixel blocks evened out: of `current`'s block count c and c + 1 ... c + threads
// blocks of equal whole tiles, the one with the shortest predicted span (56x56 is 196 tiles: 13
// blocks of 15 and one of 1, so one of 2 threads did 105 tiles and the other 91; 14 of 14 are even).
GemmGridCut evened_gemm_cut(const GemmGridShape& shape, size_t threads, GemmGridCut current);
// split_gemm's entry: balanced_gemm_cut when `current` has fewer than 4 x threads tasks, else
// evened_gemm_cut, each answer kept in a process-wide table read without a lock (a conv asks the
// same question on every run; scoring the cuts took 0.4-3 us per call at 2-4 threads, serial on
// the caller).
GemmGridCut gemm_cut_for(const GemmGridShape& shape, size_t threads, GemmGridCut current);
// The predicted span of a cut (ns), as balanced_gemm_cut scores it; exposed for the tests.
double gemm_cut_span_ns(const GemmGridShape& shape, size_t threads, GemmGridCut cut);

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
