#include "scratch.h"

#include <cstdlib>
#include <new>
#if defined(_WIN32)
#include <malloc.h>
#endif

namespace convnode {

namespace {

// Windows' C runtime has no aligned_alloc (its free() cannot release over-aligned blocks), so
// the win32 prebuild uses the CRT's own aligned pair.
void* allocate_aligned(size_t alignment, size_t bytes) {
#if defined(_WIN32)
  return _aligned_malloc(bytes, alignment);
#else
  return std::aligned_alloc(alignment, bytes);
#endif
}

void free_aligned(void* memory) {
#if defined(_WIN32)
  _aligned_free(memory);
#else
  std::free(memory);
#endif
}

struct AlignedBuffer {
  float* data = nullptr;
  size_t capacity = 0;
#if !defined(__wasi__)
  // Not in wasm: WASI libc++abi has no thread_local destructors, and the module's threads (and
  // the module) live until the process ends.
  ~AlignedBuffer() { free_aligned(data); }
#endif
};

}  // namespace

float* scratch_floats(ScratchSlot slot, size_t count) {
  bool fresh;
  return scratch_floats(slot, count, &fresh);
}

float* scratch_floats(ScratchSlot slot, size_t count, bool* fresh) {
  *fresh = false;
#if defined(__wasi__) && !defined(__wasm_atomics__)
  // The wasm module's default build has one thread (and WASI clang 14 has no thread_local
  // without atomics). The threaded build (-matomics) has: one block per worker instance.
  static AlignedBuffer buffers[static_cast<size_t>(ScratchSlot::Count)];
#else
  thread_local AlignedBuffer buffers[static_cast<size_t>(ScratchSlot::Count)];
#endif
  AlignedBuffer& buffer = buffers[static_cast<size_t>(slot)];
  if (buffer.capacity < count) {
    free_aligned(buffer.data);
    buffer.data = nullptr;
    buffer.capacity = 0;
    const size_t bytes = ((count * sizeof(float) + 63) / 64) * 64;
    void* memory = allocate_aligned(64, bytes);
#if defined(__cpp_exceptions)
    if (memory == nullptr) throw std::bad_alloc();
#else
    if (memory == nullptr) __builtin_trap();  // the wasm build: the loader reports the trap
#endif
    buffer.data = static_cast<float*>(memory);
    buffer.capacity = count;
    *fresh = true;
  }
  return buffer.data;
}

}  // namespace convnode
