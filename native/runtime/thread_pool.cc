#include "thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <exception>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#include <time.h>
#endif

namespace convnode {

struct ThreadPool::Job {
  const std::function<void(size_t)>* fn;
  size_t count;
  std::atomic<size_t> next{0};
  std::atomic<size_t> done{0};
  std::mutex mutex;
  std::condition_variable finished;
  std::exception_ptr error;
};

ThreadPool& ThreadPool::instance() {
  // Never destroyed: at process exit a libuv thread may still be inside parallel_for, and a
  // destructor joining workers (or freeing the mutex) under it would crash the exit.
  static ThreadPool* pool = new ThreadPool();
  return *pool;
}

namespace {

// What os.availableParallelism() reports: the CPUs this process may run on.
size_t available_parallelism() {
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
#endif
  return std::max<size_t>(1, std::thread::hardware_concurrency());
}

// One polling step: tells the core this is a spin loop (x86 PAUSE: less power, and no memory-order
// misspeculation when the flag changes).
inline void spin_pause() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Polls `ready` for up to `us` microseconds; true as soon as it holds. Between bursts of polls
// it yields the core: on an idle core that returns at once, on an overloaded machine it lets a
// runnable thread (often this pool's own caller, still finishing its share) run instead of the
// poller.
template <typename Ready>
bool spin_until(size_t us, const Ready& ready) {
  if (us == 0) return ready();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(us);
  for (;;) {
    for (int i = 0; i < 64; i++) {
      if (ready()) return true;
      spin_pause();
    }
    if (std::chrono::steady_clock::now() >= deadline) return ready();
    std::this_thread::yield();
  }
}

// Off unless CONVNODE_SPIN_US asks: on the overloaded 2-core VM (load ~19) 50 us of polling made
// 2-thread batch-1 runs 1.07-1.86x slower in wall time (a poller holds a core the caller needs),
// and at load ~10 it was within the noise; on an idle server it saves a wake-up per layer.
constexpr size_t kDefaultSpinUs = 0;

size_t spin_us_from_env() {
  const char* value = std::getenv("CONVNODE_SPIN_US");
  if (value == nullptr || *value == '\0') return kDefaultSpinUs;
  char* end = nullptr;
  const unsigned long us = std::strtoul(value, &end, 10);
  return *end == '\0' ? std::min<unsigned long>(us, 10000) : kDefaultSpinUs;
}

std::atomic<bool> counting_shared{false};
std::atomic<uint64_t> shared_cpu_ns{0};
std::atomic<uint64_t> shared_jobs{0};

// This thread's CPU time in ns (0 where there is no per-thread clock).
uint64_t thread_cpu_ns() {
#if defined(__linux__)
  timespec t;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) == 0) return static_cast<uint64_t>(t.tv_sec) * 1000000000u + static_cast<uint64_t>(t.tv_nsec);
#endif
  return 0;
}

}  // namespace

void ThreadPool::count_shared_work(bool on) {
  if (on) {
    shared_cpu_ns.store(0);
    shared_jobs.store(0);
  }
  counting_shared.store(on);
}

ThreadPool::ShareCounters ThreadPool::shared_work() {
  return {shared_cpu_ns.load(), shared_jobs.load()};
}

ThreadPool::ThreadPool() : spin_us_(spin_us_from_env()) { set_threads(available_parallelism()); }

ThreadPool::~ThreadPool() { stop_workers(); }

size_t ThreadPool::threads() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return threads_;
}

void ThreadPool::set_threads(size_t n) {
  if (n < 1) n = 1;
  std::lock_guard<std::mutex> resize(resize_mutex_);
  stop_workers();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    threads_ = n;
  }
  start_workers(n - 1);
}

void ThreadPool::start_workers(size_t count) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = false;
  }
  for (size_t i = 0; i < count; i++) workers_.emplace_back([this] { worker_loop(); });
}

void ThreadPool::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
}

// One shared atomic per task claimed (tasks are runs of tiles, rows or planes, never single
// tiles), and one per thread per job for the count of finished tasks.
void ThreadPool::run_tasks(Job& job) {
  const bool counting = counting_shared.load(std::memory_order_relaxed);
  const uint64_t cpu_start = counting ? thread_cpu_ns() : 0;
  size_t finished = 0;
  for (;;) {
    const size_t i = job.next.fetch_add(1, std::memory_order_relaxed);
    if (i >= job.count) break;
    try {
      (*job.fn)(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(job.mutex);
      if (!job.error) job.error = std::current_exception();
    }
    finished++;
  }
  if (finished == 0) return;
  // Once per thread per job, before this thread's tasks are reported done (so a reader that
  // saw the job finish sees them counted).
  if (counting) shared_cpu_ns.fetch_add(thread_cpu_ns() - cpu_start, std::memory_order_relaxed);
  // Release: the caller that sees done == count also sees every output this thread wrote.
  if (job.done.fetch_add(finished, std::memory_order_acq_rel) + finished == job.count) {
    std::lock_guard<std::mutex> lock(job.mutex);
    job.finished.notify_all();
  }
}

void ThreadPool::worker_loop() {
#if defined(__linux__)
  // Named so perf, top -H and bench/thread-share.mjs can tell the pool's threads from libuv's.
  pthread_setname_np(pthread_self(), "convnode-pool");
#endif
  for (;;) {
    std::shared_ptr<Job> job;
    // Poll first: the next layer's job usually comes within microseconds of the last one.
    spin_until(spin_us_, [this] { return queued_.load(std::memory_order_acquire) > 0; });
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = queue_.front();
      // Every task of this job is claimed: retire it so nobody picks it again.
      if (job->next.load() >= job->count) {
        queue_.pop_front();
        queued_.fetch_sub(1, std::memory_order_relaxed);
        continue;
      }
    }
    run_tasks(*job);
  }
}

void ThreadPool::parallel_for(size_t count, const std::function<void(size_t)>& fn) {
  if (count == 0) return;
  size_t helpers;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    helpers = threads_ - 1;  // workers_ itself is only touched under resize_mutex_
  }
  if (count == 1 || helpers == 0) {
    for (size_t i = 0; i < count; i++) fn(i);
    return;
  }
  if (counting_shared.load(std::memory_order_relaxed)) shared_jobs.fetch_add(1, std::memory_order_relaxed);
  auto job = std::make_shared<Job>();
  job->fn = &fn;
  job->count = count;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(job);
    queued_.fetch_add(1, std::memory_order_release);
  }
  // (A notify with no sleeping worker costs no system call.)
  if (count - 1 >= helpers) {
    wake_.notify_all();
  } else {
    for (size_t i = 0; i + 1 < count; i++) wake_.notify_one();
  }
  run_tasks(*job);
  const auto all_done = [&] { return job->done.load(std::memory_order_acquire) == job->count; };
  if (!spin_until(spin_us_ / 4, all_done)) {
    std::unique_lock<std::mutex> lock(job->mutex);
    job->finished.wait(lock, all_done);
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = std::find(queue_.begin(), queue_.end(), job);
    if (it != queue_.end()) {
      queue_.erase(it);
      queued_.fetch_sub(1, std::memory_order_relaxed);
    }
  }
  if (job->error) std::rethrow_exception(job->error);
}

}  // namespace convnode
