// Scalar f32-vunary: the definition (epilogue.h's activate, on libm) that the vector kernels are
// tested against.
#include "vunary.h"

namespace convnode {

void f32_vunary__scalar(size_t n, const float* input, float* output, const Activation& activation) {
  with_activation_kind(activation.kind, [&](auto kind) {
    Activation fixed = activation;
    fixed.kind = kind;  // a constant: the optimiser drops activate()'s switch from the loop
    for (size_t i = 0; i < n; i++) output[i] = activate(input[i], fixed);
  });
}

}  // namespace convnode
