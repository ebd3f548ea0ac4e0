// The thread pool of the threaded wasm build (scripts/build-wasm.mjs --threads: -matomics, one
// shared WebAssembly.Memory). Included by runtime/thread_pool.h when __wasm_atomics__ is set.
//
// WASI libc++ has no <thread> or <mutex>: the threads are worker_threads started by the JS loader
// (lib/backends/wasm-threads.ts), each with its own instance of the module on the same memory,
// parked in cn_worker_loop. parallel_for publishes a job in shared memory and wakes them with
// memory.atomic.notify; the caller (the JS thread that called into the module) works on the job
// too, then waits for the last task with memory.atomic.wait32. Same interface as the threaded
// pool of native/runtime, so the ops split their work unchanged.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>

namespace convnode {

class ThreadPool {
 public:
  static ThreadPool& instance();

  // Threads a parallel_for may use, the caller included: 1 + the workers the loader started.
  // set_threads is the loader's to call (native's setNumThreads has no meaning here).
  void set_threads(size_t n);
  size_t threads() const { return threads_.load(std::memory_order_relaxed); }

  void parallel_for(size_t count, const std::function<void(size_t)>& fn);

  // The native pool's grain rule (runtime/thread_pool.h), with its workers always parked: a job
  // under kMinSplitNsAsleep of one-thread work runs on the caller, a larger one takes a thread
  // per kMinSplitNsAwake of work. (The work estimates are the native kernels'; wasm is ~2-3x
  // slower, so a split here is never smaller than on native.)
  static constexpr double kMinTaskNs = 5e3;
  static constexpr double kMinSplitNsAwake = 10e3;
  static constexpr double kMinSplitNsAsleep = 60e3;
  size_t threads_for(double work_ns) const {
    const size_t n = threads();
    if (n <= 1 || work_ns < kMinSplitNsAsleep) return 1;
    const size_t wanted = static_cast<size_t>(work_ns / kMinSplitNsAwake);
    return wanted < n ? (wanted < 2 ? 2 : wanted) : n;
  }

  // A worker instance's life: claims the tasks of each job published until stop() (returns then).
  // A worker belongs to the generation current when it started: stop() ends that generation, so
  // workers started after it (setNumThreads raising the count again) never meet a stopped flag
  // meant for their predecessors, and a predecessor that wakes late never claims their tasks.
  void worker_loop();
  void stop();
  // True on a worker instance's thread (thread-local), false on the JS thread that called in.
  static bool on_worker();
  // Tasks the workers (not the caller) have run since the module started: tests check that the
  // work really was shared.
  uint32_t worker_tasks() const { return worker_tasks_.load(std::memory_order_relaxed); }
  // Called by a worker's loader when its instance trapped: the caller's parallel_for then traps
  // too (a BackendError in JS) rather than wait forever for tasks nobody will finish.
  void worker_failed();
  bool workers_failed() const { return worker_failed_.load(std::memory_order_acquire) != 0; }

 private:
  ThreadPool() = default;
  // Claims and runs tasks of job `id` until none is left; returns how many it ran.
  size_t run_tasks(uint32_t id);

  // One job's fields, in two slots by job id parity: the fields of job id + 1 are written while a
  // late thread may still read job id - 1's slot, never job id's.
  struct Job {
    const std::function<void(size_t)>* fn = nullptr;
    size_t count = 0;
  };
  Job jobs_[2];
  // (job id << 32) | next task index: a claim is a compare-and-swap that fails once the job it
  // read has been replaced, so a late thread never runs a task of the wrong job.
  std::atomic<uint64_t> claim_{0};
  std::atomic<uint32_t> published_{0};  // the current job id; workers wait on it
  std::atomic<uint32_t> done_{0};       // tasks of the current job finished; the caller waits on it
  std::atomic<uint32_t> generation_{0};  // stop() increments it; workers wait on published_
  std::atomic<uint32_t> worker_failed_{0};
  std::atomic<uint32_t> worker_tasks_{0};
  std::atomic<size_t> threads_{1};
  std::atomic<uint32_t> in_job_{0};  // a parallel_for from inside a task runs inline
};

}  // namespace convnode
