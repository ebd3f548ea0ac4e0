// Winograd transforms (Lavin & Gray) for 3x3 stride-1 convs: each T x T output tile comes from a
// (T + 2) x (T + 2) input tile as (T + 2)^2 element-wise products, which the conv driver batches
// into that many GEMMs [Cout x Cin] x [Cin x tiles].
//  - F(2x2, 3x3): 16 multiplies per tile and channel pair instead of 36 (2.25x fewer). Its
//    transforms only add and subtract: AVX2 intrinsics straight from the input rows
//    (f32-winograd-2x2-avx2.cc), and a portable version whose loops the compiler vectorises
//    (-scalar.cc, also NEON's).
//  - F(4x4, 3x3): 36 multiplies for 16 outputs instead of 144 (4x fewer), at 36/9 of the
//    filters in packed weights. Its transforms scale values by up to 5 (input) and 8 (output)
//    along each axis, so its float32 error is larger: the accuracy rule it is held to is the
//    float error model of native/README.md (|y - y64| <= c (Cin K K) eps32 sum|w x|), not a
//    flat tolerance. One portable source (winograd-4x4.inc) compiled twice: plain
//    (-scalar.cc, the scalar and NEON tables) and with -mavx2 -mfma (-avx2.cc).
#pragma once
#include <cstddef>

#include "../epilogue.h"

namespace convnode {

// F(2x2, 3x3): output pixels per tile side, input pixels per tile side, products per tile.
constexpr size_t kWinogradTile = 2;
constexpr size_t kWinogradInput = 4;
constexpr size_t kWinogradPoints = 16;
// F(4x4, 3x3).
constexpr size_t kWinograd4x4Tile = 4;
constexpr size_t kWinograd4x4Input = 6;
constexpr size_t kWinograd4x4Points = 36;
// F(6x6, 3x3).
constexpr size_t kWinograd6x6Tile = 6;
constexpr size_t kWinograd6x6Input = 8;
constexpr size_t kWinograd6x6Points = 64;

// Where the tiles of one channel plane sit: with T the tile's output side (2 or 4), tile t
// covers output rows T*(t / tiles_w) + [0, T) and columns T*(t % tiles_w) + [0, T), and reads
// the (T + 2) x (T + 2) input from (row - pad_top, col - pad_left).
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

// F(4x4, 3x3): the same contracts with 6x6 input tiles, 36 points and 4x4 output tiles.
void f32_winograd_4x4_input__scalar(const float* plane, const WinogradPlane& g, size_t t0, size_t count, float* v,
                                    size_t point_stride, size_t panel_width, size_t panel_stride);
void f32_winograd_4x4_output__scalar(const float* m, size_t point_stride, const WinogradPlane& g, size_t t0,
                                     size_t count, float bias, const float* residual_plane, const Activation& act,
                                     float* out_plane);
void f32_winograd_4x4_input__avx2(const float* plane, const WinogradPlane& g, size_t t0, size_t count, float* v,
                                  size_t point_stride, size_t panel_width, size_t panel_stride);
void f32_winograd_4x4_output__avx2(const float* m, size_t point_stride, const WinogradPlane& g, size_t t0,
                                   size_t count, float bias, const float* residual_plane, const Activation& act,
                                   float* out_plane);

void f32_winograd_4x4_input__avx512(const float* plane, const WinogradPlane& g, size_t t0, size_t count, float* v,
                                    size_t point_stride, size_t panel_width, size_t panel_stride);
void f32_winograd_4x4_output__avx512(const float* m, size_t point_stride, const WinogradPlane& g, size_t t0,
                                     size_t count, float bias, const float* residual_plane, const Activation& act,
                                     float* out_plane);

// F(6x6, 3x3) (winograd-6x6.inc): 8x8 input tiles, 64 points, 6x6 output tiles.
void f32_winograd_6x6_input__scalar(const float* plane, const WinogradPlane& g, size_t t0, size_t count, float* v,
                                    size_t point_stride, size_t panel_width, size_t panel_stride);
void f32_winograd_6x6_output__scalar(const float* m, size_t point_stride, const WinogradPlane& g, size_t t0,
                                     size_t count, float bias, const float* residual_plane, const Activation& act,
                                     float* out_plane);
void f32_winograd_6x6_input__avx2(const float* plane, const WinogradPlane& g, size_t t0, size_t count, float* v,
                                  size_t point_stride, size_t panel_width, size_t panel_stride);
void f32_winograd_6x6_output__avx2(const float* m, size_t point_stride, const WinogradPlane& g, size_t t0,
                                   size_t count, float bias, const float* residual_plane, const Activation& act,
                                   float* out_plane);
void f32_winograd_6x6_input__avx512(const float* plane, const WinogradPlane& g, size_t t0, size_t count, float* v,
                                    size_t point_stride, size_t panel_width, size_t panel_stride);
void f32_winograd_6x6_output__avx512(const float* m, size_t point_stride, const WinogradPlane& g, size_t t0,
                                     size_t count, float bias, const float* residual_plane, const Activation& act,
                                     float* out_plane);

// The point GEMMs' full tile (the f32-winograd-gemm list, KernelConfig::winograd_gemm): c[MR x NR]
// (+)= A panel (MR rows interleaved, kc deep) x B panel (kc x NR) on the panels of the GEMM entry
// whose tiling names it, summed in that entry's main tile's order (the same bits), with the A
// line `prefetch` floats ahead requested at every k step.
using WinogradGemmKernel = void (*)(size_t kc, const float* a, const float* b, float* c, size_t ldc, bool accumulate,
                                    size_t prefetch);
void f32_winograd_gemm_16x16__avx512(size_t kc, const float* a, const float* b, float* c, size_t ldc, bool accumulate,
                                     size_t prefetch);

// U = G g G^T of one 3x3 filter (row-major): u[point] for the 16 points (F(2x2)) or the 36
// points (F(4x4)), computed in double and rounded once.
void f32_winograd_2x2_filter(const float* g, float* u);
void f32_winograd_4x4_filter(const float* g, float* u);
void f32_winograd_6x6_filter(const float* g, float* u);  // 64 points

}  // namespace convnode
