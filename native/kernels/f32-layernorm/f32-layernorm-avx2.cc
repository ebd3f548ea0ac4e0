// avx2 f32-layernorm: layernorm-impl.h over avx2_norm_ops (simd/norm-ops.h).
#define CONVNODE_NORM_OPS_AVX2
#include "layernorm-impl.h"
#include "layernorm.h"

namespace convnode {

void f32_layernorm_rows__avx2(size_t rows, size_t length, const float* x, const float* scale, const float* bias,
                              float epsilon, float* y) {
  layernorm_rows_impl<avx2_norm_ops>(rows, length, x, scale, bias, epsilon, y);
}

void f32_layernorm_columns__avx2(size_t columns, size_t length, size_t stride, const float* x, const float* scale,
                                 const float* bias, float epsilon, float* y) {
  layernorm_columns_impl<avx2_norm_ops, avx2_norm_tail_ops>(columns, length, stride, x, scale, bias, epsilon, y);
}

}  // namespace convnode
