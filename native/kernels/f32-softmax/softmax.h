// f32-softmax: y = exp(x - max) / sum exp(x - max) over groups of `length` values (the maximum
// subtracted first, so large logits do not overflow exp).
//   rows:    `rows` groups, each a contiguous row (Softmax over the last axis: attention).
//            Vectorised along the row.
//   columns: `columns` adjacent groups whose values are `stride` floats apart (Softmax over any
//            other axis, e.g. the channels of an NCHW map). Vectorised across the columns.
// y may equal x, not otherwise overlap it.
#pragma once
#include <cstddef>

namespace convnode {

using SoftmaxRowsKernel = void (*)(size_t rows, size_t length, const float* x, float* y);
using SoftmaxColumnsKernel = void (*)(size_t columns, size_t length, size_t stride, const float* x, float* y);

#define CONVNODE_DECLARE_SOFTMAX(isa)                                                        \
  void f32_softmax_rows__##isa(size_t rows, size_t length, const float* x, float* y);      \
  void f32_softmax_columns__##isa(size_t columns, size_t length, size_t stride, const float* x, float* y);
CONVNODE_DECLARE_SOFTMAX(scalar)
CONVNODE_DECLARE_SOFTMAX(avx2)
CONVNODE_DECLARE_SOFTMAX(avx512)
CONVNODE_DECLARE_SOFTMAX(neon)
#undef CONVNODE_DECLARE_SOFTMAX

}  // namespace convnode
