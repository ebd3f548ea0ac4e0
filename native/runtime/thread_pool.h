// A process-wide pool of worker threads. parallel_for may be called from several threads at
// once (libuv workers running concurrent forward() calls): each call is its own job, the caller
// works on it too, and tasks are claimed one at a time from a shared counter (a task is a run of
// tiles, rows or planes, never one tile).
//
// How workers wait (thread_pool.cc; native/README.md, "Thread pool and the work split"): a
// model's run is a sequence of jobs a few microseconds apart, so waking a sleeping worker for
// each layer (~20 us and very variable on a KVM guest, often more than a small layer's work) is
// what the second thread lost. The default policy ('adaptive') ties polling to runs: RunScope
// marks a run (one libuv job of kernel calls, napi/async_job.cc); its start wakes the workers,
// and while a run is open a worker that finishes a job polls for the next one (an adaptive
// budget, at most 200 us) before it sleeps, and the caller polls for the workers' last tasks
// before it sleeps at the join. When the last run ends they poll on for at most 100 us (a
// server's next request), then sleep, so an idle server holds no core. A run does not poll when the machine is oversubscribed (threads waiting for a CPU:
// Linux PSI, else the load average), where a poller takes a core from work; a poller that loses
// its core stops. CONVNODE_POOL_WAKE=run polls in every run whatever the load, =sleep restores the
// policy before (workers sleep after each job); CONVNODE_SPIN_US=N overrides all with a fixed N us
// poll after every job, run or not (session 5's switch). Scheduling is thread_pool.cc; the load
// sampling is cpu_load.cc, the optional job trace and shared-work counters pool_trace.cc.
#pragma once
#if defined(__wasi__) && defined(__wasm_atomics__)
#include "../wasm/thread_pool_shared.h"  // the threaded wasm build: worker_threads on shared memory
#elif defined(__wasi__)
#include "../wasm/thread_pool_single.h"  // the wasm module's default build: one thread
#else
#include <atomic>
#include <cstdint>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace convnode {

class ThreadPool {
 public:
  static ThreadPool& instance();

  // Total threads a parallel_for uses, the caller included. n >= 1.
  void set_threads(size_t n);
  size_t threads() const;

  // Runs fn(0) ... fn(count - 1), spread over the pool; returns when all are done. Rethrows the
  // first exception a task threw.
  void parallel_for(size_t count, const std::function<void(size_t)>& fn);

  // The one grain rule every op's split follows: how many threads a job of `work_ns` (its
  // estimated 1-thread time) should use. 1 (run it on the caller) when handing out its tasks
  // would cost about what it saves: under kMinSplitNsAwake while a worker is polling (a task
  // reaches it in ~1 us; a worker still busy with the last job's task counts: it polls next),
  // under kMinSplitNsAsleep when they all sleep (~20-60 us to wake one);
  // otherwise one thread per kMinSplitNsAwake of work, up to threads().
  size_t threads_for(double work_ns) const;
  static constexpr double kMinSplitNsAwake = 10e3;
  static constexpr double kMinSplitNsAsleep = 60e3;
  // CONVNODE_MIN_SPLIT_US=N (read at start) replaces both thresholds and the per-thread share
  // with N us, to A/B the rule on a quiet machine; 0 splits every job over every thread the op's
  // own cut allows (what tests use to reach the split paths with small shapes). Set here by
  // tests; a negative value restores the rule.
  void set_min_split_us(double us);
  // The least work a task should hold, for splits that cut by size: a task of ~1 us costs about
  // as much in its claim, its cache misses and its share of the join as it does.
  static constexpr double kMinTaskNs = 5e3;

  // How workers wait between jobs (see the top of this file).
  enum class WakePolicy { Adaptive, Run, Sleep, FixedSpin };
  WakePolicy wake_policy() const { return policy_.load(std::memory_order_relaxed); }
  // Read from the environment at start; set here by tests, to cover every policy in one process.
  // FixedSpin polls fixed_spin_us after every job.
  void set_wake_policy(WakePolicy policy, size_t fixed_spin_us = 0);

  // Marks a run: a sequence of parallel_for calls close together (one libuv job of a model's
  // kernel calls). Runs may overlap (concurrent forward() calls); workers poll while any is open.
  class RunScope {
   public:
    RunScope();
    ~RunScope();
    RunScope(const RunScope&) = delete;
    RunScope& operator=(const RunScope&) = delete;
  };

  // Marks the calling thread as running one image-parallel share of a run (napi/image_runs.cc):
  // while a scope is open on it, parallel_for runs every task inline on it and threads() and
  // threads_for() say 1, so the ops it calls never post jobs to the pool from inside a pool task
  // (the pool never nests: each of the pool's threads runs one share of the images, whole).
  class InlineScope {
   public:
    InlineScope();
    ~InlineScope();
    InlineScope(const InlineScope&) = delete;
    InlineScope& operator=(const InlineScope&) = delete;
  };
  static bool inline_here();

  ~ThreadPool();  // never runs for instance(); see there

