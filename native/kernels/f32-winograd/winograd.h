// Winograd F(2x2, 3x3) transforms (Lavin & Gray): a 3x3 stride-1 conv computed per 2x2 output
// tile from a 4x4 input tile as 16 element-wise products, which the conv driver batches into 16
// GEMMs [Cout x Cin] x [Cin x tiles]. 16 multiplies per tile and channel pair instead of 36:
// 2.25x fewer. F(4x4, 3x3) (4x fewer) was tried first and missed the 1e-4 parity tolerance in
// float32 already at Cin 40 (error 1.4e-4 on an output of 1.2; the transforms scale values by
// up to 5 and 8 in each direction), so larger tiles stay out. The transforms run 8 tiles of a
// tile row at a time: AVX2 intrinsics straight from the input rows (f32-winograd-2x2-avx2.cc),
// and a portable version whose loops the compiler vectorises (-scalar.cc, also NEON's).
#pragma once
#include <cstddef>

#include "../epilogue.h"

namespace convnode {

constexpr size_t kWinogradTile = 2;     // output pixels per tile side
constexpr size_t kWinogradInput = 4;    // input pixels per tile side
constexpr size_t kWinogradPoints = 16;  // element-wise products per tile

// Where the tiles of one channel plane sit: tile t covers output rows 2*(t / tiles_w) + [0, 2)
// and columns 2*(t % tiles_w) + [0, 2), and reads input from (row - pad_top, col - pad_left).
struct WinogradPlane {
  size_t in_h, in_w;
  size_t out_h, out_w;
  size_t pad_top, pad_left;
  size_t tiles_w;
};

// Transforms tiles [t0, t0 + count) of one input channel plane (zeros outside it) into
// v[point * point_stride + slot(t - t0)] = (B^T d B)[point], where slot(o) =
// (o / panel_width) * panel_stride + o % panel_width: with panel_width NR and panel_stride Cin x NR
// that is the GEMM micro-kernel's packed B layout (v pointing at the channel's row of panel 0);
// with panel_width >= count, plain rows. Slots of the last panel row past the last tile (o in
// [count, round_up(count, panel_width))) may be overwritten with values nobody reads; nothing
// else outside the tiles' slots is written.
using WinogradInputKernel = void (*)(const float* plane, const WinogradPlane& g, size_t t0, size_t count, float* v,
                                     size_t point_stride, size_t panel_width, size_t panel_stride);

// The inverse: from m[point * point_stride + (t - t0)] (one output channel's products) writes the
// 2x2 tiles A^T m A of tiles [t0, t0 + count) into the output plane, clipped to out_h x out_w,
// through the epilogue: activation(value + bias + residual). residual_plane: null or laid out
// like out_plane.
using WinogradOutputKernel = void (*)(const float* m, size_t point_stride, const WinogradPlane& g, size_t t0,
                                      size_t count, float bias, const float* residual_plane, const Activation& act,
                                      float* out_plane);

void f32_winograd_2x2_input__scalar(const float* plane, const WinogradPlane& g, size_t t0, size_t count, float* v,
                                    size_t point_stride, size_t panel_width, size_t panel_stride);
void f32_winograd_2x2_output__scalar(const float* m, size_t point_stride, const WinogradPlane& g, size_t t0,
                                     size_t count, float bias, const float* residual_plane, const Activation& act,
                                     float* out_plane);
void f32_winograd_2x2_input__avx2(const float* plane, const WinogradPlane& g, size_t t0, size_t count, float* v,
                                  size_t point_stride, size_t panel_width, size_t panel_stride);
void f32_winograd_2x2_output__avx2(const float* m, size_t point_stride, const WinogradPlane& g, size_t t0,
                                   size_t count, float bias, const float* residual_plane, const Activation& act,
                                   float* out_plane);

// U = G g G^T of one 3x3 filter (row-major): u[point] for the 16 points.
void f32_winograd_2x2_filter(const float* g, float* u);

// g = L U L^T with L G = I for L's rows (1 0 0 0), (0 1 -1 0), (0 0 0 1): points 0 and 3 are
// taps of g, points 1 - 2 the middle tap. Summed in double, rounded once.
void f32_winograd_2x2_filter_inverse(const double* u, float* g);

}  // namespace convnode
