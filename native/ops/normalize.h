// LayerNorm and Softmax over groups of values in a dense [outer, length, inner] view of a tensor:
// each of the outer x inner groups holds `length` values `inner` floats apart. inner == 1 runs
// the kernels' rows form (contiguous groups), inner > 1 the columns form (vectorised across
// adjacent groups). Work is split over the thread pool by rows, or by (outer, column block).
#pragma once
#include <cstddef>

#include "../runtime/dispatch.h"

namespace convnode {

struct GroupShape {
  size_t outer = 0, length = 0, inner = 0;
};

// Throws ArgumentError unless the shape is positive, x and y hold outer * length * inner floats,
// scale (and bias, when given) `length`, and epsilon is finite and non-negative.
void check_layernorm(const GroupShape& shape, size_t x_length, size_t y_length, size_t scale_length, bool has_bias,
                     size_t bias_length, float epsilon);
void check_softmax(const GroupShape& shape, size_t x_length, size_t y_length);

void run_layernorm(const KernelConfig& config, const GroupShape& shape, const float* x, const float* scale,
                   const float* bias, float epsilon, float* y);
void run_softmax(const KernelConfig& config, const GroupShape& shape, const float* x, float* y);

}  // namespace convnode
