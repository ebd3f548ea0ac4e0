// F(4x4, 3x3) transforms, AVX-512: the portable source (winograd-4x4.inc) compiled with the
// avx512 flags (GCC 12 at -O3 vectorises its loops along a tile row 16 tiles wide on zmm, the
// Relu / Relu6 epilogue with k-register selects). The same sums in the same order as the scalar
// and avx2 builds, and -ffp-contract=off keeps FMAs out, so all three agree bit for bit.
#define WINOGRAD_4X4_ISA winograd_4x4_avx512
#include "winograd-4x4.inc"

namespace convnode {

void f32_winograd_4x4_input__avx512(const float* plane, const WinogradPlane& g, size_t t0, size_t count, float* v,
                                    size_t point_stride, size_t panel_width, size_t panel_stride) {
  WINOGRAD_4X4_ISA::input_tiles(plane, g, t0, count, v, point_stride, panel_width, panel_stride);
}

void f32_winograd_4x4_output__avx512(const float* m, size_t point_stride, const WinogradPlane& g, size_t t0,
                                     size_t count, float bias, const float* residual_plane, const Activation& act,
                                     float* out_plane) {
  WINOGRAD_4X4_ISA::output_tiles(m, point_stride, g, t0, count, bias, residual_plane, act, out_plane);
}

}  // namespace convnode
