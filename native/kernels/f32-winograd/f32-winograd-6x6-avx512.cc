// F(6x6, 3x3) transforms, AVX-512: the portable source (winograd-6x6.inc) compiled with the
// avx512 flags (16 tiles per zmm). The same sums in the same order as the scalar build.
#define WINOGRAD_6X6_ISA winograd_6x6_avx512
#include "winograd-6x6.inc"

namespace convnode {

void f32_winograd_6x6_input__avx512(const float* plane, const WinogradPlane& g, size_t t0, size_t count, float* v,
                                  size_t point_stride, size_t panel_width, size_t panel_stride) {
  WINOGRAD_6X6_ISA::input_tiles(plane, g, t0, count, v, point_stride, panel_width, panel_stride);
}

void f32_winograd_6x6_output__avx512(const float* m, size_t point_stride, const WinogradPlane& g, size_t t0,
                                   size_t count, float bias, const float* residual_plane, const Activation& act,
                                   float* out_plane) {
  WINOGRAD_6X6_ISA::output_tiles(m, point_stride, g, t0, count, bias, residual_plane, act, out_plane);
}

}  // namespace convnode
