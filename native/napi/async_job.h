// Runs a prepared closure on a libuv worker thread and settles a Promise on the JS thread.
// The typed arrays the closure reads and writes are held by references until it settles, so
// GC cannot collect them mid-run.
#pragma once
#include <napi.h>

#include <functional>
#include <utility>
#include <vector>

namespace convnode {

class AsyncJob : public Napi::AsyncWorker {
 public:
  // Queues the job and returns its promise.
  static Napi::Promise start(Napi::Env env, std::function<void()> work, const std::vector<Napi::Value>& keep_alive) {
    auto* job = new AsyncJob(env, std::move(work), keep_alive);
    Napi::Promise promise = job->deferred_.Promise();
    job->Queue();
    return promise;
  }

 protected:
  void Execute() override {
    try {
      work_();
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  AsyncJob(Napi::Env env, std::function<void()> work, const std::vector<Napi::Value>& keep_alive)
      : Napi::AsyncWorker(env, "convnode:forward"), work_(std::move(work)), deferred_(Napi::Promise::Deferred::New(env)) {
    for (const Napi::Value& v : keep_alive) {
      if (v.IsObject()) references_.push_back(Napi::Persistent(v.As<Napi::Object>()));
    }
  }

  std::function<void()> work_;
  Napi::Promise::Deferred deferred_;
  std::vector<Napi::ObjectReference> references_;
};

}  // namespace convnode
