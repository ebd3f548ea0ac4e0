// Scalar f32-softmax: the definition (libm exp) the vector kernels are tested against.
#include "softmax-impl.h"
#include "softmax.h"

namespace convnode {

void f32_softmax_rows__scalar(size_t rows, size_t length, const float* x, float* y) {
  softmax_rows_impl<scalar_norm_ops, scalar_norm_ops>(rows, length, x, y);
}

void f32_softmax_columns__scalar(size_t columns, size_t length, size_t stride, const float* x, float* y) {
  softmax_column_blocks<scalar_norm_ops>(columns, length, stride, x, y);
}

}  // namespace convnode
