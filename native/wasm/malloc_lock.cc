// The threaded wasm build's allocator lock. Debian's wasi-libc (2022) has no thread support: its
// dlmalloc keeps no lock. The build links with --wrap for each allocation function (see
// scripts/build-wasm.mjs THREAD_LINK_FLAGS), so every call, C++'s operator new included, passes
// through here and holds one spin lock around the real one. Allocations are rare on the worker
// threads (a task's scratch buffer grows once), so the lock is almost never contended.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

#include "memory_view.h"

extern "C" {
void* __real_malloc(size_t bytes);
void __real_free(void* pointer);
void* __real_calloc(size_t count, size_t bytes);
void* __real_realloc(void* pointer, size_t bytes);
void* __real_aligned_alloc(size_t alignment, size_t bytes);
int __real_posix_memalign(void** out, size_t alignment, size_t bytes);
}

namespace convnode {

std::atomic<uint32_t> g_memory_pages{0};

namespace {
// The size this thread's instance was last refreshed to (memory_view.h).
thread_local uint32_t tls_pages_seen = 0;
}  // namespace

void see_memory_growth() {
  // Before this thread's TLS block is set (the JS thread's constructors) the thread-local would
  // land in low memory: skip (nothing else runs then).
  if (__builtin_wasm_tls_base() == nullptr) return;
  const uint32_t pages = g_memory_pages.load(std::memory_order_acquire);
  if (pages == tls_pages_seen) return;
  __builtin_wasm_memory_grow(0, 0);
  tls_pages_seen = pages;
}

void publish_memory_size() {
  const uint32_t pages = static_cast<uint32_t>(__builtin_wasm_memory_size(0));
  uint32_t known = g_memory_pages.load(std::memory_order_relaxed);
  while (pages > known && !g_memory_pages.compare_exchange_weak(known, pages, std::memory_order_acq_rel)) {
  }
}

}  // namespace convnode

namespace {

std::atomic<uint32_t> g_locked{0};

// Holds the allocator lock; with the lock held, this thread's view of the memory is brought up to
// date (dlmalloc reads the break with memory.size), and on release the size it leaves is published.
class Held {
 public:
  Held() {
    while (g_locked.exchange(1, std::memory_order_acquire) != 0) {
      // A short sleep instead of a busy spin: the holder may be a thread the OS has paused.
      __builtin_wasm_memory_atomic_wait32(reinterpret_cast<int32_t*>(&g_locked), 1, 1000);
    }
    convnode::see_memory_growth();
  }
  ~Held() {
    convnode::publish_memory_size();
    g_locked.store(0, std::memory_order_release);
    __builtin_wasm_memory_atomic_notify(reinterpret_cast<int32_t*>(&g_locked), 1);
  }
};

}  // namespace

#if defined(CONVNODE_WASM_HEAP_CHECK)
// A debugging build (scripts/build-wasm.mjs --threads --heap-check, for bench/stress-wasm-threads.mjs;
// never shipped): every block gets a red zone of kZone bytes on each side, filled with a pattern,
// and joins a list of live blocks; cn_debug_heap_check() verifies every live block's zones, free()
// verifies the block's own and fills the freed bytes with 0xDE (a function pointer read from a
// freed object is then an out-of-bounds table index, not a silently working stale one).
#include <cstring>

