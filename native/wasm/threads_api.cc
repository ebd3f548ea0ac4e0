// The threaded wasm build's extra C ABI (scripts/build-wasm.mjs --threads): what the loader's
// worker threads and lib/backends/wasm-threads.ts call to start, park and stop the pool.
#include <cstddef>
#include <cstdint>

#include "../runtime/thread_pool.h"

#define CN_EXPORT(name) extern "C" __attribute__((export_name(#name), visibility("default")))

using convnode::ThreadPool;

// Called on the JS thread once the workers are started: parallel_for splits over n threads.
CN_EXPORT(cn_threads_set) void cn_threads_set(size_t n) { ThreadPool::instance().set_threads(n); }
CN_EXPORT(cn_threads) size_t cn_threads() { return ThreadPool::instance().threads(); }
CN_EXPORT(cn_worker_tasks) uint32_t cn_worker_tasks() { return ThreadPool::instance().worker_tasks(); }

// A worker instance's whole life: returns when cn_threads_stop is called.
CN_EXPORT(cn_worker_loop) void cn_worker_loop() { ThreadPool::instance().worker_loop(); }

CN_EXPORT(cn_threads_stop) void cn_threads_stop() {
  ThreadPool::instance().set_threads(1);
  ThreadPool::instance().stop();
}

// A worker's loader calls this when its instance trapped: the JS thread, waiting for that
// worker's tasks, traps too (a BackendError in JS) instead of waiting forever.
CN_EXPORT(cn_worker_failed) void cn_worker_failed() {
  ThreadPool::instance().set_threads(1);
  ThreadPool::instance().worker_failed();
}
