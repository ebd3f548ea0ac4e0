// Panel packing for the micro-kernels (BLIS layout): A in MR-row panels, B in NR-column panels,
// both k-major so a micro-kernel streams them with unit stride.
#include <cstring>

#include "gemm.h"

namespace convnode {

void f32_gemm_pack_a(size_t mr_tile, size_t m, size_t k0, size_t kc, const float* src, size_t lda, float* dst) {
  for (size_t m0 = 0; m0 < m; m0 += mr_tile) {
    const size_t rows = m - m0 < mr_tile ? m - m0 : mr_tile;
    for (size_t k = 0; k < kc; k++) {
      for (size_t i = 0; i < mr_tile; i++) {
        dst[k * mr_tile + i] = i < rows ? src[(m0 + i) * lda + k0 + k] : 0.0f;
      }
    }
    dst += mr_tile * kc;
  }
}

void f32_gemm_pack_b(size_t nr_tile, size_t kc, size_t nc, const float* src, size_t k_stride, size_t n_stride,
                     float* dst) {
  const size_t panels = (nc + nr_tile - 1) / nr_tile;
  for (size_t p = 0; p < panels; p++) {
    const size_t n0 = p * nr_tile;
    const size_t cols = nc - n0 < nr_tile ? nc - n0 : nr_tile;
    for (size_t k = 0; k < kc; k++) {
      const float* row = src + k * k_stride + n0 * n_stride;
      float* out = dst + p * kc * nr_tile + k * nr_tile;
      for (size_t j = 0; j < nr_tile; j++) out[j] = j < cols ? row[j * n_stride] : 0.0f;
    }
  }
}

void f32_gemm_pack_b_rows(size_t nr_tile, size_t kc, size_t nc, const float* src, size_t k_stride, float* dst) {
  const size_t full = nc / nr_tile;
  for (size_t k = 0; k < kc; k++) {
    const float* row = src + k * k_stride;
    float* out = dst + k * nr_tile;
    if (nr_tile == 16) {  // a constant size lets the copy inline instead of calling memcpy
      for (size_t p = 0; p < full; p++) std::memcpy(out + p * kc * 16, row + p * 16, 16 * sizeof(float));
    } else {
      for (size_t p = 0; p < full; p++) std::memcpy(out + p * kc * nr_tile, row + p * nr_tile, nr_tile * sizeof(float));
    }
    if (full * nr_tile < nc) {
      const size_t cols = nc - full * nr_tile;
      float* last = out + full * kc * nr_tile;
      std::memcpy(last, row + full * nr_tile, cols * sizeof(float));
      for (size_t j = cols; j < nr_tile; j++) last[j] = 0.0f;
    }
  }
}

// Lives with the packing because it is the plain reading of the A panel layout pack_a writes.
void f32_gemv_general__scalar(size_t mr, size_t kc, const float* a, const float* x, float* acc) {
  for (size_t k = 0; k < kc; k++) {
    const float xk = x[k];
    for (size_t i = 0; i < mr; i++) acc[i] += a[i] * xk;
    a += mr;
  }
}

}  // namespace convnode
