#include "thread_pool.h"

#include <algorithm>
#include <atomic>
#include <exception>

#if defined(__linux__)
#include <sched.h>
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

}  // namespace

ThreadPool::ThreadPool() { set_threads(available_parallelism()); }

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

void ThreadPool::run_tasks(Job& job) {
  for (;;) {
    const size_t i = job.next.fetch_add(1);
    if (i >= job.count) return;
    try {
      (*job.fn)(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(job.mutex);
      if (!job.error) job.error = std::current_exception();
    }
    if (job.done.fetch_add(1) + 1 == job.count) {
      std::lock_guard<std::mutex> lock(job.mutex);
      job.finished.notify_all();
    }
  }
}

void ThreadPool::worker_loop() {
  for (;;) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = queue_.front();
      // Every task of this job is claimed: retire it so nobody picks it again.
      if (job->next.load() >= job->count) {
        queue_.pop_front();
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
  auto job = std::make_shared<Job>();
  job->fn = &fn;
  job->count = count;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(job);
  }
  if (count - 1 >= helpers) {
    wake_.notify_all();
  } else {
    for (size_t i = 0; i + 1 < count; i++) wake_.notify_one();
  }
  run_tasks(*job);
  {
    std::unique_lock<std::mutex> lock(job->mutex);
    job->finished.wait(lock, [&] { return job->done.load() == job->count; });
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = std::find(queue_.begin(), queue_.end(), job);
    if (it != queue_.end()) queue_.erase(it);
  }
  if (job->error) std::rethrow_exception(job->error);
}

}  // namespace convnode
