#include "scratch.h"

#include <cstdlib>
#include <new>

namespace convnode {

namespace {

struct AlignedBuffer {
  float* data = nullptr;
  size_t capacity = 0;
  ~AlignedBuffer() { std::free(data); }
};

}  // namespace

float* scratch_floats(ScratchSlot slot, size_t count) {
  bool fresh;
  return scratch_floats(slot, count, &fresh);
}

float* scratch_floats(ScratchSlot slot, size_t count, bool* fresh) {
  *fresh = false;
  thread_local AlignedBuffer buffers[static_cast<size_t>(ScratchSlot::Count)];
  AlignedBuffer& buffer = buffers[static_cast<size_t>(slot)];
  if (buffer.capacity < count) {
    std::free(buffer.data);
    buffer.data = nullptr;
    buffer.capacity = 0;
    const size_t bytes = ((count * sizeof(float) + 63) / 64) * 64;
    void* memory = std::aligned_alloc(64, bytes);
    if (memory == nullptr) throw std::bad_alloc();
    buffer.data = static_cast<float*>(memory);
    buffer.capacity = count;
    *fresh = true;
  }
  return buffer.data;
}

}  // namespace convnode
