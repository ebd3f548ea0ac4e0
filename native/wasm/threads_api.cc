// The threaded wasm build's extra C ABI (scripts/build-wasm.mjs --threads): what the loader's
// worker threads and lib/backends/wasm-threads.ts call to start, park and stop the pool.
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "../runtime/thread_pool.h"

#define CN_EXPORT(name) extern "C" __attribute__((export_name(#name), visibility("default")))

using convnode::ThreadPool;

// Called on the JS thread once the workers are started: parallel_for splits over n threads.
CN_EXPORT(cn_threads_set) void cn_threads_set(size_t n) { ThreadPool::instance().set_threads(n); }
CN_EXPORT(cn_threads) size_t cn_threads() { return ThreadPool::instance().threads(); }
CN_EXPORT(cn_worker_tasks) uint32_t cn_worker_tasks() { return ThreadPool::instance().worker_tasks(); }
// 1 once a worker trapped (cn_worker_failed): the loader's error then says a worker failed.
CN_EXPORT(cn_workers_failed) uint32_t cn_workers_failed() { return ThreadPool::instance().workers_failed() ? 1 : 0; }

// A worker instance's whole life: returns when cn_threads_stop is called (the workers started
// after that, by a later cn_threads_set, belong to the next generation and keep running).
CN_EXPORT(cn_worker_loop) void cn_worker_loop() { ThreadPool::instance().worker_loop(); }

CN_EXPORT(cn_threads_stop) void cn_threads_stop() {
  ThreadPool::instance().set_threads(1);
  ThreadPool::instance().stop();
}

// Test hook (test/wasm-threads.test.ts): a parallel_for of `count` tasks in which a task run by a
// worker traps, as a kernel bug would. A task on the calling thread waits (up to ~2 s) for a
// worker to take one, so the trap really happens on a worker. The call must then fail with a
// BackendError instead of waiting for the lost task. Never called by the loader.
CN_EXPORT(cn_test_worker_trap) void cn_test_worker_trap(size_t count) {
  std::atomic<uint32_t> worker_started{0};
  ThreadPool::instance().parallel_for(count, [&](size_t) {
    if (ThreadPool::on_worker()) {
      worker_started.store(1, std::memory_order_release);
      __builtin_trap();
    }
    for (uint32_t spin = 0; spin < 2000000000u && worker_started.load(std::memory_order_acquire) == 0; spin++) {
    }
  });
}

// The worker loader's test import (lib/backends/wasm-threads.ts): on a worker it ends the thread
// with process.exit, as a worker that dies without trapping would (no wasm trap, no catch runs);
// the main thread's import refuses.
extern "C" __attribute__((import_module("convnode"), import_name("test_worker_exit"))) void convnode_test_worker_exit();

// Test hook (test/wasm-threads.test.ts): a parallel_for of `count` tasks in which the worker that
// takes a task dies in it without trapping (its thread exits from JS). The call must then fail with
// a BackendError instead of waiting forever for the task the dead worker claimed. Never called by
// the loader.
CN_EXPORT(cn_test_worker_exit) void cn_test_worker_exit(size_t count) {
  std::atomic<uint32_t> worker_started{0};
  ThreadPool::instance().parallel_for(count, [&](size_t) {
    if (ThreadPool::on_worker()) {
      worker_started.store(1, std::memory_order_release);
      convnode_test_worker_exit();
      return;
    }
    for (uint32_t spin = 0; spin < 2000000000u && worker_started.load(std::memory_order_acquire) == 0; spin++) {
    }
  });
}

// A worker's loader calls this when its instance trapped: the JS thread, waiting for that
// worker's tasks, traps too (a BackendError in JS) instead of waiting forever.
CN_EXPORT(cn_worker_failed) void cn_worker_failed() {
  ThreadPool::instance().set_threads(1);
  ThreadPool::instance().worker_failed();
}
