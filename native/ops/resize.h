// Resize of NCHW planes (ONNX Resize / Upsample) from per-axis tables planned in JS: checks the
// tables, picks the f32-resize kernel (nearest, nearest 2x, bilinear) and splits the planes over
// the thread pool.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "../runtime/dispatch.h"

namespace convnode {

// One axis's table, owned: output index -> source index `lo` (and, for bilinear, `hi` and the
// weight of hi).
struct ResizeAxisTable {
  size_t in = 0;
  std::vector<int32_t> lo, hi;
  std::vector<float> weight;
};

struct ResizePlan {
  size_t planes = 0;  // N x C
  bool bilinear = false;
  ResizeAxisTable rows, cols;
};

// Throws ArgumentError unless the sizes are positive, every table has one entry per output index,
// every index lies inside its input axis, every weight is in [0, 1], and x / y hold
// planes x in and planes x out floats.
void check_resize(const ResizePlan& plan, size_t x_length, size_t y_length);

// True when a nearest plan is plain 2x upsampling of both axes (source index = output index / 2).
bool is_nearest_2x(const ResizePlan& plan);

void run_resize(const KernelConfig& config, const ResizePlan& plan, const float* x, float* y);

}  // namespace convnode
