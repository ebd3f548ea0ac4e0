// WebAssembly SIMD form of the epilogue's activation for the kinds that are a few compares and
// multiplies (the twin of neon-epilogue.h's cheap kinds). The others (exp, tanh, erf, and
// hardSigmoid, whose scalar form rounds once where wasm has no fused multiply-add) run the scalar
// activate() lane by lane. Clamps use f32x4.pmin / pmax (pmax(a, b) = a < b ? b : a), not min /
// max: they are the scalar definition's comparisons exactly (a NaN input comes out as NaN, -0
// stays -0), and V8 compiles each to one minps / maxps, where f32x4.max's NaN and signed-zero
// rules cost it seven more instructions (perf on V8 11.3, Zen 4: 33% of dw 3x3 32@112's
// samples were that sequence).
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
    // x < 0 ? 0 : x, then x > 6 ? 6 : x (pmin(a, b) = b < a ? b : a), as epilogue.h's activate().
    case ActivationKind::Relu: return wasm_f32x4_pmax(x, zero);
    case ActivationKind::Relu6: return wasm_f32x4_pmin(wasm_f32x4_pmax(x, zero), wasm_f32x4_splat(6.0f));
    case ActivationKind::Clip:
      return wasm_f32x4_pmin(wasm_f32x4_pmax(x, wasm_f32x4_splat(act.min)), wasm_f32x4_splat(act.max));
    case ActivationKind::LeakyRelu:
      return wasm_v128_bitselect(wasm_f32x4_mul(x, wasm_f32x4_splat(act.alpha)), x, wasm_f32x4_lt(x, zero));
    case ActivationKind::HardSwish: {
      const v128_t sum = wasm_f32x4_add(x, wasm_f32x4_splat(3.0f));
      const v128_t gate = wasm_f32x4_pmin(wasm_f32x4_pmax(sum, zero), wasm_f32x4_splat(6.0f));
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
