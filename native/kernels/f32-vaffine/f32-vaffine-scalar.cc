// Scalar f32-vaffine. x * scale + shift in double (the product of two floats is exact there),
// rounded once to float: the pure-JS kernel's float64 arithmetic, bit for bit, and within a
// double rounding of the vector kernels' FMA. Not std::fma: without FMA hardware (where the
// scalar tier runs) that is a libm call ~100x slower.
#include <cmath>

#include "vaffine.h"

namespace convnode {

void f32_vaffine__scalar(size_t n, const float* input, float scale, float shift, float* output,
                         const Activation& activation) {
  const double s = scale, t = shift;
  for (size_t i = 0; i < n; i++) output[i] = static_cast<float>(input[i] * s + t);
  if (activation.kind != ActivationKind::None) {
    for (size_t i = 0; i < n; i++) output[i] = activate(output[i], activation);
  }
}

}  // namespace convnode
