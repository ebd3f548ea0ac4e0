// The F(2x2, 3x3) transforms compiled with -mavx2 -mfma (this file only): the lane loops of
// winograd-2x2.inc become 8-wide AVX2 code.
#include "winograd.h"
#define CONVNODE_WINOGRAD_ISA winograd_avx2
#include "winograd-2x2.inc"

namespace convnode {

void f32_winograd_2x2_input__avx2(const float* plane, const WinogradPlane& g, size_t t0, size_t count, float* v,
                                  size_t point_stride, size_t panel_width, size_t panel_stride) {
  winograd_avx2::input_tiles(plane, g, t0, count, v, point_stride, panel_width, panel_stride);
}

void f32_winograd_2x2_output__avx2(const float* m, size_t point_stride, const WinogradPlane& g, size_t t0,
                                   size_t count, float bias, const float* residual_plane, const Activation& act,
                                   float* out_plane) {
  winograd_avx2::output_tiles(m, point_stride, g, t0, count, bias, residual_plane, act, out_plane);
}

}  // namespace convnode
