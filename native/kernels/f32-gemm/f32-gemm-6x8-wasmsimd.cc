// WebAssembly SIMD 6x8 micro-kernel: 12 f32x4 accumulators (6 rows x 2 vectors of 4 columns),
// two B vectors and one broadcast A value per step: 15 of the 16 xmm registers V8 and
// SpiderMonkey map v128 locals to on x86-64, so the loop stays in registers. Wasm SIMD has no
// fused multiply-add (relaxed-simd is not in Node 20 by default): multiply, then add, each
// rounded, as the scalar kernel does. The tile goes through the shared scalar store (epilogue:
// bias, residual, activation); a K block is >= 27 steps of 48 multiply-adds, so its 48 stores
// cost a few percent.
#include <wasm_simd128.h>

#include "gemm-tile-store.h"
#include "gemm.h"

namespace convnode {

void f32_gemm_6x8__wasmsimd(size_t mr, size_t nr, size_t kc, const float* a, const float* b, size_t ldb, float* c,
                            size_t ldc, bool accumulate, const Epilogue* epilogue) {
  v128_t acc00 = wasm_f32x4_splat(0.0f), acc01 = acc00, acc10 = acc00, acc11 = acc00, acc20 = acc00, acc21 = acc00;
  v128_t acc30 = acc00, acc31 = acc00, acc40 = acc00, acc41 = acc00, acc50 = acc00, acc51 = acc00;
  for (size_t k = 0; k < kc; k++) {
    const float* bk = b + k * ldb;
    const float* ak = a + k * 6;
    const v128_t b0 = wasm_v128_load(bk);
    const v128_t b1 = wasm_v128_load(bk + 4);
    v128_t ai = wasm_v128_load32_splat(ak);
    acc00 = wasm_f32x4_add(acc00, wasm_f32x4_mul(ai, b0));
    acc01 = wasm_f32x4_add(acc01, wasm_f32x4_mul(ai, b1));
    ai = wasm_v128_load32_splat(ak + 1);
    acc10 = wasm_f32x4_add(acc10, wasm_f32x4_mul(ai, b0));
    acc11 = wasm_f32x4_add(acc11, wasm_f32x4_mul(ai, b1));
    ai = wasm_v128_load32_splat(ak + 2);
    acc20 = wasm_f32x4_add(acc20, wasm_f32x4_mul(ai, b0));
    acc21 = wasm_f32x4_add(acc21, wasm_f32x4_mul(ai, b1));
    ai = wasm_v128_load32_splat(ak + 3);
    acc30 = wasm_f32x4_add(acc30, wasm_f32x4_mul(ai, b0));
    acc31 = wasm_f32x4_add(acc31, wasm_f32x4_mul(ai, b1));
    ai = wasm_v128_load32_splat(ak + 4);
    acc40 = wasm_f32x4_add(acc40, wasm_f32x4_mul(ai, b0));
    acc41 = wasm_f32x4_add(acc41, wasm_f32x4_mul(ai, b1));
    ai = wasm_v128_load32_splat(ak + 5);
    acc50 = wasm_f32x4_add(acc50, wasm_f32x4_mul(ai, b0));
    acc51 = wasm_f32x4_add(acc51, wasm_f32x4_mul(ai, b1));
  }
  float tile[6][8];
  const v128_t rows[6][2] = {{acc00, acc01}, {acc10, acc11}, {acc20, acc21},
                             {acc30, acc31}, {acc40, acc41}, {acc50, acc51}};
  for (size_t i = 0; i < 6; i++) {
    wasm_v128_store(&tile[i][0], rows[i][0]);
    wasm_v128_store(&tile[i][4], rows[i][1]);
  }
  store_tile_scalar<6, 8>(tile, mr, nr, c, ldc, accumulate, epilogue);
}

}  // namespace convnode
