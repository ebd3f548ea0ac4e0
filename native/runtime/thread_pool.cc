#include "thread_pool.h"

#include "cpu_load.h"
#include "pool_clock.h"
#include "pool_trace.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#if defined(__linux__)
#include <pthread.h>
#endif

namespace convnode {

struct ThreadPool::Job {
  const std::function<void(size_t)>* fn;
  size_t count;
  // The claim counter and the done counter are written by every thread of the job: each on its
  // own cache line, so claiming a task does not stall on the line a finishing thread just wrote.
  alignas(64) std::atomic<size_t> next{0};
  alignas(64) std::atomic<size_t> done{0};
  std::mutex mutex;
  std::condition_variable finished;
  std::exception_ptr error;
  // Tracing only (bench/pool-jobs.mjs).
  bool tracing = false;
  std::atomic<uint64_t> first_helper_ns{0};
  std::atomic<uint32_t> helper_tasks{0};
  std::atomic<uint64_t> helper_task_cpu_ns{0};
  uint64_t caller_task_cpu_ns = 0;
  std::vector<uint64_t> task_cpu_ns;  // per task, when tracing (for JobTrace::ideal_span_ns)
};

ThreadPool& ThreadPool::instance() {
  // Never destroyed: at process exit a libuv thread may still be inside parallel_for, and a
  // destructor joining workers (or freeing the mutex) under it would crash the exit.
  static ThreadPool* pool = new ThreadPool();
  return *pool;
}

namespace {

// The longest a worker polls for the next job of a run, and the caller for the helpers' last
// tasks. Within a run the gaps between jobs are the ops that run whole on the caller (a small
// element-wise op, a reshape): microseconds, rarely over 100 us. A worker whose poll ran out
// halves its next budget (down to kMinRunSpinUs) and doubles it back each time a poll finds a
// job, so a run with long serial stretches does not keep a core busy for nothing.
constexpr size_t kRunSpinUs = 200;
constexpr size_t kMinRunSpinUs = 25;
// How long workers poll on after the last open run ends (see end_run).
constexpr uint64_t kLingerNs = 100000;

// A poller checks the clock every 64 pauses (~2 us) and yields the core between checks: on an
// idle core the yield returns at once; when another thread is runnable there, it runs instead.
// A gap of more than kDescheduledNs between two checks means the poller lost its core; it stops,
// and the runs open now poll no more (see oversubscribed() for the next ones).
constexpr uint64_t kDescheduledNs = 30000;

std::atomic<uint64_t> polls_found{0}, polls_timed_out{0}, polls_preempted{0}, worker_sleeps{0}, joins_slept{0},
    spin_total_ns{0}, runs_polled{0}, runs_quiet{0};

// One polling step: tells the core this is a spin loop (x86 PAUSE: less power, and no memory-order
// misspeculation when the flag changes).
inline void spin_pause() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

enum class PollEnd { Ready, TimedOut, Descheduled, Abandoned };

// Polls `ready` for up to `us` microseconds; gives up early when `abandon` holds (the run ended,
// the pool stops) and, if `watch` is set, when the poller was descheduled (kDescheduledNs).
template <typename Ready, typename Abandon>
PollEnd poll_until(size_t us, bool watch, const Ready& ready, const Abandon& abandon) {
  if (ready()) return PollEnd::Ready;
  const uint64_t start = now_ns();
  const uint64_t deadline = start + static_cast<uint64_t>(us) * 1000;
  uint64_t last = start;
  PollEnd end;
  for (;;) {
    for (int i = 0; i < 64; i++) {
      if (ready()) {
        end = PollEnd::Ready;
        goto done;
      }
      spin_pause();
    }
    const uint64_t t = now_ns();
    if (watch && t - last > kDescheduledNs) {
      end = ready() ? PollEnd::Ready : PollEnd::Descheduled;
      goto done;
    }
    if (t >= deadline) {
      end = ready() ? PollEnd::Ready : PollEnd::TimedOut;
      goto done;
    }
    if (abandon()) {
      end = ready() ? PollEnd::Ready : PollEnd::Abandoned;
      goto done;
    }
    last = t;
    std::this_thread::yield();
  }
done:
  const uint64_t stop = now_ns();
  spin_total_ns.fetch_add(stop - start, std::memory_order_relaxed);
  if (end == PollEnd::Descheduled) polls_preempted.fetch_add(1, std::memory_order_relaxed);
  return end;
}

ThreadPool::WakePolicy policy_from_env(size_t& fixed_spin_us) {
  const char* spin = std::getenv("CONVNODE_SPIN_US");
  if (spin != nullptr && *spin != '\0') {
    char* end = nullptr;
    const unsigned long us = std::strtoul(spin, &end, 10);
    if (*end == '\0') {
      fixed_spin_us = std::min<unsigned long>(us, 10000);
      return ThreadPool::WakePolicy::FixedSpin;
    }
  }
  const char* wake = std::getenv("CONVNODE_POOL_WAKE");
  if (wake != nullptr && std::strcmp(wake, "sleep") == 0) return ThreadPool::WakePolicy::Sleep;
  if (wake != nullptr && std::strcmp(wake, "run") == 0) return ThreadPool::WakePolicy::Run;
  return ThreadPool::WakePolicy::Adaptive;
}

// CONVNODE_MIN_SPLIT_US=N (thread_pool.h, threads_for); -1 when unset or not a number.
double min_split_us_from_env() {
  const char* text = std::getenv("CONVNODE_MIN_SPLIT_US");
  if (text == nullptr || *text == '\0') return -1.0;
  char* end = nullptr;
  const unsigned long us = std::strtoul(text, &end, 10);
  return *end == '\0' ? static_cast<double>(std::min<unsigned long>(us, 1000000)) : -1.0;
}

}  // namespace

namespace {
// Open InlineScopes on this thread (a plain int: each thread reads only its own).
thread_local int inline_depth = 0;
}  // namespace

ThreadPool::InlineScope::InlineScope() { inline_depth++; }
ThreadPool::InlineScope::~InlineScope() { inline_depth--; }
bool ThreadPool::inline_here() { return inline_depth > 0; }

ThreadPool::WaitCounters ThreadPool::wait_counters() {
  WaitCounters c;
  c.polls_found = polls_found.load();
  c.polls_timed_out = polls_timed_out.load();
  c.polls_preempted = polls_preempted.load();
  c.sleeps = worker_sleeps.load();
  c.joins_slept = joins_slept.load();
  c.spin_ns = spin_total_ns.load();
  c.runs_polled = runs_polled.load();
  c.runs_quiet = runs_quiet.load();
  return c;
}

void ThreadPool::set_wake_policy(WakePolicy policy, size_t fixed_spin_us) {
  fixed_spin_us_.store(fixed_spin_us);
  policy_.store(policy);
  run_polls_.store(false);
}

void ThreadPool::set_min_split_us(double us) { min_split_override_ns_.store(us < 0 ? -1.0 : us * 1e3); }

ThreadPool::ThreadPool() {
  size_t fixed_spin_us = 0;
  policy_ = policy_from_env(fixed_spin_us);
  set_min_split_us(min_split_us_from_env());
  const char* awake = std::getenv("CONVNODE_GRAIN_AWAKE");
  awake_counts_busy_ = awake == nullptr || std::strcmp(awake, "polling") != 0;
  fixed_spin_us_ = fixed_spin_us;
  cpus_ = available_parallelism();
  set_threads(available_parallelism());
}

ThreadPool::~ThreadPool() { stop_workers(); }

size_t ThreadPool::threads() const {
  if (inline_depth > 0) return 1;
  std::lock_guard<std::mutex> lock(mutex_);
  return threads_;
}

size_t ThreadPool::threads_for(double work_ns) const {
  const size_t n = threads();
  if (n <= 1) return 1;
  const double forced_ns = min_split_override_ns_.load(std::memory_order_relaxed);
  if (forced_ns == 0) return n;
  if (forced_ns > 0) return work_ns < forced_ns ? 1 : std::min(n, std::max<size_t>(2, static_cast<size_t>(work_ns / forced_ns)));
  // Awake: a worker polls now, or (the default) is not asleep: one still running the last job's
  // task polls within microseconds of finishing it, so the next small job need not stay whole on
  // the caller for it (CONVNODE_GRAIN_AWAKE=polling counts pollers only, the rule before).
  const bool awake = awake_counts_busy_ ? sleeping_.load(std::memory_order_relaxed) + 1 < n
                                        : polling_.load(std::memory_order_relaxed) > 0;
  if (work_ns < (awake ? kMinSplitNsAwake : kMinSplitNsAsleep)) return 1;
  return std::min(n, std::max<size_t>(2, static_cast<size_t>(work_ns / kMinSplitNsAwake)));
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
  stopping_.store(false);
  for (size_t i = 0; i < count; i++) workers_.emplace_back([this] { worker_loop(); });
}

void ThreadPool::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_.store(true);
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
}

