// Per-thread scratch memory (the arena): packed B panels and other temporaries reuse one growing,
// 64-byte-aligned buffer per thread and slot instead of allocating on every call.
#pragma once
#include <cstddef>

namespace convnode {

// PaddedPlane: a depthwise kernel's ring of zero-bordered input rows (f32-dwconv).
// WinogradInput / WinogradProducts: a chunk of transformed tiles and its 36 GEMM products.
// Subsampled: a strided 1x1 conv's input at its output pixels (the calling thread's, read by all).
// PhaseRows: a stride-2 conv's input rows split into even / odd columns (ops/conv_phase_rows.cc,
// also the calling thread's, read by all).
enum class ScratchSlot {
  PackedB = 0,
  Transpose = 1,
  PaddedPlane = 2,
  WinogradInput = 3,
  WinogradProducts = 4,
  Subsampled = 5,
  PhaseRows = 6,
  Count = 7
};

float* scratch_floats(ScratchSlot slot, size_t count);

// The same, and whether the buffer was (re)allocated by this call, i.e. holds nothing a previous
// call left: for callers that keep state in the buffer between calls (f32-dwconv's zero border).
float* scratch_floats(ScratchSlot slot, size_t count, bool* fresh);

}  // namespace convnode
