// Scalar f32-vaffine. x * scale + shift is one fused multiply-add, like the float64 arithmetic of
// the pure-JS kernel rounded once to float32.
#include <cmath>

#include "vaffine.h"

namespace convnode {

void f32_vaffine__scalar(size_t n, const float* input, float scale, float shift, float* output,
                         const Activation& activation) {
  for (size_t i = 0; i < n; i++) output[i] = std::fma(input[i], scale, shift);
  if (activation.kind != ActivationKind::None) {
    for (size_t i = 0; i < n; i++) output[i] = activate(output[i], activation);
  }
}

}  // namespace convnode
