// The portable F(6x6, 3x3) transforms (the scalar and NEON tables) and the filter transform used
// at prepare time.
#define WINOGRAD_6X6_ISA winograd_6x6_portable
#include "winograd-6x6.inc"

namespace convnode {

void f32_winograd_6x6_input__scalar(const float* plane, const WinogradPlane& g, size_t t0, size_t count, float* v,
                                  size_t point_stride, size_t panel_width, size_t panel_stride) {
  WINOGRAD_6X6_ISA::input_tiles(plane, g, t0, count, v, point_stride, panel_width, panel_stride);
}

void f32_winograd_6x6_output__scalar(const float* m, size_t point_stride, const WinogradPlane& g, size_t t0,
                                   size_t count, float bias, const float* residual_plane, const Activation& act,
                                   float* out_plane) {
  WINOGRAD_6X6_ISA::output_tiles(m, point_stride, g, t0, count, bias, residual_plane, act, out_plane);
}

void f32_winograd_6x6_filter(const float* g, float* u) {
  // G (8x3) for the points 0, 1, -1, 2, -2, 1/2, -1/2 and infinity; computed in double, rounded once.
  static const double kG[8][3] = {{1, 0, 0},
                                  {-2.0 / 9, -2.0 / 9, -2.0 / 9},
                                  {-2.0 / 9, 2.0 / 9, -2.0 / 9},
                                  {1.0 / 90, 1.0 / 45, 2.0 / 45},
                                  {1.0 / 90, -1.0 / 45, 2.0 / 45},
                                  {32.0 / 45, 16.0 / 45, 8.0 / 45},
                                  {32.0 / 45, -16.0 / 45, 8.0 / 45},
                                  {0, 0, 1}};
  double gg[8][3];  // G g
  for (size_t i = 0; i < 8; i++)
    for (size_t j = 0; j < 3; j++) gg[i][j] = kG[i][0] * g[j] + kG[i][1] * g[3 + j] + kG[i][2] * g[6 + j];
  for (size_t i = 0; i < 8; i++)
    for (size_t k = 0; k < 8; k++)
      u[i * 8 + k] = static_cast<float>(gg[i][0] * kG[k][0] + gg[i][1] * kG[k][1] + gg[i][2] * kG[k][2]);
}

}  // namespace convnode