void ThreadPool::begin_run() {
  runs_open_.fetch_add(1, std::memory_order_acq_rel);
  if (wake_policy() != WakePolicy::Adaptive && wake_policy() != WakePolicy::Run) return;
  // Each run decides, for the runs open with it, whether workers poll (runs overlap on a busy
  // server: the decision is renewed as they come).
  const bool poll = wake_policy() == WakePolicy::Run || !oversubscribed(cpus_);
  (poll ? runs_polled : runs_quiet).fetch_add(1, std::memory_order_relaxed);
  run_polls_.store(poll, std::memory_order_relaxed);
  if (poll && polling_.load(std::memory_order_relaxed) + 1 < threads()) {
    // Wake the workers that sleep now, so they are polling when the run's first job comes (the
    // caller still has that op's own set-up to do) instead of being woken by it.
    {
      std::lock_guard<std::mutex> lock(mutex_);
      run_epoch_++;
    }
    wake_.notify_all();
  }
}

void ThreadPool::end_run() {
  // After the last run, workers poll on for at most kLingerNs (a server's next request often
  // comes that soon: one hop to the JS thread and back), then sleep: an idle server holds no core.
  last_run_end_ns_.store(now_ns(), std::memory_order_relaxed);
  runs_open_.fetch_sub(1, std::memory_order_acq_rel);
}

