// The element-wise tail every kernel applies before it stores a value:
//   out = activation(acc + bias + residual)
// Scalar form, shared by every ISA (vector kernels use it for edge tiles and for sigmoid).
#pragma once
#include <cmath>
#include <cstddef>

namespace convnode {

enum class ActivationKind : int { None = 0, Relu, Relu6, LeakyRelu, HardSwish, Sigmoid };

struct Activation {
  ActivationKind kind = ActivationKind::None;
  float alpha = 0.01f;  // leakyRelu's negative slope
};

// Comparisons are written so NaN falls through unchanged (IEEE propagation).
static inline float activate(float x, const Activation& act) {
  switch (act.kind) {
    case ActivationKind::None: return x;
    case ActivationKind::Relu: return x < 0.0f ? 0.0f : x;
    case ActivationKind::Relu6: return x < 0.0f ? 0.0f : (x > 6.0f ? 6.0f : x);
    case ActivationKind::LeakyRelu: return x < 0.0f ? act.alpha * x : x;
    case ActivationKind::HardSwish: {
      const float gate = x + 3.0f;
      return gate <= 0.0f ? 0.0f : (gate >= 6.0f ? x : x * gate / 6.0f);
    }
    case ActivationKind::Sigmoid: return 1.0f / (1.0f + std::exp(-x));
  }
  return x;
}

// What a kernel adds after accumulating: per-output-channel bias, a residual tensor laid out like
// the output (row stride residual_stride), then the activation. Null pointers mean "not fused".
struct Epilogue {
  const float* bias = nullptr;      // one value per output row (channel)
  const float* residual = nullptr;  // same layout as the output tile
  size_t residual_stride = 0;
  Activation activation;
};

}  // namespace convnode
