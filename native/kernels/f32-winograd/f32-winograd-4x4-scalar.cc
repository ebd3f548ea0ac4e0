// The portable F(4x4, 3x3) transforms (the scalar and NEON tables; on aarch64 the loops compile
// to NEON, baseline there) and the filter transform used at prepare time.
#define WINOGRAD_4X4_ISA winograd_4x4_portable
#include "winograd-4x4.inc"

namespace convnode {

void f32_winograd_4x4_input__scalar(const float* plane, const WinogradPlane& g, size_t t0, size_t count, float* v,
                                    size_t point_stride, size_t panel_width, size_t panel_stride) {
  WINOGRAD_4X4_ISA::input_tiles(plane, g, t0, count, v, point_stride, panel_width, panel_stride);
}

void f32_winograd_4x4_output__scalar(const float* m, size_t point_stride, const WinogradPlane& g, size_t t0,
                                     size_t count, float bias, const float* residual_plane, const Activation& act,
                                     float* out_plane) {
  WINOGRAD_4X4_ISA::output_tiles(m, point_stride, g, t0, count, bias, residual_plane, act, out_plane);
}

void f32_winograd_4x4_filter(const float* g, float* u) {
  // G (6x3) for the points 0, 1, -1, 2, -2 and infinity; computed in double, rounded once.
  static const double kG[6][3] = {{1.0 / 4, 0, 0},
                                  {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                  {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                  {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                  {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                  {0, 0, 1}};
  double gg[6][3];  // G g
  for (size_t i = 0; i < 6; i++)
    for (size_t j = 0; j < 3; j++) gg[i][j] = kG[i][0] * g[j] + kG[i][1] * g[3 + j] + kG[i][2] * g[6 + j];
  for (size_t i = 0; i < 6; i++)
    for (size_t k = 0; k < 6; k++)
      u[i * 6 + k] = static_cast<float>(gg[i][0] * kG[k][0] + gg[i][1] * kG[k][1] + gg[i][2] * kG[k][2]);
}

}  // namespace convnode