  // CPU time spent in tasks of jobs the pool shares out (two or more tasks, two or more threads),
  // summed over the threads that ran them, while counting is on (off by default: two clock reads
  // per thread per job). With the process's CPU time it gives the share of a run that cannot go
  // faster with more threads (bench/thread-share.mjs), measured in CPU time, so the figure holds
  // on a loaded machine where wall-clock speed-ups are noise.
  struct ShareCounters {
    uint64_t shared_cpu_ns = 0;
    uint64_t shared_jobs = 0;
  };
  static void count_shared_work(bool on);
  static ShareCounters shared_work();

  // One parallel_for call, recorded while tracing is on (bench/pool-jobs.mjs): where it was
  // called from, how it was cut, and when things happened (steady clock, ns). Counts and the
  // caller's CPU time are what load does not distort; the latencies are what it does.
  struct JobTrace {
    uintptr_t site = 0;              // return address, as an offset into this binary (addr2line)
    uint32_t tasks = 0;              // count
    uint32_t threads = 0;            // threads() at the call
    uint32_t helper_tasks = 0;       // tasks the pool's workers ran (the caller ran the rest)
    uint32_t polling_workers = 0;    // workers polling (not asleep, not busy) when it was posted
    uint64_t post_ns = 0;            // the job was queued (or, inline, started)
    uint64_t first_helper_ns = 0;    // a worker started its first task (0: none did)
    uint64_t caller_done_ns = 0;     // the caller ran out of tasks to claim
    uint64_t end_ns = 0;             // every task done: parallel_for returns
    uint64_t caller_cpu_ns = 0;      // the caller's CPU time over the call (its tasks + its wait)
    uint64_t caller_task_cpu_ns = 0;  // of it, in tasks
    uint64_t helper_task_cpu_ns = 0;  // the workers' CPU time in this job's tasks
    // The job's span if `threads` threads had claimed its tasks in order from the start, each task
    // taking the CPU time it took here: what the cut allows (uneven tasks), whatever the load did
    // to the wake-ups (split jobs only; 0 otherwise).
    uint64_t ideal_span_ns = 0;
  };
  static void trace_jobs(bool on);
  static std::vector<JobTrace> traced_jobs();
  static bool tracing_jobs();
  // Runs fn(0) ... fn(count - 1) on the caller and records it as a job the grain rule kept whole
  // (threads = 1 in its trace; task_split.h's parallel_for_threads calls it while tracing), so
  // bench/pool-jobs.mjs can name the ops that run serially at T threads.
  void run_whole_traced(size_t count, const std::function<void(size_t)>& fn);

  // Counters of the wait policy since the process started (bench/pool-jobs.mjs).
  struct WaitCounters {
    uint64_t polls_found = 0;      // a worker's poll found a job
    uint64_t polls_timed_out = 0;  // it polled its whole budget, then slept
    uint64_t polls_preempted = 0;  // it (or a caller's join poll) saw it was descheduled
    uint64_t sleeps = 0;           // a worker went to sleep on the condition variable
    uint64_t joins_slept = 0;      // a caller slept for the helpers' last tasks
    uint64_t spin_ns = 0;          // time spent polling, workers and callers
    uint64_t runs_polled = 0;      // runs whose workers polled (adaptive, run)
    uint64_t runs_quiet = 0;       // runs that found the machine oversubscribed (adaptive)
  };
  static WaitCounters wait_counters();

 private:
  struct Job;
  ThreadPool();
  void start_workers(size_t count);
  void stop_workers();
  void worker_loop();
  std::shared_ptr<Job> next_job(size_t& budget_us);
  bool may_poll() const;
  void begin_run();
  void end_run();
  void poller_descheduled();
  void run_tasks(Job& job, bool helper);
  void record(const Job& job, JobTrace trace, uint64_t caller_cpu0, uint64_t caller_done, uint64_t end);

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::atomic<size_t> queued_{0};  // queue_.size(), for polling without the lock
  std::atomic<bool> stopping_{false};
  std::atomic<int> runs_open_{0};
  std::atomic<bool> run_polls_{false};  // workers poll for the open runs' jobs
  std::atomic<uint64_t> last_run_end_ns_{0};
  size_t cpus_ = 1;                       // CPUs this process may run on
  uint64_t run_epoch_ = 0;  // under mutex_: bumped when a run starts, to wake sleeping workers
  std::atomic<uint32_t> polling_{0};  // workers polling right now
  std::atomic<uint32_t> sleeping_{0};  // workers waiting on wake_ right now
  bool awake_counts_busy_ = true;      // threads_for: a busy worker counts as awake (CONVNODE_GRAIN_AWAKE)
  std::atomic<WakePolicy> policy_{WakePolicy::Adaptive};
  std::atomic<size_t> fixed_spin_us_{0};  // FixedSpin's budget (CONVNODE_SPIN_US)
  std::vector<std::thread> workers_;
  std::mutex resize_mutex_;
  size_t threads_ = 1;
  std::atomic<double> min_split_override_ns_{-1.0};  // < 0: the rule's own thresholds
};

}  // namespace convnode
#endif  // !__wasi__
