// Per-thread scratch memory (the arena): packed B panels and other temporaries reuse one growing,
// 64-byte-aligned buffer per thread and slot instead of allocating on every call.
#pragma once
#include <cstddef>

namespace convnode {

enum class ScratchSlot { PackedB = 0, Transpose = 1, Count = 2 };

float* scratch_floats(ScratchSlot slot, size_t count);

}  // namespace convnode
