// WebAssembly SIMD GEMV over the 4x8 kernel's 4-row packed A panels: a Linear layer at batch 1-2
// (and Winograd's last few columns). A 4-row panel holds one f32x4 per k, the four rows' weights
// for that input, so each step is one load, one splat of x[k], one multiply and one add. Four
// accumulators (k mod 4) keep four independent add chains in flight (wasm SIMD has no fused
// multiply-add: a single chain would wait on each add's latency). The portable loop this
// replaces ran this layer at the pure-JS path's speed (bench/wasm.mjs 'linear 1280->1000').
#include <wasm_simd128.h>

#include "gemm.h"

namespace convnode {

void f32_gemv_4x1__wasmsimd(size_t /*mr == 4*/, size_t kc, const float* a, const float* x, float* acc) {
  v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0, s2 = s0, s3 = s0;
  size_t k = 0;
  for (; k + 4 <= kc; k += 4) {
    const v128_t xk = wasm_v128_load(x + k);
    s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(a), wasm_i32x4_shuffle(xk, xk, 0, 0, 0, 0)));
    s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(wasm_v128_load(a + 4), wasm_i32x4_shuffle(xk, xk, 1, 1, 1, 1)));
    s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(wasm_v128_load(a + 8), wasm_i32x4_shuffle(xk, xk, 2, 2, 2, 2)));
    s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(wasm_v128_load(a + 12), wasm_i32x4_shuffle(xk, xk, 3, 3, 3, 3)));
    a += 16;
  }
  for (; k < kc; k++) {
    s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(a), wasm_v128_load32_splat(x + k)));
    a += 4;
  }
  float sums[4];
  wasm_v128_store(sums, wasm_f32x4_add(wasm_f32x4_add(s0, s1), wasm_f32x4_add(s2, s3)));
  for (size_t i = 0; i < 4; i++) acc[i] += sums[i];
}

}  // namespace convnode
