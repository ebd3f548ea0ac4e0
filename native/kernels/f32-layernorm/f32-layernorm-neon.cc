// neon f32-layernorm: layernorm-impl.h over neon_norm_ops (simd/norm-ops.h).
#define CONVNODE_NORM_OPS_NEON
#include "layernorm-impl.h"
#include "layernorm.h"

namespace convnode {

void f32_layernorm_rows__neon(size_t rows, size_t length, const float* x, const float* scale, const float* bias,
                              float epsilon, float* y) {
  layernorm_rows_impl<neon_norm_ops>(rows, length, x, scale, bias, epsilon, y);
}

void f32_layernorm_columns__neon(size_t columns, size_t length, size_t stride, const float* x, const float* scale,
                                 const float* bias, float epsilon, float* y) {
  layernorm_columns_impl<neon_norm_ops, neon_norm_tail_ops>(columns, length, stride, x, scale, bias, epsilon, y);
}

}  // namespace convnode
