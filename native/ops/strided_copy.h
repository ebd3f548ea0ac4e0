// Data movement as a strided copy: Transpose, Slice, Gather, Split parts and Concat slices.
// Each axis says how far one step along it moves in the source and in the destination, so a
// copy is an odometer over the outer axes and one loop (a memcpy where both sides are dense)
// along the innermost. The ONNX planner builds the plan once per input shape
// (lib/onnx/ops/strided-copy.ts); running it natively lets the copy be queued in a model's
// chain of native calls instead of stopping the chain for a JS loop.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace convnode {

struct CopyAxis {
  size_t extent = 1;
  int64_t stride = 0;      // source elements per step (negative: a Slice with a negative step)
  int64_t dst_stride = 0;  // destination elements per step
  // Source offset of each index instead of i * stride (Gather indices), or null. Not owned.
  const int32_t* table = nullptr;
};

struct CopyPlan {
  int64_t base = 0, dst_base = 0;
  std::vector<CopyAxis> axes;
};

// Throws ArgumentError unless every source index the plan reads lies in [0, input_length) and
// every destination index in [0, output_length): the kernel itself does no bounds checks.
void check_copy(const CopyPlan& plan, size_t input_length, size_t output_length);

// Elements the plan copies.
size_t copy_total(const CopyPlan& plan);

// out[dst(i)] = in[src(i)] for every index i; large copies are split over the thread pool.
void run_copy(const CopyPlan& plan, const float* input, float* output);

}  // namespace convnode
