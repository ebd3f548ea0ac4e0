// The threaded wasm build's allocator lock. Debian's wasi-libc (2022) has no thread support: its
// dlmalloc keeps no lock. The build links with --wrap for each allocation function (see
// scripts/build-wasm.mjs THREAD_LINK_FLAGS), so every call, C++'s operator new included, passes
// through here and holds one spin lock around the real one. Allocations are rare on the worker
// threads (a task's scratch buffer grows once), so the lock is almost never contended.
#include <atomic>
#include <cstddef>

extern "C" {
void* __real_malloc(size_t bytes);
void __real_free(void* pointer);
void* __real_calloc(size_t count, size_t bytes);
void* __real_realloc(void* pointer, size_t bytes);
void* __real_aligned_alloc(size_t alignment, size_t bytes);
int __real_posix_memalign(void** out, size_t alignment, size_t bytes);
}

namespace {

std::atomic<uint32_t> g_locked{0};

class Held {
 public:
  Held() {
    while (g_locked.exchange(1, std::memory_order_acquire) != 0) {
      // A short sleep instead of a busy spin: the holder may be a thread the OS has paused.
      __builtin_wasm_memory_atomic_wait32(reinterpret_cast<int32_t*>(&g_locked), 1, 1000);
    }
  }
  ~Held() {
    g_locked.store(0, std::memory_order_release);
    __builtin_wasm_memory_atomic_notify(reinterpret_cast<int32_t*>(&g_locked), 1);
  }
};

}  // namespace

extern "C" {
void* __wrap_malloc(size_t bytes) {
  Held held;
  return __real_malloc(bytes);
}
void __wrap_free(void* pointer) {
  Held held;
  __real_free(pointer);
}
void* __wrap_calloc(size_t count, size_t bytes) {
  Held held;
  return __real_calloc(count, bytes);
}
void* __wrap_realloc(void* pointer, size_t bytes) {
  Held held;
  return __real_realloc(pointer, bytes);
}
void* __wrap_aligned_alloc(size_t alignment, size_t bytes) {
  Held held;
  return __real_aligned_alloc(alignment, bytes);
}
int __wrap_posix_memalign(void** out, size_t alignment, size_t bytes) {
  Held held;
  return __real_posix_memalign(out, alignment, bytes);
}
}
