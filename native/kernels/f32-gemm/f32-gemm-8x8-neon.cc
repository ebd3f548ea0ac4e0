// NEON 8x8 micro-kernel (AArch64): 16 q-register accumulators, one 8-float B row and two 4-float
// A loads per k step, lane-indexed FMAs. Compiled on arm64 only.
#include <arm_neon.h>

#include "gemm-tile-store.h"
#include "gemm.h"

namespace convnode {

void f32_gemm_8x8__neon(size_t mr, size_t nr, size_t kc, const float* a, const float* b, size_t ldb, float* c,
                        size_t ldc, bool accumulate, const Epilogue* epilogue) {
  float32x4_t acc[8][2];
  for (size_t i = 0; i < 8; i++) acc[i][0] = acc[i][1] = vdupq_n_f32(0.0f);
  for (size_t k = 0; k < kc; k++) {
    const float32x4_t b0 = vld1q_f32(b);
    const float32x4_t b1 = vld1q_f32(b + 4);
    b += ldb;
    const float32x4_t a0 = vld1q_f32(a);
    const float32x4_t a1 = vld1q_f32(a + 4);
    a += 8;
    acc[0][0] = vfmaq_laneq_f32(acc[0][0], b0, a0, 0);
    acc[0][1] = vfmaq_laneq_f32(acc[0][1], b1, a0, 0);
    acc[1][0] = vfmaq_laneq_f32(acc[1][0], b0, a0, 1);
    acc[1][1] = vfmaq_laneq_f32(acc[1][1], b1, a0, 1);
    acc[2][0] = vfmaq_laneq_f32(acc[2][0], b0, a0, 2);
    acc[2][1] = vfmaq_laneq_f32(acc[2][1], b1, a0, 2);
    acc[3][0] = vfmaq_laneq_f32(acc[3][0], b0, a0, 3);
    acc[3][1] = vfmaq_laneq_f32(acc[3][1], b1, a0, 3);
    acc[4][0] = vfmaq_laneq_f32(acc[4][0], b0, a1, 0);
    acc[4][1] = vfmaq_laneq_f32(acc[4][1], b1, a1, 0);
    acc[5][0] = vfmaq_laneq_f32(acc[5][0], b0, a1, 1);
    acc[5][1] = vfmaq_laneq_f32(acc[5][1], b1, a1, 1);
    acc[6][0] = vfmaq_laneq_f32(acc[6][0], b0, a1, 2);
    acc[6][1] = vfmaq_laneq_f32(acc[6][1], b1, a1, 2);
    acc[7][0] = vfmaq_laneq_f32(acc[7][0], b0, a1, 3);
    acc[7][1] = vfmaq_laneq_f32(acc[7][1], b1, a1, 3);
  }
  // The epilogue is cheap next to kc * 16 FMAs, so one scalar store path serves every tile.
  float tile[8][8];
  for (size_t i = 0; i < 8; i++) {
    vst1q_f32(tile[i], acc[i][0]);
    vst1q_f32(tile[i] + 4, acc[i][1]);
  }
  store_tile_scalar<8, 8>(tile, mr, nr, c, ldc, accumulate, epilogue);
}

}  // namespace convnode
