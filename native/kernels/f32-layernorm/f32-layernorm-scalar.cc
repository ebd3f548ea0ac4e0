// Scalar f32-layernorm: the definition the vector kernels are tested against.
#include "layernorm-impl.h"
#include "layernorm.h"

namespace convnode {

void f32_layernorm_rows__scalar(size_t rows, size_t length, const float* x, const float* scale, const float* bias,
                                float epsilon, float* y) {
  layernorm_rows_impl<scalar_norm_ops>(rows, length, x, scale, bias, epsilon, y);
}

void f32_layernorm_columns__scalar(size_t columns, size_t length, size_t stride, const float* x, const float* scale,
                                   const float* bias, float epsilon, float* y) {
  layernorm_column_blocks<scalar_norm_ops>(columns, length, stride, x, scale, bias, epsilon, y);
}

}  // namespace convnode
