// Scalar f32-vbinary. Float add / sub / mul / div are correctly rounded, so these match the pure-JS
// kernels (float64 arithmetic rounded to float32) bit for bit before the activation.
#include <cmath>

#include "vbinary.h"

namespace convnode {

namespace {

template <BinaryOp OP>
inline float apply(float x, float y) {
  switch (OP) {
    case BinaryOp::Add: return x + y;
    case BinaryOp::Sub: return x - y;
    case BinaryOp::Mul: return x * y;
    case BinaryOp::Div: return x / y;
  }
  return x;
}

template <BinaryOp OP>
void run(BinaryForm form, size_t n, const float* a, const float* b, float* output) {
  switch (form) {
    case BinaryForm::VectorVector:
      for (size_t i = 0; i < n; i++) output[i] = apply<OP>(a[i], b[i]);
      return;
    case BinaryForm::VectorScalar: {
      const float y = b[0];
      for (size_t i = 0; i < n; i++) output[i] = apply<OP>(a[i], y);
      return;
    }
    case BinaryForm::ScalarVector: {
      const float x = a[0];
      for (size_t i = 0; i < n; i++) output[i] = apply<OP>(x, b[i]);
      return;
    }
  }
}

}  // namespace

void f32_vbinary__scalar(BinaryOp op, BinaryForm form, size_t n, const float* a, const float* b, float* output,
                         const Activation& activation) {
  switch (op) {
    case BinaryOp::Add: run<BinaryOp::Add>(form, n, a, b, output); break;
    case BinaryOp::Sub: run<BinaryOp::Sub>(form, n, a, b, output); break;
    case BinaryOp::Mul: run<BinaryOp::Mul>(form, n, a, b, output); break;
    case BinaryOp::Div: run<BinaryOp::Div>(form, n, a, b, output); break;
  }
  if (activation.kind != ActivationKind::None) {
    for (size_t i = 0; i < n; i++) output[i] = activate(output[i], activation);
  }
}

}  // namespace convnode
