// AVX2+FMA 6x8 edge micro-kernel over the 6x16 kernel's panels (the tile is in
// gemm-6x16-tile-avx2.h, shared with the sweep). Built with -mavx2 -mfma (this file only).
#include "gemm-6x16-tile-avx2.h"

namespace convnode {

void f32_gemm_6x8__avx2(size_t mr, size_t nr, size_t kc, const float* a, const float* b, size_t ldb, float* c,
                        size_t ldc, bool accumulate, const Epilogue* epilogue) {
  tile_6x8_avx2(mr, nr, kc, a, b, ldb, c, ldc, accumulate, epilogue);
}

}  // namespace convnode
