// The portable F(2x2, 3x3) transforms (the scalar and NEON tables; on aarch64 the lane loops
// compile to NEON, which is baseline there) and the filter transform used at prepare time.
#include "winograd.h"
#define CONVNODE_WINOGRAD_ISA winograd_scalar
#include "winograd-2x2.inc"

namespace convnode {

void f32_winograd_2x2_input__scalar(const float* plane, const WinogradPlane& g, size_t t0, size_t count, float* v,
                                    size_t point_stride, size_t panel_width, size_t panel_stride) {
  winograd_scalar::input_tiles(plane, g, t0, count, v, point_stride, panel_width, panel_stride);
}

void f32_winograd_2x2_output__scalar(const float* m, size_t point_stride, const WinogradPlane& g, size_t t0,
                                     size_t count, float bias, const float* residual_plane, const Activation& act,
                                     float* out_plane) {
  winograd_scalar::output_tiles(m, point_stride, g, t0, count, bias, residual_plane, act, out_plane);
}

void f32_winograd_2x2_filter(const float* g, float* u) {
  // G (4x3) for the points 0, 1, -1 and infinity; computed in double, rounded once.
  static const double kG[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
  double gg[4][3];  // G g
  for (size_t i = 0; i < 4; i++)
    for (size_t j = 0; j < 3; j++) gg[i][j] = kG[i][0] * g[j] + kG[i][1] * g[3 + j] + kG[i][2] * g[6 + j];
  for (size_t i = 0; i < 4; i++)
    for (size_t k = 0; k < 4; k++)
      u[i * 4 + k] = static_cast<float>(gg[i][0] * kG[k][0] + gg[i][1] * kG[k][1] + gg[i][2] * kG[k][2]);
}

}  // namespace convnode
