// Runs a prepared closure on a libuv worker thread and settles a Promise on the JS thread.
// The typed arrays the closure reads and writes are held by references until it settles, so GC
// cannot collect them mid-run. Written on the C API rather than Napi::AsyncWorker: when a
// worker_thread is terminated mid-run, the completion comes during environment teardown, where
// settling the promise fails; that must be ignored, not thrown through libuv (std::terminate).
#pragma once
#include <napi.h>

#include <functional>
#include <string>
#include <vector>

namespace convnode {

class AsyncJob {
 public:
  // Queues the job and returns its promise. Throws a JS error if it cannot be queued.
  static Napi::Promise start(Napi::Env env, std::function<void()> work, const std::vector<Napi::Value>& keep_alive);

 private:
  static void execute(napi_env env, void* data);
  static void complete(napi_env env, napi_status status, void* data);
  void drop_references(napi_env env);

  std::function<void()> work_;
  napi_async_work async_work_ = nullptr;
  napi_deferred deferred_ = nullptr;
  std::vector<napi_ref> references_;
  std::string error_;  // set by execute when the closure threw
};

}  // namespace convnode
