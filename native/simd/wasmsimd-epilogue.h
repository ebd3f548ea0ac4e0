// WebAssembly SIMD form of the epilogue's activation for the kinds that are a few compares and
// multiplies (the twin of neon-epilogue.h's cheap kinds). The others (exp, tanh, erf, and
// hardSigmoid, whose scalar form rounds once where wasm has no fused multiply-add) run the scalar
// activate() lane by lane. f32x4.min / max return NaN when either operand is NaN, so a NaN input
// comes out as NaN.
#pragma once
#include <wasm_simd128.h>

#include <cstddef>

#include "../kernels/epilogue.h"

namespace convnode {

static inline bool wasmsimd_cheap_kind(ActivationKind kind) {
  return kind == ActivationKind::None || kind == ActivationKind::Relu || kind == ActivationKind::Relu6 ||
         kind == ActivationKind::Clip || kind == ActivationKind::LeakyRelu || kind == ActivationKind::HardSwish;
}

// The cheap kinds; any other kind is returned unchanged (callers check wasmsimd_cheap_kind first).
static inline v128_t wasmsimd_activate_cheap(v128_t x, const Activation& act) {
  const v128_t zero = wasm_f32x4_splat(0.0f);
  switch (act.kind) {
    case ActivationKind::Relu: return wasm_f32x4_max(x, zero);
    case ActivationKind::Relu6: return wasm_f32x4_min(wasm_f32x4_max(x, zero), wasm_f32x4_splat(6.0f));
    case ActivationKind::Clip:
      return wasm_f32x4_min(wasm_f32x4_max(x, wasm_f32x4_splat(act.min)), wasm_f32x4_splat(act.max));
    case ActivationKind::LeakyRelu:
      return wasm_v128_bitselect(wasm_f32x4_mul(x, wasm_f32x4_splat(act.alpha)), x, wasm_f32x4_lt(x, zero));
    case ActivationKind::HardSwish: {
      const v128_t sum = wasm_f32x4_add(x, wasm_f32x4_splat(3.0f));
      const v128_t gate = wasm_f32x4_min(wasm_f32x4_max(sum, zero), wasm_f32x4_splat(6.0f));
      // 0 where x + 3 <= 0 (not -inf * 0 = NaN); NaN compares false and stays NaN.
      return wasm_v128_bitselect(zero, wasm_f32x4_mul(x, wasm_f32x4_mul(gate, wasm_f32x4_splat(1.0f / 6.0f))),
                                 wasm_f32x4_le(sum, zero));
    }
    default: return x;
  }
}

// Any kind over n floats in place: cheap kinds in vectors, the rest (and the tail) scalar.
static inline void wasmsimd_activate_span(float* p, size_t n, const Activation& act) {
  if (act.kind == ActivationKind::None) return;
  size_t i = 0;
  if (wasmsimd_cheap_kind(act.kind)) {
    for (; i + 4 <= n; i += 4) wasm_v128_store(p + i, wasmsimd_activate_cheap(wasm_v128_load(p + i), act));
  }
  for (; i < n; i++) p[i] = activate(p[i], act);
}

}  // namespace convnode
