// NEON form of the epilogue's activation, for every kind (the twin of avx2-epilogue.h).
#pragma once
#include <arm_neon.h>

#include "../kernels/epilogue.h"
#include "neon-math.h"

namespace convnode {

// vmaxq/vminq return NaN when either operand is NaN, so a NaN input comes out as NaN.
template <ActivationKind K>
static inline float32x4_t neon_activate_kind(float32x4_t x, const Activation& act) {
  const float32x4_t zero = vdupq_n_f32(0.0f);
  switch (K) {
    case ActivationKind::None: return x;
    case ActivationKind::Relu: return vmaxq_f32(x, zero);
    case ActivationKind::Relu6: return vminq_f32(vmaxq_f32(x, zero), vdupq_n_f32(6.0f));
    case ActivationKind::Clip: return vminq_f32(vmaxq_f32(x, vdupq_n_f32(act.min)), vdupq_n_f32(act.max));
    case ActivationKind::LeakyRelu: return vbslq_f32(vcltq_f32(x, zero), vmulq_n_f32(x, act.alpha), x);
    case ActivationKind::Elu: return neon_elu(x, act.alpha);
    case ActivationKind::HardSigmoid: {
      const float32x4_t y = vfmaq_f32(vdupq_n_f32(act.beta), x, vdupq_n_f32(act.alpha));
      return vminq_f32(vmaxq_f32(y, zero), vdupq_n_f32(1.0f));
    }
    case ActivationKind::HardSwish: {
      const float32x4_t sum = vaddq_f32(x, vdupq_n_f32(3.0f));
      const float32x4_t gate = vminq_f32(vmaxq_f32(sum, zero), vdupq_n_f32(6.0f));
      // 0 where x + 3 <= 0 (not -inf * 0 = NaN); NaN compares false and stays NaN.
      return vbslq_f32(vcleq_f32(sum, zero), zero, vmulq_f32(x, vmulq_n_f32(gate, 1.0f / 6.0f)));
    }
    case ActivationKind::Sigmoid: return neon_sigmoid(x);
    case ActivationKind::Silu: return neon_silu(x);
    case ActivationKind::Tanh: return neon_tanh(x);
    case ActivationKind::Gelu: return neon_gelu(x);
    case ActivationKind::GeluTanh: return neon_gelu_tanh(x);
    case ActivationKind::Exp: return neon_exp(x);
    case ActivationKind::Softplus: return neon_softplus(x);
    case ActivationKind::Mish: return neon_mish(x);
  }
  return x;
}

// Every kind, chosen at run time (kernels that apply it outside their FMA loops).
static inline float32x4_t neon_activate(float32x4_t x, const Activation& act) {
  switch (act.kind) {
    case ActivationKind::None: return x;
    case ActivationKind::Relu: return neon_activate_kind<ActivationKind::Relu>(x, act);
    case ActivationKind::Relu6: return neon_activate_kind<ActivationKind::Relu6>(x, act);
    case ActivationKind::Clip: return neon_activate_kind<ActivationKind::Clip>(x, act);
    case ActivationKind::LeakyRelu: return neon_activate_kind<ActivationKind::LeakyRelu>(x, act);
    case ActivationKind::Elu: return neon_activate_kind<ActivationKind::Elu>(x, act);
    case ActivationKind::HardSigmoid: return neon_activate_kind<ActivationKind::HardSigmoid>(x, act);
    case ActivationKind::HardSwish: return neon_activate_kind<ActivationKind::HardSwish>(x, act);
    case ActivationKind::Sigmoid: return neon_activate_kind<ActivationKind::Sigmoid>(x, act);
    case ActivationKind::Silu: return neon_activate_kind<ActivationKind::Silu>(x, act);
    case ActivationKind::Tanh: return neon_activate_kind<ActivationKind::Tanh>(x, act);
    case ActivationKind::Gelu: return neon_activate_kind<ActivationKind::Gelu>(x, act);
    case ActivationKind::GeluTanh: return neon_activate_kind<ActivationKind::GeluTanh>(x, act);
    case ActivationKind::Exp: return neon_activate_kind<ActivationKind::Exp>(x, act);
    case ActivationKind::Softplus: return neon_activate_kind<ActivationKind::Softplus>(x, act);
    case ActivationKind::Mish: return neon_activate_kind<ActivationKind::Mish>(x, act);
  }
  return x;
}

// The kinds that are a few compares and multiplies (no exp / tanh / erf, no call): what a
// kernel may apply inside its FMA loop without spilling the registers it keeps there.
static inline bool neon_cheap_kind(ActivationKind kind) {
  return kind == ActivationKind::None || kind == ActivationKind::Relu || kind == ActivationKind::Relu6 ||
         kind == ActivationKind::Clip || kind == ActivationKind::LeakyRelu || kind == ActivationKind::HardSigmoid ||
         kind == ActivationKind::HardSwish;
}

}  // namespace convnode
