// The element-wise tail every kernel applies before it stores a value:
//   out = activation(acc + bias + residual)
// Scalar form, shared by every ISA (vector kernels use it for edge tiles and for sigmoid).
#pragma once
#include <cmath>
#include <cstddef>
#include <type_traits>

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
      // One rounding, as the vector forms' FMA and the float64 JS reference (the product of two
      // floats is exact in double): alpha x + beta cancels near the lower knee, where a rounded
      // product would cost most of the digits. Not std::fma: without FMA hardware it is a slow
      // libm call.
      const float y = static_cast<float>(static_cast<double>(act.alpha) * x + act.beta);
      return y < 0.0f ? 0.0f : (y > 1.0f ? 1.0f : y);
    }
    case ActivationKind::HardSwish: {
      const float gate = x + 3.0f;
      return gate <= 0.0f ? 0.0f : (gate >= 6.0f ? x : x * gate / 6.0f);
    }
    // In double: e^-x overflows float below x = -88.7, where sigmoid is a subnormal and silu
    // still a normal float (x e^x); float would give 0 there (kernels_test's ULP sweep on the
    // wasm build, whose unary ops run this form, caught it).
    case ActivationKind::Sigmoid: return static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(x))));
    case ActivationKind::Silu: return static_cast<float>(x / (1.0 + std::exp(-static_cast<double>(x))));
    case ActivationKind::Tanh: return std::tanh(x);
    // In double: (1 + erf(x / sqrt 2)) / 2 as erfc(-x / sqrt 2) / 2, and (1 + tanh(u)) / 2 as
    // 1 / (1 + e^-2u), which avoid the cancellation that loses every digit for negative x; and
    // e^-(x^2/2) and e^-2u amplify the rounding of their argument by its size (tens of ulp in
    // float in the tail), which double does not.
    case ActivationKind::Gelu: return static_cast<float>(0.5 * x * std::erfc(x * -0.70710678118654752));
    case ActivationKind::GeluTanh: {
      const double d = x;
      return static_cast<float>(d / (1.0 + std::exp(-1.5957691216057308 * (d + 0.044715 * d * d * d))));
    }
    case ActivationKind::Exp: return std::exp(x);
    case ActivationKind::Softplus: return softplus_of(x);
    case ActivationKind::Mish: {
      // In double: below x = -87 softplus (~e^x) is a float subnormal with few bits left, and
      // x times it is a normal float again (45 ulp off in float).
      const double d = x;
      const double softplus = d > 20.0 ? d : (d < -20.0 ? std::exp(d) : std::log1p(std::exp(d)));
      return static_cast<float>(d * std::tanh(softplus));
    }
  }
  return x;
}

// Calls f(std::integral_constant<ActivationKind, K>{}) for the runtime kind: element-wise loops
// instantiate their body per kind, so the switch on the kind runs once per call, not per element.
template <typename F>
static inline void with_activation_kind(ActivationKind kind, F&& f) {
  switch (kind) {
#define CONVNODE_KIND_CASE(K)                                          \
  case ActivationKind::K:                                               \
    f(std::integral_constant<ActivationKind, ActivationKind::K>{});     \
    return;
    CONVNODE_KIND_CASE(None)
    CONVNODE_KIND_CASE(Relu)
    CONVNODE_KIND_CASE(Relu6)
    CONVNODE_KIND_CASE(Clip)
    CONVNODE_KIND_CASE(LeakyRelu)
    CONVNODE_KIND_CASE(Elu)
    CONVNODE_KIND_CASE(HardSigmoid)
    CONVNODE_KIND_CASE(HardSwish)
    CONVNODE_KIND_CASE(Sigmoid)
    CONVNODE_KIND_CASE(Silu)
    CONVNODE_KIND_CASE(Tanh)
    CONVNODE_KIND_CASE(Gelu)
    CONVNODE_KIND_CASE(GeluTanh)
    CONVNODE_KIND_CASE(Exp)
    CONVNODE_KIND_CASE(Softplus)
    CONVNODE_KIND_CASE(Mish)
#undef CONVNODE_KIND_CASE
  }
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
