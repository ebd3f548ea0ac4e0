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

  // Batches: between begin_batch and end_batch on a JS thread, start() only collects its jobs;
  // end_batch queues them as ONE job that runs them in call order on one libuv thread, then
  // settles each one's promise. A model's run is one batch (lib/onnx/plan.ts), so it costs one
  // hop off the JS thread and one back, whatever its number of steps: queued one by one, a
  // step that found its predecessor already finished went to libuv on its own (another wake-up,
  // often another core), which on small models cost more than their kernels. Call order is a
  // valid order: each job's predecessors were started before it. Nested begins are counted.
  static void begin_batch();
  static void end_batch(Napi::Env env);
  struct Batch;  // the jobs collected since begin_batch (async_job.cc)

  // Recordings: between begin_record and end_record, start() parses and checks each call as
  // usual but neither queues nor runs it: its promise resolves at once, and the job (its kernel
  // closure, its memory and the references that keep its arrays alive) joins the recording.
  // replay() queues the recorded calls, in order, as ONE job with one promise, as often as
  // wanted; inside an open batch it is one member of the batch. A model plan records the steps
  // of each arena once (their arrays never change) and then makes one call per run instead of
  // one per step: no per-step argument parsing, promise or reference (lib/onnx/plan.ts).
  struct Recording {
    std::vector<std::shared_ptr<AsyncJob>> jobs;
    JobMemory memory;
  };
  static void begin_record();
  // The calls recorded since begin_record (throws if none is open).
  static std::shared_ptr<Recording> end_record(Napi::Env env);
  // Frees what the recorded calls hold (their references): when the recording is collected.
  static void release(Napi::Env env, Recording& recording);
  static Napi::Promise replay(Napi::Env env, const std::shared_ptr<Recording>& recording, Napi::Value keep_alive);
  // Runs the recorded calls in order on this thread (inside a job's work); throws the first
  // call's failure after the rest ran, as replay() reports it.
  static void run_recorded(const Recording& recording);

  AsyncJob() = default;

 private:
  enum class State { Waiting, Running, Done };

  static void enqueue(Napi::Env env, const std::shared_ptr<AsyncJob>& job);
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
  // A batch's carrier: the collected jobs it runs in order (and settles). Set before queueing.
  std::vector<std::shared_ptr<AsyncJob>> members_;
  // JS thread only.
  std::shared_ptr<AsyncJob> self_;                     // alive until settled
  bool settled_ = false;
};

}  // namespace convnode
