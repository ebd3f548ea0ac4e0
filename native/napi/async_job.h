// Runs a prepared closure on a libuv worker thread and settles a Promise on the JS thread.
// The typed arrays the closure reads and writes are held by references until it settles, so GC
// cannot collect them mid-run. Written on the C API rather than Napi::AsyncWorker: when a
// worker_thread is terminated mid-run, the completion comes during environment teardown, where
// settling the promise fails; that must be ignored, not thrown through libuv (std::terminate).
//
// Ordering: a job runs after every earlier job of the same JS environment whose memory it
// conflicts with (it reads what that one writes, or writes what that one reads or writes) has
// finished; jobs on disjoint memory still run concurrently. So a caller may queue a whole chain
// of dependent kernel calls (a model's layers) without awaiting each. Only a job with nothing to
// wait for goes to libuv; the thread that finishes a job runs the dependents it made ready, and
// their promises settle with that libuv job's completion. A chain of layers then costs one
// round trip through the JS thread instead of one per layer (two thread wake-ups each, ~35 us
// measured on the 2-core VM).
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace convnode {

// Bytes [begin, end) of a typed array a job reads or writes.
struct MemoryRange {
  uintptr_t begin = 0, end = 0;
  static MemoryRange of(const float* data, size_t length) {
    const uintptr_t begin = reinterpret_cast<uintptr_t>(data);
    return {begin, begin + length * sizeof(float)};
  }
};

struct JobMemory {
  std::vector<MemoryRange> reads, writes;
};

class AsyncJob {
 public:
  // Queues the job and returns its promise. Throws a JS error if it cannot be queued.
  static Napi::Promise start(Napi::Env env, std::function<void()> work, const std::vector<Napi::Value>& keep_alive,
                             JobMemory memory);

  AsyncJob() = default;

 private:
  enum class State { Waiting, Running, Done };

  static void execute(napi_env env, void* data);
  static void complete(napi_env env, napi_status status, void* data);
  static void run_ready(const std::shared_ptr<AsyncJob>& first, AsyncJob* runner);
  bool conflicts_with(const AsyncJob& earlier) const;
  void unregister();
  void settle(napi_env env, bool cancelled);
  void drop_references(napi_env env);

  std::function<void()> work_;
  napi_env env_ = nullptr;
  napi_async_work async_work_ = nullptr;
  napi_deferred deferred_ = nullptr;
  std::vector<napi_ref> references_;
  std::string error_;  // set when the closure threw
  JobMemory memory_;

  // Guarded by the scheduler's mutex.
  State state_ = State::Waiting;
  size_t unfinished_before_ = 0;                       // earlier conflicting jobs not yet done
  std::vector<std::shared_ptr<AsyncJob>> after_me_;    // later jobs waiting for this one
  // Written by the worker running this job's execute, read by complete() after it returned.
  std::vector<std::shared_ptr<AsyncJob>> ran_here_;    // dependents this job's thread ran
  // JS thread only.
  std::shared_ptr<AsyncJob> self_;                     // alive until settled
  bool settled_ = false;
};

}  // namespace convnode
