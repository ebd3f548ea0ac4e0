// The threaded wasm build's pool (see thread_pool_shared.h). Compiled only by
// scripts/build-wasm.mjs --threads.
#include "thread_pool_shared.h"

#include "memory_view.h"

namespace convnode {

namespace {

constexpr uint64_t kIndexMask = 0xffffffffu;

thread_local bool tls_on_worker = false;

// memory.atomic.wait32: sleeps while *address == expected (or until notified). The JS thread may
// wait too: Node allows Atomics.wait on its main thread.
void wait_while_equal(std::atomic<uint32_t>& value, uint32_t expected) {
  __builtin_wasm_memory_atomic_wait32(reinterpret_cast<int32_t*>(&value), static_cast<int32_t>(expected), -1);
}

void wake_all(std::atomic<uint32_t>& value) {
  __builtin_wasm_memory_atomic_notify(reinterpret_cast<int32_t*>(&value), 0xffffffffu);
}

}  // namespace

ThreadPool& ThreadPool::instance() {
  static ThreadPool pool;
  return pool;
}

// After a worker failed, the module stays on its one calling thread (a job that trapped on the
// caller left in_job_ set, so every parallel_for would run inline anyway): threads() says so.
void ThreadPool::set_threads(size_t n) {
  if (worker_failed_.load(std::memory_order_acquire) != 0) n = 1;
  threads_.store(n < 1 ? 1 : n, std::memory_order_relaxed);
}

size_t ThreadPool::run_tasks(uint32_t id) {
  const Job& job = jobs_[id & 1];
  size_t finished = 0;
  uint64_t seen = claim_.load(std::memory_order_acquire);
  for (;;) {
    if ((seen >> 32) != id) break;  // a later job replaced this one
    const size_t index = seen & kIndexMask;
    if (index >= job.count) break;
    if (!claim_.compare_exchange_weak(seen, seen + 1, std::memory_order_acq_rel)) continue;
    // Claimed while job `id` was current: its slot cannot be rewritten until this task is done.
    // The task may fill or copy buffers in memory another thread grew (memory_view.h).
    see_memory_growth();
    (*job.fn)(index);
    finished++;
    seen = claim_.load(std::memory_order_acquire);
  }
  if (finished > 0) {
    // Release: whoever sees done == count also sees this thread's outputs.
    if (done_.fetch_add(finished, std::memory_order_acq_rel) + finished == job.count) wake_all(done_);
  }
  return finished;
}

void ThreadPool::parallel_for(size_t count, const std::function<void(size_t)>& fn) {
  if (count == 0) return;
  // A worker of the last job may have grown the memory (memory_view.h).
  see_memory_growth();
  if (count == 1 || threads() == 1 || in_job_.load(std::memory_order_relaxed) != 0) {
    for (size_t i = 0; i < count; i++) fn(i);
    return;
  }
  in_job_.store(1, std::memory_order_relaxed);
  const uint32_t id = published_.load(std::memory_order_relaxed) + 1;
  jobs_[id & 1] = Job{&fn, count};
  done_.store(0, std::memory_order_relaxed);
  claim_.store(static_cast<uint64_t>(id) << 32, std::memory_order_release);
  published_.store(id, std::memory_order_release);
  wake_all(published_);
  run_tasks(id);
  for (;;) {
    const uint32_t done = done_.load(std::memory_order_acquire);
    if (done == count) break;
    if (worker_failed_.load(std::memory_order_acquire) != 0) __builtin_trap();  // the loader reports it
    wait_while_equal(done_, done);
  }
  in_job_.store(0, std::memory_order_relaxed);
}

bool ThreadPool::on_worker() { return tls_on_worker; }

void ThreadPool::worker_loop() {
  tls_on_worker = true;
  const uint32_t generation = generation_.load(std::memory_order_acquire);
  uint32_t seen = published_.load(std::memory_order_acquire);
  // A worker boots while the caller may already be inside a job (the loader starts workers as the
  // first call runs): it joins that job. A finished job's claims fail on its count; a stale id's
  // (stop()'s, or none yet) on the claim word's job id: run_tasks then returns at once.
  {
    const size_t ran = run_tasks(seen);
    if (ran > 0) worker_tasks_.fetch_add(static_cast<uint32_t>(ran), std::memory_order_relaxed);
  }
  for (;;) {
    while (published_.load(std::memory_order_acquire) == seen && generation_.load(std::memory_order_acquire) == generation) {
      wait_while_equal(published_, seen);
    }
    // Checked after the job changed too: stop() comes before any job of the next generation.
    if (generation_.load(std::memory_order_acquire) != generation) return;
    seen = published_.load(std::memory_order_acquire);
    const size_t ran = run_tasks(seen);
    if (ran > 0) worker_tasks_.fetch_add(static_cast<uint32_t>(ran), std::memory_order_relaxed);
  }
}

void ThreadPool::worker_failed() {
  worker_failed_.store(1, std::memory_order_release);
  wake_all(done_);
}

void ThreadPool::stop() {
  generation_.fetch_add(1, std::memory_order_acq_rel);
  // A new job id too: a worker between its generation check and its wait would otherwise sleep on
  // an unchanged published_ forever. It wakes (or never sleeps), sees the new generation, returns.
  published_.fetch_add(1, std::memory_order_acq_rel);
  wake_all(published_);
}

}  // namespace convnode
