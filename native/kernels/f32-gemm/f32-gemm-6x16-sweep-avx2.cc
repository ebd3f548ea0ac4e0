// AVX2+FMA: one 6-row A panel swept over a block's 16-wide B panels (the 1x1 path with small K),
// the 6x16 tile inlined per panel and the 6x8 edge tile for a last panel of <= 8 columns.
// Built with -mavx2 -mfma (this file only).
#include "gemm-6x16-tile-avx2.h"

namespace convnode {

// One A panel against nc columns of 16-wide B panels (kc x 16 each, consecutive). With K = 16
// a tile is ~100 cycles of FMAs, and a driver call per tile (its epilogue set-up, prefetch
// slicing, the call) added about half that again.
void f32_gemm_6x16_sweep__avx2(size_t mr, size_t nc, size_t kc, const float* a, const float* b, float* c, size_t ldc,
                               bool accumulate, const Epilogue* epilogue) {
  Epilogue moved;  // the epilogue with its residual pointer at the tile's first column
  if (epilogue != nullptr) moved = *epilogue;
  const Epilogue* ep = epilogue != nullptr ? &moved : nullptr;
  for (size_t j = 0; j < nc; j += 16, b += kc * 16) {
    if (epilogue != nullptr && epilogue->residual != nullptr) moved.residual = epilogue->residual + j;
    const size_t nr = nc - j < 16 ? nc - j : 16;
    if (nr <= 8) {
      f32_gemm_6x8__avx2(mr, nr, kc, a, b, 16, c + j, ldc, accumulate, ep);
    } else {
      tile_6x16(mr, nr, kc, a, b, 16, c + j, ldc, accumulate, ep);
    }
  }
}

}  // namespace convnode
