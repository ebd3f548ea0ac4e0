#include "async_job.h"

#include <exception>
#include <memory>

namespace convnode {

namespace {

void check(Napi::Env env, napi_status status, const char* what) {
  if (status != napi_ok) throw Napi::Error::New(env, std::string("convnode: could not queue the job: ") + what);
}

}  // namespace

Napi::Promise AsyncJob::start(Napi::Env env, std::function<void()> work, const std::vector<Napi::Value>& keep_alive) {
  auto job = std::make_unique<AsyncJob>();
  job->work_ = std::move(work);
  napi_value promise;
  check(env, napi_create_promise(env, &job->deferred_, &promise), "napi_create_promise");
  for (const Napi::Value& v : keep_alive) {
    if (!v.IsObject()) continue;
    napi_ref ref;
    if (napi_create_reference(env, v, 1, &ref) != napi_ok) {
      job->drop_references(env);
      check(env, napi_generic_failure, "napi_create_reference");
    }
    job->references_.push_back(ref);
  }
  napi_value name = Napi::String::New(env, "convnode:forward");
  if (napi_create_async_work(env, nullptr, name, execute, complete, job.get(), &job->async_work_) != napi_ok ||
      napi_queue_async_work(env, job->async_work_) != napi_ok) {
    job->drop_references(env);
    check(env, napi_generic_failure, "napi_queue_async_work");
  }
  job.release();  // owned by libuv until complete()
  return Napi::Promise(env, promise);
}

void AsyncJob::execute(napi_env, void* data) {
  auto* job = static_cast<AsyncJob*>(data);
  try {
    job->work_();
  } catch (const std::exception& e) {
    job->error_ = e.what()[0] != '\0' ? e.what() : "convnode: native kernel failed";
  } catch (...) {
    job->error_ = "convnode: native kernel failed";
  }
}

// On the JS thread. Every call's status is ignored on purpose: during environment teardown
// (a terminated worker) they fail, and there is nobody left to tell.
void AsyncJob::complete(napi_env env, napi_status status, void* data) {
  std::unique_ptr<AsyncJob> job(static_cast<AsyncJob*>(data));
  if (status == napi_ok && job->error_.empty()) {
    napi_value undefined;
    if (napi_get_undefined(env, &undefined) == napi_ok) napi_resolve_deferred(env, job->deferred_, undefined);
  } else {
    const std::string message = status == napi_ok ? job->error_ : "convnode: the job was cancelled";
    napi_value text, error;
    if (napi_create_string_utf8(env, message.c_str(), message.size(), &text) == napi_ok &&
        napi_create_error(env, nullptr, text, &error) == napi_ok) {
      napi_reject_deferred(env, job->deferred_, error);
    }
  }
  job->deferred_ = nullptr;
  job->drop_references(env);
}

void AsyncJob::drop_references(napi_env env) {
  for (napi_ref ref : references_) napi_delete_reference(env, ref);
  references_.clear();
  if (async_work_ != nullptr) napi_delete_async_work(env, async_work_);
  async_work_ = nullptr;
}

}  // namespace convnode
