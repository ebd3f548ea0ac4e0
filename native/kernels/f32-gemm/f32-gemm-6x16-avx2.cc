// AVX2+FMA 6x16 micro-kernel: 12 ymm accumulators, 2 B loads and 6 broadcasts per k step, which
// keeps both FMA ports busy on Zen 3 / Haswell-class cores. Built with -mavx2 -mfma (this file only).
// The tile itself is in gemm-6x16-tile-avx2.h, shared with the 1x1 sweep.
#include "gemm-6x16-tile-avx2.h"

namespace convnode {

void f32_gemm_6x16__avx2(size_t mr, size_t nr, size_t kc, const float* a, const float* b, size_t ldb, float* c,
                         size_t ldc, bool accumulate, const Epilogue* epilogue) {
  tile_6x16(mr, nr, kc, a, b, ldb, c, ldc, accumulate, epilogue);
}

}  // namespace convnode