ThreadPool::RunScope::RunScope() { ThreadPool::instance().begin_run(); }
ThreadPool::RunScope::~RunScope() { ThreadPool::instance().end_run(); }

void ThreadPool::poller_descheduled() {
  if (wake_policy() == WakePolicy::Adaptive) run_polls_.store(false, std::memory_order_relaxed);
}

bool ThreadPool::may_poll() const {
  switch (wake_policy()) {
    case WakePolicy::FixedSpin: return fixed_spin_us_.load() > 0;
    case WakePolicy::Sleep: return false;
    case WakePolicy::Adaptive:
    case WakePolicy::Run:
      return run_polls_.load(std::memory_order_relaxed) &&
             (runs_open_.load(std::memory_order_relaxed) > 0 ||
              now_ns() - last_run_end_ns_.load(std::memory_order_relaxed) < kLingerNs);
  }
  return false;
}

// One shared atomic per task claimed (tasks are runs of tiles, rows or planes, never single
// tiles), and one per thread per job for the count of finished tasks.
void ThreadPool::run_tasks(Job& job, bool helper) {
  const bool counting = pool_trace::counting_shared.load(std::memory_order_relaxed);
  const bool timing = counting || job.tracing;
  uint64_t cpu_start = 0;
  size_t finished = 0;
  for (;;) {
    const size_t i = job.next.fetch_add(1, std::memory_order_relaxed);
    if (i >= job.count) break;
    if (finished == 0 && timing) {
      cpu_start = thread_cpu_ns();
      if (helper && job.tracing) {
        uint64_t none = 0;
        job.first_helper_ns.compare_exchange_strong(none, now_ns(), std::memory_order_relaxed);
      }
    }
    const uint64_t task_start = job.tracing ? thread_cpu_ns() : 0;
    try {
      (*job.fn)(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(job.mutex);
      if (!job.error) job.error = std::current_exception();
    }
    if (job.tracing) job.task_cpu_ns[i] = thread_cpu_ns() - task_start;
    finished++;
  }
  if (finished == 0) return;
  // Once per thread per job, before this thread's tasks are reported done (so a reader that
  // saw the job finish sees them counted).
  if (timing) {
    const uint64_t cpu = thread_cpu_ns() - cpu_start;
    if (counting) pool_trace::shared_cpu_ns.fetch_add(cpu, std::memory_order_relaxed);
    if (job.tracing && helper) {
      job.helper_task_cpu_ns.fetch_add(cpu, std::memory_order_relaxed);
      job.helper_tasks.fetch_add(static_cast<uint32_t>(finished), std::memory_order_relaxed);
    } else if (job.tracing) {
      job.caller_task_cpu_ns = cpu;
    }
  }
  // Release: the caller that sees done == count also sees every output this thread wrote.
  if (job.done.fetch_add(finished, std::memory_order_acq_rel) + finished == job.count) {
    std::lock_guard<std::mutex> lock(job.mutex);
    job.finished.notify_all();
  }
}

// Polls for a job while the policy allows (see the top of thread_pool.h), then takes the
// queue's first job with tasks left, sleeping on wake_ while there is none. Null: stop.
std::shared_ptr<ThreadPool::Job> ThreadPool::next_job(size_t& budget_us) {
  uint64_t seen_epoch = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    seen_epoch = run_epoch_;
  }
  for (;;) {
    if (may_poll() && queued_.load(std::memory_order_acquire) == 0) {
      const size_t us = wake_policy() == WakePolicy::FixedSpin ? fixed_spin_us_.load() : budget_us;
      polling_.fetch_add(1, std::memory_order_relaxed);
      const PollEnd end = poll_until(
          us, wake_policy() == WakePolicy::Adaptive,
          [this] { return queued_.load(std::memory_order_acquire) > 0 || stopping_.load(std::memory_order_relaxed); },
          [this] { return !may_poll(); });
      polling_.fetch_sub(1, std::memory_order_relaxed);
      if (end == PollEnd::Ready) {
        polls_found.fetch_add(1, std::memory_order_relaxed);
        budget_us = std::min(kRunSpinUs, 2 * budget_us);
      } else if (end == PollEnd::TimedOut) {
        polls_timed_out.fetch_add(1, std::memory_order_relaxed);
        budget_us = std::max(kMinRunSpinUs, budget_us / 2);
      } else if (end == PollEnd::Descheduled) {
        poller_descheduled();
      }
    }
    std::unique_lock<std::mutex> lock(mutex_);
    if (queue_.empty() && !stopping_.load() && run_epoch_ == seen_epoch) {
      worker_sleeps.fetch_add(1, std::memory_order_relaxed);
      sleeping_.fetch_add(1, std::memory_order_relaxed);
      wake_.wait(lock, [&] { return stopping_.load() || !queue_.empty() || run_epoch_ != seen_epoch; });
      sleeping_.fetch_sub(1, std::memory_order_relaxed);
    }
    seen_epoch = run_epoch_;
    if (stopping_.load()) return nullptr;
    if (queue_.empty()) continue;  // woken because a run started: poll for its first job
    std::shared_ptr<Job> job = queue_.front();
    if (job->next.load() < job->count) return job;
    // Every task of this job is claimed: retire it so nobody picks it again.
    queue_.pop_front();
    queued_.fetch_sub(1, std::memory_order_relaxed);
  }
}