namespace {

constexpr size_t kZone = 64;  // keeps 64-byte alignment (scratch buffers ask for 64)
constexpr uint32_t kMagic = 0xC0FFEE11u;
constexpr unsigned char kPattern = 0xA5;

struct Header {  // at the start of the front zone
  Header* prev;
  Header* next;
  size_t bytes;
  uint32_t magic;
};

Header* g_live = nullptr;
uint32_t g_corrupt = 0;       // blocks found damaged so far
uintptr_t g_first_bad = 0;    // the user address of the first one

unsigned char* user_of(Header* h) { return reinterpret_cast<unsigned char*>(h) + kZone; }

bool zones_intact(Header* h) {
  if (h->magic != kMagic) return false;
  const unsigned char* front = reinterpret_cast<unsigned char*>(h) + sizeof(Header);
  for (size_t i = 0; i < kZone - sizeof(Header); i++) {
    if (front[i] != kPattern) return false;
  }
  const unsigned char* back = user_of(h) + h->bytes;
  for (size_t i = 0; i < kZone; i++) {
    if (back[i] != kPattern) return false;
  }
  return true;
}

void note_bad(Header* h) {
  if (g_corrupt++ == 0) g_first_bad = reinterpret_cast<uintptr_t>(user_of(h));
}

void* checked_alloc(size_t alignment, size_t bytes) {  // the lock is held
  void* raw = __real_aligned_alloc(alignment > kZone ? alignment : kZone, bytes + 2 * kZone);
  if (raw == nullptr) return nullptr;
  Header* h = static_cast<Header*>(raw);
  std::memset(raw, kPattern, kZone);
  std::memset(user_of(h) + bytes, kPattern, kZone);
  h->bytes = bytes;
  h->magic = kMagic;
  h->prev = nullptr;
  h->next = g_live;
  if (g_live != nullptr) g_live->prev = h;
  g_live = h;
  return user_of(h);
}

void checked_free(void* pointer) {  // the lock is held
  if (pointer == nullptr) return;
  Header* h = reinterpret_cast<Header*>(static_cast<unsigned char*>(pointer) - kZone);
  if (!zones_intact(h)) {
    note_bad(h);
    if (h->magic != kMagic) return;  // not ours or its header is gone: leak it rather than crash
  }
  if (h->prev != nullptr) h->prev->next = h->next; else g_live = h->next;
  if (h->next != nullptr) h->next->prev = h->prev;
  std::memset(h, 0xDE, h->bytes + 2 * kZone);
  __real_free(h);
}

}  // namespace

extern "C" {
void* __wrap_malloc(size_t bytes) {
  Held held;
  return checked_alloc(16, bytes);
}
void __wrap_free(void* pointer) {
  Held held;
  checked_free(pointer);
}
void* __wrap_calloc(size_t count, size_t bytes) {
  Held held;
  void* p = checked_alloc(16, count * bytes);
  if (p != nullptr) std::memset(p, 0, count * bytes);
  return p;
}
void* __wrap_realloc(void* pointer, size_t bytes) {
  Held held;
  if (pointer == nullptr) return checked_alloc(16, bytes);
  Header* h = reinterpret_cast<Header*>(static_cast<unsigned char*>(pointer) - kZone);
  void* p = checked_alloc(16, bytes);
  if (p == nullptr) return nullptr;
  std::memcpy(p, pointer, h->bytes < bytes ? h->bytes : bytes);
  checked_free(pointer);
  return p;
}
void* __wrap_aligned_alloc(size_t alignment, size_t bytes) {
  Held held;
  return checked_alloc(alignment, bytes);
}
int __wrap_posix_memalign(void** out, size_t alignment, size_t bytes) {
  Held held;
  *out = checked_alloc(alignment, bytes);
  return *out == nullptr ? 12 : 0;  // ENOMEM
}

// Checks every live block's red zones: returns how many blocks were ever found damaged (0: none);
// *first gets the user address of the first one.
__attribute__((export_name("cn_debug_heap_check"))) uint32_t cn_debug_heap_check(uint32_t* first) {
  Held held;
  for (Header* h = g_live; h != nullptr; h = h->next) {
    if (!zones_intact(h)) note_bad(h);
  }
  if (first != nullptr) *first = static_cast<uint32_t>(g_first_bad);
  return g_corrupt;
}
}
#else
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
#endif  // CONVNODE_WASM_HEAP_CHECK

// C++ allocation that fails traps (a BackendError in JS) instead of returning null. WASI libc++ is
// built without exceptions: its operator new returns nullptr when malloc does (memory.grow
// refused: the 4 GiB limit, or the host out of memory), and no caller checks; the object is then
// built at address 0, which in wasm is ordinary memory (the data segment's first bytes), and its
// function pointers read later as garbage: a "null function or function signature mismatch" trap
// far from the cause, or worse, wrong answers. These replace libc++'s (same signatures).
void* operator new(size_t bytes) {
  void* pointer = std::malloc(bytes == 0 ? 1 : bytes);
  if (pointer == nullptr) __builtin_trap();
  return pointer;
}
void* operator new[](size_t bytes) { return operator new(bytes); }
void operator delete(void* pointer) noexcept { std::free(pointer); }
void operator delete[](void* pointer) noexcept { std::free(pointer); }
void operator delete(void* pointer, size_t) noexcept { std::free(pointer); }
void operator delete[](void* pointer, size_t) noexcept { std::free(pointer); }
