// AArch64 NEON forms of the transcendental activations (vector-math.h over 4 floats).
#pragma once
#include <arm_neon.h>

#include "vector-math.h"

namespace convnode {

// In an unnamed namespace: internal linkage, so no copy compiled with other ISA flags can be
// merged with this one by the linker.
namespace {

struct neon_ops {
  using V = float32x4_t;
  using M = uint32x4_t;
  using I = int32x4_t;
  static inline V splat(float v) { return vdupq_n_f32(v); }
  static inline V add(V a, V b) { return vaddq_f32(a, b); }
  static inline V sub(V a, V b) { return vsubq_f32(a, b); }
  static inline V mul(V a, V b) { return vmulq_f32(a, b); }
  static inline V div(V a, V b) { return vdivq_f32(a, b); }
  static inline V fmadd(V a, V b, V c) { return vfmaq_f32(c, a, b); }
  static inline V fnmadd(V a, V b, V c) { return vfmsq_f32(c, a, b); }
  // fmin/fmax (not the *nm forms) return NaN when either operand is NaN.
  static inline V min_keep(V x, V c) { return vminq_f32(x, c); }
  static inline V max_keep(V x, V c) { return vmaxq_f32(x, c); }
  static inline V abs(V x) { return vabsq_f32(x); }
  static inline V round(V x) { return vrndnq_f32(x); }
  static inline M lt(V a, V b) { return vcltq_f32(a, b); }
  static inline M gt(V a, V b) { return vcgtq_f32(a, b); }
  static inline V select(M m, V t, V f) { return vbslq_f32(m, t, f); }
  static inline V copy_sign(V mag, V sign) { return vbslq_f32(vdupq_n_u32(0x80000000u), sign, mag); }
  static inline I to_int(V x) { return vcvtnq_s32_f32(x); }
  static inline I int_sub(I a, I b) { return vsubq_s32(a, b); }
  static inline I int_sra1(I a) { return vshrq_n_s32(a, 1); }
  static inline V pow2_bits(I n) { return vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n, vdupq_n_s32(127)), 23)); }
};

}  // namespace

static inline float32x4_t neon_exp(float32x4_t x) { return vmath::exp<neon_ops>(x); }
static inline float32x4_t neon_sigmoid(float32x4_t x) { return vmath::sigmoid<neon_ops>(x); }
static inline float32x4_t neon_silu(float32x4_t x) { return vmath::silu<neon_ops>(x); }
static inline float32x4_t neon_tanh(float32x4_t x) { return vmath::tanh<neon_ops>(x); }
static inline float32x4_t neon_elu(float32x4_t x, float alpha) { return vmath::elu<neon_ops>(x, alpha); }
static inline float32x4_t neon_softplus(float32x4_t x) { return vmath::softplus<neon_ops>(x); }
static inline float32x4_t neon_mish(float32x4_t x) { return vmath::mish<neon_ops>(x); }
static inline float32x4_t neon_gelu(float32x4_t x) { return vmath::gelu<neon_ops>(x); }
static inline float32x4_t neon_gelu_tanh(float32x4_t x) { return vmath::gelu_tanh<neon_ops>(x); }

}  // namespace convnode
