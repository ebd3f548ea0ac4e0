#include "async_job.h"

#include <algorithm>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>

#include "../runtime/thread_pool.h"

namespace convnode {

namespace {

void check(Napi::Env env, napi_status status, const char* what) {
  if (status != napi_ok) throw Napi::Error::New(env, std::string("convnode: could not queue the job: ") + what);
}

bool overlaps(const std::vector<MemoryRange>& a, const std::vector<MemoryRange>& b) {
  for (const MemoryRange& x : a) {
    for (const MemoryRange& y : b) {
      if (x.begin < y.end && y.begin < x.end) return true;
    }
  }
  return false;
}

// Jobs queued and not yet finished, oldest first, and the lock over every job's scheduling state.
// Never destroyed, like the thread pool: a libuv thread may still use it at process exit.
struct Scheduler {
  std::mutex mutex;
  std::vector<AsyncJob*> unfinished;
};

Scheduler& scheduler() {
  static Scheduler* instance = new Scheduler();
  return *instance;
}

}  // namespace

struct AsyncJob::Batch {
  size_t depth = 0;
  std::vector<std::shared_ptr<AsyncJob>> jobs;
};

namespace {
// The open batch of this JS thread (each environment has its own thread), or null.
thread_local AsyncJob::Batch* open_batch = nullptr;
// The open recording of this JS thread, or null (its jobs: those recorded so far).
thread_local AsyncJob::Batch* open_recording = nullptr;
}  // namespace

void AsyncJob::begin_record() {
  if (open_recording != nullptr) throw std::logic_error("convnode: a recording is already open");
  open_recording = new Batch();
}

std::shared_ptr<AsyncJob::Recording> AsyncJob::end_record(Napi::Env) {
  if (open_recording == nullptr) throw std::logic_error("convnode: no recording is open");
  std::unique_ptr<Batch> batch(open_recording);
  open_recording = nullptr;
  auto recording = std::make_shared<Recording>();
  for (const std::shared_ptr<AsyncJob>& job : batch->jobs) {
    const JobMemory& m = job->memory_;
    recording->memory.reads.insert(recording->memory.reads.end(), m.reads.begin(), m.reads.end());
    recording->memory.writes.insert(recording->memory.writes.end(), m.writes.begin(), m.writes.end());
  }
  recording->jobs = std::move(batch->jobs);
  return recording;
}

void AsyncJob::release(Napi::Env env, Recording& recording) {
  for (const std::shared_ptr<AsyncJob>& job : recording.jobs) job->drop_references(env);
}

void AsyncJob::run_recorded(const Recording& recording) {
  std::string first_error;
  for (const std::shared_ptr<AsyncJob>& job : recording.jobs) {
    try {
      job->work_();
    } catch (const std::exception& e) {
      if (first_error.empty()) first_error = e.what()[0] != '\0' ? e.what() : "convnode: native kernel failed";
    } catch (...) {
      if (first_error.empty()) first_error = "convnode: native kernel failed";
    }
  }
  if (!first_error.empty()) throw std::runtime_error(first_error);
}

Napi::Promise AsyncJob::replay(Napi::Env env, const std::shared_ptr<Recording>& recording, Napi::Value keep_alive) {
  // Each recorded call's failure is reported as the replay's (the first one); the calls after a
  // failed one still run, as a chain of queued calls would.
  return start(env, [recording] { run_recorded(*recording); }, {keep_alive}, recording->memory);
}

void AsyncJob::begin_batch() {
  if (open_batch == nullptr) open_batch = new Batch();
  open_batch->depth++;
}

void AsyncJob::end_batch(Napi::Env env) {
  if (open_batch == nullptr) return;
  if (--open_batch->depth > 0) return;
  std::unique_ptr<Batch> batch(open_batch);
  open_batch = nullptr;
  if (batch->jobs.empty()) return;
  if (batch->jobs.size() == 1) {
    enqueue(env, batch->jobs.front());
    return;
  }
  // The carrier: no promise of its own; it reads and writes what its members do.
  auto carrier = std::make_shared<AsyncJob>();
  carrier->env_ = env;
  for (const std::shared_ptr<AsyncJob>& job : batch->jobs) {
    const JobMemory& m = job->memory_;
    carrier->memory_.reads.insert(carrier->memory_.reads.end(), m.reads.begin(), m.reads.end());
    carrier->memory_.writes.insert(carrier->memory_.writes.end(), m.writes.begin(), m.writes.end());
  }
  carrier->members_ = std::move(batch->jobs);
  AsyncJob* raw = carrier.get();
  carrier->work_ = [raw] {
    for (const std::shared_ptr<AsyncJob>& job : raw->members_) {
      try {
        job->work_();
      } catch (const std::exception& e) {
        job->error_ = e.what()[0] != '\0' ? e.what() : "convnode: native kernel failed";
      } catch (...) {
        job->error_ = "convnode: native kernel failed";
      }
    }
  };
  carrier->self_ = carrier;
  enqueue(env, carrier);
}

bool AsyncJob::conflicts_with(const AsyncJob& earlier) const {
  if (earlier.env_ != env_) return false;  // other environments' memory is theirs: no ordering
  return overlaps(memory_.writes, earlier.memory_.reads) || overlaps(memory_.writes, earlier.memory_.writes) ||
         overlaps(memory_.reads, earlier.memory_.writes);
}

Napi::Promise AsyncJob::start(Napi::Env env, std::function<void()> work, const std::vector<Napi::Value>& keep_alive,
                              JobMemory memory) {
  auto job = std::make_shared<AsyncJob>();
  job->work_ = std::move(work);
  job->env_ = env;
  job->memory_ = std::move(memory);
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
  if (open_recording != nullptr) {
    // Recorded, not run: the call's promise resolves now; replay() runs it later.
    napi_value undefined;
    napi_get_undefined(env, &undefined);
    napi_resolve_deferred(env, job->deferred_, undefined);
    job->deferred_ = nullptr;
    open_recording->jobs.push_back(job);
    return Napi::Promise(env, promise);
  }
  job->self_ = job;  // owned by itself until settled on the JS thread
  if (open_batch != nullptr) {
    open_batch->jobs.push_back(job);
    return Napi::Promise(env, promise);
  }
  enqueue(env, job);
  return Napi::Promise(env, promise);
}

// Registers a job with the scheduler (after every earlier conflicting job) and queues it on
// libuv when nothing is ahead of it. On failure the job's promise (and its members') is rejected.
void AsyncJob::enqueue(Napi::Env env, const std::shared_ptr<AsyncJob>& job) {
  bool ready;
  {
    Scheduler& s = scheduler();
    std::lock_guard<std::mutex> lock(s.mutex);
    for (AsyncJob* earlier : s.unfinished) {
      if (job->conflicts_with(*earlier)) {
        job->unfinished_before_++;
        earlier->after_me_.push_back(job);
      }
    }
    s.unfinished.push_back(job.get());
    ready = job->unfinished_before_ == 0;
  }
  // A job that waits for others never goes to libuv: the thread finishing the last of them runs
  // it, and that libuv job's completion settles it. (Nothing can claim a ready job before it is
  // queued: it has no predecessors.)
  if (ready) {
    napi_value name = Napi::String::New(env, "convnode:forward");
    if (napi_create_async_work(env, nullptr, name, execute, complete, job.get(), &job->async_work_) != napi_ok ||
        napi_queue_async_work(env, job->async_work_) != napi_ok) {
      // Its promise (or its members') rejects: it may already be in the caller's hands.
      job->unregister();
      const std::string error = "convnode: could not queue the job: napi_queue_async_work";
      std::vector<std::shared_ptr<AsyncJob>> members = std::move(job->members_);
      job->error_ = error;
      job->settle(env, false);
      for (const std::shared_ptr<AsyncJob>& member : members) {
        member->error_ = error;
        member->settle(env, false);
      }
    }
  }
}

// Takes a job that was never run back out of the scheduler (its queueing failed).
void AsyncJob::unregister() {
  Scheduler& s = scheduler();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.unfinished.erase(std::remove(s.unfinished.begin(), s.unfinished.end(), this), s.unfinished.end());
  for (AsyncJob* other : s.unfinished) {
    auto& list = other->after_me_;
    list.erase(std::remove_if(list.begin(), list.end(), [this](const std::shared_ptr<AsyncJob>& j) { return j.get() == this; }),
               list.end());
  }
}

// Runs `first`, then every job that its completion (and theirs) made ready, on this thread.
void AsyncJob::run_ready(const std::shared_ptr<AsyncJob>& first, AsyncJob* runner) {
  std::vector<std::shared_ptr<AsyncJob>> ready = {first};
  while (!ready.empty()) {
    std::shared_ptr<AsyncJob> job = std::move(ready.back());
    ready.pop_back();
    try {
      job->work_();
    } catch (const std::exception& e) {
      job->error_ = e.what()[0] != '\0' ? e.what() : "convnode: native kernel failed";
    } catch (...) {
      job->error_ = "convnode: native kernel failed";
    }
    Scheduler& s = scheduler();
    std::lock_guard<std::mutex> lock(s.mutex);
    job->state_ = State::Done;
    s.unfinished.erase(std::find(s.unfinished.begin(), s.unfinished.end(), job.get()));
    for (std::shared_ptr<AsyncJob>& next : job->after_me_) {
      if (--next->unfinished_before_ == 0 && next->state_ == State::Waiting) {
        next->state_ = State::Running;
        ready.push_back(next);
      }
    }
    job->after_me_.clear();
    if (job.get() != runner) runner->ran_here_.push_back(job);
  }
}

// On a libuv thread. Only jobs with nothing to wait for are queued, so it runs.
void AsyncJob::execute(napi_env, void* data) {
  auto* job = static_cast<AsyncJob*>(data);
  std::shared_ptr<AsyncJob> self;
  {
    Scheduler& s = scheduler();
    std::lock_guard<std::mutex> lock(s.mutex);
    if (job->state_ != State::Waiting) return;
    job->state_ = State::Running;
    self = job->self_;
  }
  // One run of the pool (thread_pool.h): its workers poll between this job's kernel calls.
  ThreadPool::RunScope run;
  run_ready(self, job);
}

// On the JS thread, after execute returned: settles this job and every dependent its thread ran.
// Every call's status is ignored on purpose: during environment teardown (a terminated worker)
// they fail, and there is nobody left to tell.
void AsyncJob::complete(napi_env env, napi_status status, void* data) {
  std::shared_ptr<AsyncJob> job = static_cast<AsyncJob*>(data)->self_;
  {
    Scheduler& s = scheduler();
    std::lock_guard<std::mutex> lock(s.mutex);
    if (job->state_ == State::Waiting) {
      // Cancelled before it ran (environment teardown): it never will, and neither will the
      // jobs waiting for it; nobody is left to await them.
      job->state_ = State::Done;
      s.unfinished.erase(std::find(s.unfinished.begin(), s.unfinished.end(), job.get()));
      for (std::shared_ptr<AsyncJob>& next : job->after_me_) next->unfinished_before_--;
      job->after_me_.clear();
    }
  }
  std::vector<std::shared_ptr<AsyncJob>> ran_here = std::move(job->ran_here_);
  std::vector<std::shared_ptr<AsyncJob>> members = std::move(job->members_);
  const bool cancelled = status != napi_ok;
  job->settle(env, cancelled);
  for (const std::shared_ptr<AsyncJob>& member : members) member->settle(env, cancelled);
  for (const std::shared_ptr<AsyncJob>& other : ran_here) {
    std::vector<std::shared_ptr<AsyncJob>> other_members = std::move(other->members_);
    other->settle(env, false);
    for (const std::shared_ptr<AsyncJob>& member : other_members) member->settle(env, false);
  }
}

void AsyncJob::settle(napi_env env, bool cancelled) {
  if (settled_) return;
  settled_ = true;
  if (deferred_ == nullptr) {
    // A batch's carrier: its members hold the promises.
  } else if (!cancelled && error_.empty()) {
    napi_value undefined;
    if (napi_get_undefined(env, &undefined) == napi_ok) napi_resolve_deferred(env, deferred_, undefined);
  } else {
    const std::string message = cancelled ? "convnode: the job was cancelled" : error_;
    napi_value text, error;
    if (napi_create_string_utf8(env, message.c_str(), message.size(), &text) == napi_ok &&
        napi_create_error(env, nullptr, text, &error) == napi_ok) {
      napi_reject_deferred(env, deferred_, error);
    }
  }
  deferred_ = nullptr;
  drop_references(env);
  self_.reset();  // may free this job: nothing after
}

void AsyncJob::drop_references(napi_env env) {
  for (napi_ref ref : references_) napi_delete_reference(env, ref);
  references_.clear();
  if (async_work_ != nullptr) napi_delete_async_work(env, async_work_);
  async_work_ = nullptr;
}

}  // namespace convnode
