// neon f32-softmax: softmax-impl.h over neon_norm_ops (simd/norm-ops.h).
#define CONVNODE_NORM_OPS_NEON
#include "softmax-impl.h"
#include "softmax.h"

namespace convnode {

void f32_softmax_rows__neon(size_t rows, size_t length, const float* x, float* y) {
  softmax_rows_impl<neon_norm_ops, neon_norm_tail_ops>(rows, length, x, y);
}

void f32_softmax_columns__neon(size_t columns, size_t length, size_t stride, const float* x, float* y) {
  softmax_columns_impl<neon_norm_ops, neon_norm_tail_ops>(columns, length, stride, x, y);
}

}  // namespace convnode