void ThreadPool::worker_loop() {
#if defined(__linux__)
  // Named so perf, top -H and bench/thread-share.mjs can tell the pool's threads from libuv's.
  pthread_setname_np(pthread_self(), "convnode-pool");
#endif
  size_t budget_us = kRunSpinUs;
  for (;;) {
    std::shared_ptr<Job> job = next_job(budget_us);
    if (!job) return;
    run_tasks(*job, true);
  }
}

void ThreadPool::record(const Job& job, JobTrace t, uint64_t caller_cpu0, uint64_t caller_done, uint64_t end) {
  t.tasks = static_cast<uint32_t>(job.count);
  t.helper_tasks = job.helper_tasks.load();
  t.first_helper_ns = job.first_helper_ns.load();
  t.caller_done_ns = caller_done;
  t.end_ns = end;
  t.caller_cpu_ns = thread_cpu_ns() - caller_cpu0;
  t.caller_task_cpu_ns = job.caller_task_cpu_ns;
  t.helper_task_cpu_ns = job.helper_task_cpu_ns.load();
  if (!job.task_cpu_ns.empty() && t.threads > 1) {
    // Tasks claimed in order by whichever of t.threads threads is free first.
    std::vector<uint64_t> free_at(t.threads, 0);
    for (const uint64_t task : job.task_cpu_ns) *std::min_element(free_at.begin(), free_at.end()) += task;
    t.ideal_span_ns = *std::max_element(free_at.begin(), free_at.end());
  }
  pool_trace::append_trace(t);
}

