// WebAssembly SIMD 4x8 micro-kernel: 8 f32x4 accumulators (4 rows x 2 vectors of 4 columns),
// two B vectors and one broadcast A value per step: 11 registers, well inside the 15 xmm
// registers V8 allocates on x86-64 (it keeps xmm15 as scratch), where the 6x8 tile's 15 live
// vectors spill (measured: the 6x8 tile took 1.09-1.40x this one's CPU time on im2col, 1x1 and
// stem convs, V8 in Node 20 on Zen 4). No fused multiply-add in wasm SIMD: multiply, then add.
// A full tile is stored in vectors, epilogue (bias, residual, the cheap activations) included:
// with short K (the Cin-3 stem's 27, a 1x1 expand's 16-32) the tile is written after only
// 16-32 multiply-adds per output, and the shared scalar store (a branch per value on
// accumulate, bias, residual and the activation kind) cost about as much as the products.
// Partial tiles and the costly activations go through that scalar store.
#include <wasm_simd128.h>

#include "../../simd/wasmsimd-epilogue.h"
#include "gemm-tile-store.h"
#include "gemm.h"

namespace convnode {

namespace {

// One row of a full tile: the two accumulators of row i, finished and stored.
inline void store_row(v128_t lo, v128_t hi, size_t i, float* c, size_t ldc, bool accumulate, const Epilogue* ep) {
  float* row = c + i * ldc;
  if (accumulate) {
    lo = wasm_f32x4_add(lo, wasm_v128_load(row));
    hi = wasm_f32x4_add(hi, wasm_v128_load(row + 4));
  }
  if (ep != nullptr) {
    if (ep->bias != nullptr) {
      const v128_t bias = wasm_v128_load32_splat(ep->bias + i);
      lo = wasm_f32x4_add(lo, bias);
      hi = wasm_f32x4_add(hi, bias);
    }
    if (ep->residual != nullptr) {
      const float* residual = ep->residual + i * ep->residual_stride;
      lo = wasm_f32x4_add(lo, wasm_v128_load(residual));
      hi = wasm_f32x4_add(hi, wasm_v128_load(residual + 4));
    }
    lo = wasmsimd_activate_cheap(lo, ep->activation);
    hi = wasmsimd_activate_cheap(hi, ep->activation);
  }
  wasm_v128_store(row, lo);
  wasm_v128_store(row + 4, hi);
}

}  // namespace

void f32_gemm_4x8__wasmsimd(size_t mr, size_t nr, size_t kc, const float* a, const float* b, size_t ldb, float* c,
                            size_t ldc, bool accumulate, const Epilogue* epilogue) {
  v128_t acc00 = wasm_f32x4_splat(0.0f), acc01 = acc00, acc10 = acc00, acc11 = acc00;
  v128_t acc20 = acc00, acc21 = acc00, acc30 = acc00, acc31 = acc00;
  for (size_t k = 0; k < kc; k++) {
    const float* bk = b + k * ldb;
    const float* ak = a + k * 4;
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
  }
  if (mr == 4 && nr == 8 && (epilogue == nullptr || wasmsimd_cheap_kind(epilogue->activation.kind))) {
    store_row(acc00, acc01, 0, c, ldc, accumulate, epilogue);
    store_row(acc10, acc11, 1, c, ldc, accumulate, epilogue);
    store_row(acc20, acc21, 2, c, ldc, accumulate, epilogue);
    store_row(acc30, acc31, 3, c, ldc, accumulate, epilogue);
    return;
  }
  float tile[4][8];
  wasm_v128_store(&tile[0][0], acc00);
  wasm_v128_store(&tile[0][4], acc01);
  wasm_v128_store(&tile[1][0], acc10);
  wasm_v128_store(&tile[1][4], acc11);
  wasm_v128_store(&tile[2][0], acc20);
  wasm_v128_store(&tile[2][4], acc21);
  wasm_v128_store(&tile[3][0], acc30);
  wasm_v128_store(&tile[3][4], acc31);
  store_tile_scalar<4, 8>(tile, mr, nr, c, ldc, accumulate, epilogue);
}

}  // namespace convnode
