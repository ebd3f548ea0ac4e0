// The element-wise tail every kernel applies before it stores a value:
//   out = activation(acc + bias + residual)
// Scalar form, shared by every ISA (vector kernels use it for edge tiles and for sigmoid).
#pragma once
#include <cmath>
#include <cstddef>

namespace convnode {

// The same kinds, parameters and formulas as lib/activation.ts (its table is the spec).
enum class ActivationKind : int {
  None = 0,
  Relu,
  Relu6,
  Clip,
  LeakyRelu,
  Elu,
  HardSigmoid,
  HardSwish,
  Sigmoid,
  Silu,
  Tanh,
  Gelu,
  GeluTanh,
  Exp,
  Softplus,
  Mish,
};

// Parameters arrive resolved from JS (defaults filled in there, once).
struct Activation {
  ActivationKind kind = ActivationKind::None;
  float alpha = 0.01f;  // leakyRelu's negative slope, elu's scale, hardSigmoid's slope
  float beta = 0.5f;    // hardSigmoid's offset
  float min = -INFINITY;  // clip's bounds
  float max = INFINITY;
};

static inline float softplus_of(float x) {
  return x > 20.0f ? x : (x < -20.0f ? std::exp(x) : std::log1p(std::exp(x)));
}

// The scalar definition. Comparisons are written so NaN falls through unchanged (IEEE
// propagation). Vector kernels use it for edge tiles and for kinds they have no vector form of.
static inline float activate(float x, const Activation& act) {
  switch (act.kind) {
    case ActivationKind::None: return x;
    case ActivationKind::Relu: return x < 0.0f ? 0.0f : x;
    case ActivationKind::Relu6: return x < 0.0f ? 0.0f : (x > 6.0f ? 6.0f : x);
    case ActivationKind::Clip: return x < act.min ? act.min : (x > act.max ? act.max : x);
    case ActivationKind::LeakyRelu: return x < 0.0f ? act.alpha * x : x;
    case ActivationKind::Elu: return x < 0.0f ? act.alpha * std::expm1(x) : x;
    case ActivationKind::HardSigmoid: {
      const float y = act.alpha * x + act.beta;
      return y < 0.0f ? 0.0f : (y > 1.0f ? 1.0f : y);
    }
    case ActivationKind::HardSwish: {
      const float gate = x + 3.0f;
      return gate <= 0.0f ? 0.0f : (gate >= 6.0f ? x : x * gate / 6.0f);
    }
    case ActivationKind::Sigmoid: return 1.0f / (1.0f + std::exp(-x));
    case ActivationKind::Silu: return x / (1.0f + std::exp(-x));
    case ActivationKind::Tanh: return std::tanh(x);
    case ActivationKind::Gelu: return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f));
    case ActivationKind::GeluTanh:
      return 0.5f * x * (1.0f + std::tanh(0.79788456080286536f * (x + 0.044715f * x * x * x)));
    case ActivationKind::Exp: return std::exp(x);
    case ActivationKind::Softplus: return softplus_of(x);
    case ActivationKind::Mish: return x * std::tanh(softplus_of(x));
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
