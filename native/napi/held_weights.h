// Bytes of packed weights held by this process's live Conv2d / Linear objects: added when an
// object gets its packed weights, taken off when release() or its finalizer drops them. Tests
// read it to see release happen exactly, at the call; V8's external-memory counter cannot show
// that on its own, as it also counts every ArrayBuffer.
#pragma once
#include <atomic>
#include <cstdint>

namespace convnode {

inline std::atomic<int64_t>& held_weight_bytes() {
  static std::atomic<int64_t> bytes{0};
  return bytes;
}

}  // namespace convnode
