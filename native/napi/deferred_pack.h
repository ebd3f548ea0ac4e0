// The packLater life cycle the wrapped layers share (Conv2d, Linear): the constructor checks its
// arguments and starts a packing job on a libuv thread (a large model's weights load without
// blocking the event loop); pack() hands out the job's promise; finishPack() installs what the
// job made, on the JS thread, or throws its error typed as the constructor would have thrown it;
// release() forgets the job (one still running keeps its own state and drops its result).
#pragma once
#include <napi.h>

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "arguments.h"
#include "async_job.h"

namespace convnode {

// How the errors name the object: class "Conv2d" and noun "conv", or "Linear" and "Linear".
struct PackNames {
  const char* js_class;
  const char* noun;
};

template <typename Packed>
class DeferredPack {
 public:
  using Make = std::function<std::shared_ptr<const Packed>()>;

  // Starts `make` on a libuv thread. It may only read what `memory` names (the weight arrays);
  // `keep_alive` holds them (and the JS object) until the job settles.
  void start(Napi::Env env, Make make, const std::vector<Napi::Value>& keep_alive, JobMemory memory) {
    auto job = std::make_shared<Job>();
    job->make = std::move(make);
    Napi::Promise promise = AsyncJob::start(
        env,
        [job] {
          try {
            job->result = job->make();
          } catch (...) {
            job->failure = std::current_exception();  // rethrown, typed, by finish() on the JS thread
          }
          job->done.store(true, std::memory_order_release);
        },
        keep_alive, std::move(memory));
    promise_ = Napi::Persistent(Napi::Value(promise));
    job_ = std::move(job);
  }

  // pack(): the job's promise, which resolves once it finished, well or not.
  Napi::Value promise(Napi::Env env, PackNames names) const {
    if (!job_ || promise_.IsEmpty()) {
      throw Napi::Error::New(env, std::string(names.js_class) + ".pack: only a " + names.noun +
                                      " made with packLater and not yet finished or released packs");
    }
    return promise_.Value();
  }

  // finishPack(): what the job made; afterwards this holds nothing. `released`: release() ran.
  std::shared_ptr<const Packed> finish(Napi::Env env, PackNames names, bool released) {
    const std::string prefix = std::string(names.js_class) + ".finishPack: ";
    if (!job_) throw Napi::Error::New(env, prefix + (released ? "this " + std::string(names.noun) + " was released" : "nothing to finish"));
    if (!job_->done.load(std::memory_order_acquire)) {
      throw Napi::Error::New(env, prefix + "the packing job has not finished (await pack() first)");
    }
    const std::shared_ptr<Job> job = std::move(job_);
    promise_.Reset();
    if (job->failure) {
      translate_errors(env, [&] {
        try {
          std::rethrow_exception(job->failure);
        } catch (const std::bad_alloc&) {
          throw Napi::Error::New(env, std::string(names.js_class) + ": out of memory while packing the weights");
        }
      });
    }
    return std::move(job->result);
  }

  // release(): forget the job and its promise.
  void reset() {
    promise_.Reset();
    job_.reset();
  }

 private:
  // Written by the job's thread, read on the JS thread after `done` (release / acquire).
  struct Job {
    Make make;
    std::shared_ptr<const Packed> result;
    std::exception_ptr failure;
    std::atomic<bool> done{false};
  };

  std::shared_ptr<Job> job_;               // set by start() until finish() or reset()
  Napi::Reference<Napi::Value> promise_;   // the job's promise, until then (JS thread only)
};

}  // namespace convnode