bool ThreadPool::tracing_jobs() { return pool_trace::tracing_jobs.load(std::memory_order_relaxed); }

#if defined(__GNUC__)
__attribute__((noinline))
#endif
void ThreadPool::run_whole_traced(size_t count, const std::function<void(size_t)>& fn) {
  JobTrace trace;
#if defined(__GNUC__)
  trace.site = pool_trace::site_offset(__builtin_return_address(0));
#endif
  trace.threads = 1;
  const uint64_t cpu0 = thread_cpu_ns();
  trace.post_ns = now_ns();
  for (size_t i = 0; i < count; i++) fn(i);
  Job whole;
  whole.count = count;
  whole.caller_task_cpu_ns = thread_cpu_ns() - cpu0;
  const uint64_t end = now_ns();
  record(whole, trace, cpu0, end, end);
}

#if defined(__GNUC__)
__attribute__((noinline))
#endif
void ThreadPool::parallel_for(size_t count, const std::function<void(size_t)>& fn) {
  if (count == 0) return;
  const bool tracing = pool_trace::tracing_jobs.load(std::memory_order_relaxed);
  size_t threads;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    threads = threads_;  // workers_ itself is only touched under resize_mutex_
  }
  if (inline_depth > 0) threads = 1;  // inside an image-parallel share: no nested jobs
  JobTrace trace;
  uint64_t cpu0 = 0;
  if (tracing) {
#if defined(__GNUC__)
    trace.site = pool_trace::site_offset(__builtin_return_address(0));
#endif
    trace.threads = static_cast<uint32_t>(threads);
    trace.polling_workers = polling_.load(std::memory_order_relaxed);
    cpu0 = thread_cpu_ns();
    trace.post_ns = now_ns();
  }
  const size_t helpers = threads - 1;
  if (count == 1 || helpers == 0) {
    for (size_t i = 0; i < count; i++) fn(i);
    if (tracing) {
      Job inline_job;
      inline_job.count = count;
      inline_job.caller_task_cpu_ns = thread_cpu_ns() - cpu0;
      const uint64_t end = now_ns();
      record(inline_job, trace, cpu0, end, end);
    }
    return;
  }
  if (pool_trace::counting_shared.load(std::memory_order_relaxed)) pool_trace::shared_jobs.fetch_add(1, std::memory_order_relaxed);
  auto job = std::make_shared<Job>();
  job->fn = &fn;
  job->count = count;
  job->tracing = tracing;
  if (tracing) job->task_cpu_ns.assign(count, 0);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(job);
    queued_.fetch_add(1, std::memory_order_release);
  }
  // (A notify with no sleeping worker costs no system call; a polling worker needs none.)
  if (count - 1 >= helpers) {
    wake_.notify_all();
  } else {
    for (size_t i = 0; i + 1 < count; i++) wake_.notify_one();
  }
  run_tasks(*job, false);
  const uint64_t caller_done = tracing ? now_ns() : 0;
  const auto all_done = [&] { return job->done.load(std::memory_order_acquire) == job->count; };
  if (!all_done()) {
    // Every task is claimed now: what is left is at most one task per helper, already running.
    size_t join_us = 0;
    if (wake_policy() == WakePolicy::FixedSpin) join_us = fixed_spin_us_.load() / 4;
    if (wake_policy() != WakePolicy::FixedSpin && may_poll()) join_us = kRunSpinUs;
    PollEnd end = PollEnd::TimedOut;
    if (join_us > 0) end = poll_until(join_us, wake_policy() == WakePolicy::Adaptive, all_done, [] { return false; });
    if (end == PollEnd::Descheduled) poller_descheduled();
    if (end != PollEnd::Ready) {
      joins_slept.fetch_add(1, std::memory_order_relaxed);
      std::unique_lock<std::mutex> lock(job->mutex);
      job->finished.wait(lock, all_done);
    }
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = std::find(queue_.begin(), queue_.end(), job);
    if (it != queue_.end()) {
      queue_.erase(it);
      queued_.fetch_sub(1, std::memory_order_relaxed);
    }
  }
  if (tracing) record(*job, trace, cpu0, caller_done, now_ns());
  if (job->error) std::rethrow_exception(job->error);
}

}  // namespace convnode
