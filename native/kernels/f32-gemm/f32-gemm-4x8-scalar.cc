// Portable 4x8 micro-kernel: the reference every vector kernel is tested against.
#include "gemm-tile-store.h"
#include "gemm.h"

namespace convnode {

void f32_gemm_4x8__scalar(size_t mr, size_t nr, size_t kc, const float* a, const float* b, size_t ldb, float* c,
                          size_t ldc, bool accumulate, const Epilogue* epilogue) {
  float acc[4][8] = {};
  for (size_t k = 0; k < kc; k++) {
    const float* bk = b + k * ldb;
    const float* ak = a + k * 4;
    for (size_t i = 0; i < 4; i++) {
      for (size_t j = 0; j < 8; j++) acc[i][j] += ak[i] * bk[j];
    }
  }
  store_tile_scalar<4, 8>(acc, mr, nr, c, ldc, accumulate, epilogue);
}

}  // namespace convnode
