// A process-wide pool of worker threads. parallel_for may be called from several threads at
// once (libuv workers running concurrent forward() calls): each call is its own job, the caller
// works on it too. With CONVNODE_SPIN_US=N (default 0: off), a worker that finishes a job polls
// for the next one for N us before it sleeps on a condition variable: a model's layers follow
// each other a few microseconds apart, so the wake-up of a sleeping thread (~20 us on the 2-core
// VM, often more than a small layer's work) is paid once per run instead of once per layer; the
// caller likewise polls N/4 us for the last task before it sleeps. Off by default: on an
// overloaded machine a poller holds a core that the caller needs (see thread_pool.cc).
#pragma once
#if defined(__wasi__) && defined(__wasm_atomics__)
#include "../wasm/thread_pool_shared.h"  // the threaded wasm build: worker_threads on shared memory
#elif defined(__wasi__)
#include "../wasm/thread_pool_single.h"  // the wasm module's default build: one thread
#else
#include <atomic>
#include <cstdint>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace convnode {

class ThreadPool {
 public:
  static ThreadPool& instance();

  // Total threads a parallel_for uses, the caller included. n >= 1.
  void set_threads(size_t n);
  size_t threads() const;

  // Runs fn(0) ... fn(count - 1), spread over the pool; returns when all are done. Rethrows the
  // first exception a task threw.
  void parallel_for(size_t count, const std::function<void(size_t)>& fn);

  ~ThreadPool();  // never runs for instance(); see there

  // CPU time spent in tasks of jobs the pool shares out (two or more tasks, two or more threads),
  // summed over the threads that ran them, while counting is on (off by default: two clock reads
  // per thread per job). With the process's CPU time it gives the share of a run that cannot go
  // faster with more threads (bench/thread-share.mjs), measured in CPU time, so the figure holds
  // on a loaded machine where wall-clock speed-ups are noise.
  struct ShareCounters {
    uint64_t shared_cpu_ns = 0;
    uint64_t shared_jobs = 0;
  };
  static void count_shared_work(bool on);
  static ShareCounters shared_work();

 private:
  struct Job;
  ThreadPool();
  void start_workers(size_t count);
  void stop_workers();
  void worker_loop();
  static void run_tasks(Job& job);

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::atomic<size_t> queued_{0};  // queue_.size(), for polling without the lock
  size_t spin_us_ = 0;
  std::vector<std::thread> workers_;
  std::mutex resize_mutex_;
  bool stopping_ = false;
  size_t threads_ = 1;
};

}  // namespace convnode
#endif  // !__wasi__
