// The thread pool under each wake policy (runtime/thread_pool.h): every task of every job runs
// exactly once, inside runs and outside them, from several callers at once; a task that throws
// is rethrown to its caller and the pool still works; set_threads while other threads post jobs
// neither hangs nor loses a task; the grain rule and the job trace say what they should; jobs
// inside an InlineScope run on their caller.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../runtime/thread_pool.h"
#include "kernels_test.h"

namespace kernels_test {

namespace {

void check(bool ok, const std::string& label) {
  g_checks++;
  if (!ok) {
    g_failures++;
    std::printf("thread pool: FAILED %s\n", label.c_str());
  }
}

const char* policy_name(ThreadPool::WakePolicy p) {
  switch (p) {
    case ThreadPool::WakePolicy::Adaptive: return "adaptive";
    case ThreadPool::WakePolicy::Run: return "run";
    case ThreadPool::WakePolicy::Sleep: return "sleep";
    case ThreadPool::WakePolicy::FixedSpin: return "fixed-spin";
  }
  return "?";
}

// Jobs of 1 to 40 tasks, each task adding its index + 1 to its own slot: every slot must end
// at exactly its index + 1 (a task run twice or never shows).
bool run_jobs(size_t jobs) {
  bool ok = true;
  for (size_t j = 0; j < jobs; j++) {
    const size_t count = 1 + (j * 7) % 40;
    std::vector<std::atomic<size_t>> slots(count);
    for (auto& s : slots) s.store(0);
    ThreadPool::instance().parallel_for(count, [&](size_t i) { slots[i].fetch_add(i + 1); });
    for (size_t i = 0; i < count; i++) ok = ok && slots[i].load() == i + 1;
  }
  return ok;
}

}  // namespace

void test_thread_pool() {
  ThreadPool& pool = ThreadPool::instance();
  const ThreadPool::WakePolicy start_policy = pool.wake_policy();
  const size_t start_threads = pool.threads();
  const ThreadPool::WakePolicy policies[] = {ThreadPool::WakePolicy::Adaptive, ThreadPool::WakePolicy::Run,
                                             ThreadPool::WakePolicy::Sleep, ThreadPool::WakePolicy::FixedSpin};
  for (ThreadPool::WakePolicy policy : policies) {
    pool.set_wake_policy(policy, policy == ThreadPool::WakePolicy::FixedSpin ? 50 : 0);
    const std::string name = policy_name(policy);
    for (size_t threads : {2, 4, 8}) {
      pool.set_threads(threads);
      const std::string at = name + ", " + std::to_string(threads) + " threads";
      check(run_jobs(60), "every task once, outside a run (" + at + ")");
      {
        ThreadPool::RunScope run;
        check(run_jobs(60), "every task once, inside a run (" + at + ")");
      }
      // Three callers at once, each in its own run (concurrent forward() calls).
      std::atomic<bool> all_ok{true};
      std::vector<std::thread> callers;
      for (int c = 0; c < 3; c++) {
        callers.emplace_back([&] {
          ThreadPool::RunScope run;
          if (!run_jobs(40)) all_ok.store(false);
        });
      }
      for (std::thread& t : callers) t.join();
      check(all_ok.load(), "every task once, three concurrent runs (" + at + ")");

      // A throwing task: the caller gets the exception, every other task still ran, and the
      // next job runs normally.
      std::atomic<size_t> ran{0};
      bool threw = false;
      try {
        ThreadPool::RunScope run;
        pool.parallel_for(16, [&](size_t i) {
          ran.fetch_add(1);
          if (i == 5) throw std::runtime_error("task 5");
        });
      } catch (const std::runtime_error& e) {
        threw = std::string(e.what()) == "task 5";
      }
      check(threw && ran.load() == 16, "a throwing task is rethrown, the others run (" + at + ")");
      check(run_jobs(10), "the pool works after a throwing task (" + at + ")");
    }

    // set_threads while two other threads post jobs in runs: nothing hangs or is lost.
    std::atomic<bool> stop{false};
    std::atomic<bool> all_ok{true};
    std::vector<std::thread> callers;
    for (int c = 0; c < 2; c++) {
      callers.emplace_back([&] {
        while (!stop.load()) {
          ThreadPool::RunScope run;
          if (!run_jobs(5)) all_ok.store(false);
        }
      });
    }
    for (size_t i = 0; i < 12; i++) pool.set_threads(1 + i % 4);
    stop.store(true);
    for (std::thread& t : callers) t.join();
    check(all_ok.load(), "set_threads during runs on other threads (" + name + ")");
  }

  // The grain rule: one thread for small work, never more than threads().
  pool.set_wake_policy(ThreadPool::WakePolicy::Sleep);
  pool.set_threads(4);
  // New workers count as awake until they reach their first sleep (a busy or starting worker
  // polls soon, thread_pool.h): give them time to get there.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  check(pool.threads_for(1e3) == 1, "threads_for: 1 us of work stays on the caller");
  check(pool.threads_for(ThreadPool::kMinSplitNsAsleep * 0.9) == 1, "threads_for: under the sleeping-pool threshold");
  check(pool.threads_for(1e9) == 4, "threads_for: a large job uses every thread");
  check(pool.threads_for(ThreadPool::kMinSplitNsAsleep * 1.1) >= 2, "threads_for: over the threshold, split");
  pool.set_threads(1);
  check(pool.threads_for(1e9) == 1, "threads_for: 1 thread");

  // The trace: one record per parallel_for, with its task count and the tasks the workers ran.
  pool.set_threads(2);
  ThreadPool::trace_jobs(true);
  pool.parallel_for(8, [](size_t) {});
  pool.parallel_for(1, [](size_t) {});
  ThreadPool::trace_jobs(false);
  const std::vector<ThreadPool::JobTrace> traced = ThreadPool::traced_jobs();
  check(traced.size() == 2, "trace: two records");
  if (traced.size() == 2) {
    check(traced[0].tasks == 8 && traced[0].threads == 2 && traced[0].helper_tasks <= 8 && traced[0].site != 0 &&
              traced[0].end_ns >= traced[0].post_ns,
          "trace: the split job's record");
    check(traced[1].tasks == 1 && traced[1].helper_tasks == 0, "trace: the inline job's record");
  }

  // InlineScope (image-parallel runs, napi/image_runs.cc): each of a job's tasks opens one and
  // runs a whole nested workload. Inside it the pool reports one thread, so an op splits nothing,
  // and a nested parallel_for runs every task on the calling thread: the pool never nests, and a
  // task never waits for a worker that is itself inside a task (which could deadlock the pool).
  // Scopes nest, and closing the last one restores the real thread count on that thread.
  pool.set_threads(2);
  std::atomic<bool> nested_ok{true};
  std::atomic<size_t> nested_tasks{0};
  pool.parallel_for(8, [&](size_t) {
    const ThreadPool::InlineScope whole_task_here;
    const std::thread::id me = std::this_thread::get_id();
    bool ok = ThreadPool::inline_here() && pool.threads() == 1 && pool.threads_for(1e9) == 1;
    {
      const ThreadPool::InlineScope nested;
      ok = ok && ThreadPool::inline_here() && pool.threads() == 1;
    }
    ok = ok && ThreadPool::inline_here();
    // Each nested task takes 50 us, so that a pool thread that has finished its outer tasks
    // would pick nested tasks up if the nested job were posted to the pool.
    pool.parallel_for(64, [&](size_t) {
      if (std::this_thread::get_id() != me) nested_ok.store(false);
      std::this_thread::sleep_for(std::chrono::microseconds(50));
      nested_tasks.fetch_add(1);
    });
    if (!ok) nested_ok.store(false);
  });
  check(nested_ok.load(), "InlineScope: one thread inside, nested jobs run on the task's own thread");
  check(nested_tasks.load() == 8 * 64, "InlineScope: every nested task ran once");
  check(!ThreadPool::inline_here() && pool.threads() == 2 && pool.threads_for(1e9) == 2,
        "InlineScope: the caller outside any scope still sees two threads");

  pool.set_wake_policy(start_policy);
  pool.set_threads(start_threads);
  std::printf("kernels_test: thread pool: %s\n", g_failures == 0 ? "ok" : "FAILED");
}

}  // namespace kernels_test
