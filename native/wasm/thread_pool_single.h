// The thread pool of the wasm build (included by runtime/thread_pool.h under __wasi__): WASI
// libc++ has no <thread> and the module runs on the one JS thread that called it, so every
// parallel_for runs its tasks in order on the caller. Same interface as the threaded pool, so
// ops compile unchanged; threads() is always 1, and the ops' task splits then cut no work.
#pragma once
#include <cstddef>
#include <functional>

namespace convnode {

class ThreadPool {
 public:
  static ThreadPool& instance() {
    static ThreadPool pool;
    return pool;
  }
  void set_threads(size_t) {}
  size_t threads() const { return 1; }
  size_t threads_for(double) const { return 1; }
  static constexpr double kMinTaskNs = 5e3;  // the threaded pool's, for the ops' task sizes
  void parallel_for(size_t count, const std::function<void(size_t)>& fn) {
    for (size_t i = 0; i < count; i++) fn(i);
  }
};

}  // namespace convnode
