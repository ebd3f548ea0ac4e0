// avx2 f32-softmax: softmax-impl.h over avx2_norm_ops (simd/norm-ops.h).
#define CONVNODE_NORM_OPS_AVX2
#include "softmax-impl.h"
#include "softmax.h"

namespace convnode {

void f32_softmax_rows__avx2(size_t rows, size_t length, const float* x, float* y) {
  softmax_rows_impl<avx2_norm_ops, avx2_norm_tail_ops>(rows, length, x, y);
}

void f32_softmax_columns__avx2(size_t columns, size_t length, size_t stride, const float* x, float* y) {
  softmax_columns_impl<avx2_norm_ops, avx2_norm_tail_ops>(columns, length, stride, x, y);
}

}  // namespace convnode
