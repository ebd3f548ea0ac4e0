// Grouped convolution computed directly, without im2col: for narrow groups (ResNeXt's 4-32
// channels, RegNet's 8-24) a group's im2col is reused by only 4-16 filter rows, so packing it
// costs about what the multiplies do. The op copies a group's input once into zero-padded
// planes (split into stride x stride phase planes, so a strided window becomes a plain shifted
// read); these kernels then treat each output plane as one flat run of pixels on the padded
// grid (grid_w columns per row, of which the first out_w are real) and keep up to 8 output
// channels x P vectors of consecutive grid pixels in registers: per tap, P input loads feed
// 8 x P FMAs with broadcast weights. Every tap is one constant offset from the pixel, so the
// FMA loop has no row or border case; the columns past out_w are computed and never stored
// (on a 56-wide map, 2 of 58; on a 7x7 one, 2 of 9, where whole-row vectors would waste 9 of 16).
#pragma once
#include <cstddef>

#include "../epilogue.h"

namespace convnode {

constexpr size_t kGconvBlock = 8;  // output channels per weight block
// Floats the kernels may read past the last input plane's end (whole vectors of the last step,
// beyond the grid's last pixel): the op allocates this much slack, plus the widest tap offset.
constexpr size_t kGconvSlack = 128;

struct GconvRows {
  // The group's input channels, plane_floats apart; tap t of grid pixel q reads
  // padded[ci * plane_floats + q + tap_offsets[t]] (the stride and dilation are in the offsets).
  const float* padded;
  size_t group_in, plane_floats;
  const size_t* tap_offsets;  // taps entries
  size_t taps;
  // [group_in * taps][kGconvBlock]: the block's weights, output channel fastest, zeros for
  // channels past out_count.
  const float* weights;
  size_t out_count;         // 1 .. kGconvBlock
  size_t out_h, out_w;      // the output plane
  size_t grid_w;            // >= out_w: grid pixel q is output (q / grid_w, q % grid_w)
  float* out;               // channel o's plane at out + o * out_h * out_w
  const float* residual;    // null, or laid out like out
  const float* bias;        // null, or out_count values
  Activation activation;
};

using GconvKernel = void (*)(const GconvRows& rows);

// Channels in lanes (f32-gconv-lanes-*): 16 output channels of a group per pixel held in vector
// lanes, each tap one broadcast input float times one weight vector, so the input is read in
// place from its NCHW planes (no padded copy, no phase planes: the stride is a step between the
// broadcasts' addresses) and no lane is wasted on a 7- or 14-wide map. The borders are steps
// whose tap ranges are cut: a row of interior pixels shares its rows of taps, a column of
// interior rows its columns of taps; only corner pixels go alone. Results are written pixel by
// pixel (16 channels each) to a tile, which a register transpose turns into runs of each
// channel's plane, where bias, residual and activation are applied. onnxruntime's NCHWc grouped
// conv works this way on its blocked layout; here the block is made at the output only.
constexpr size_t kGconvLanesBlock = 16;  // output channels per block

struct GconvLanes {
  const float* input;  // the group's first input plane; group_in planes of in_h x in_w
  size_t group_in, in_h, in_w;
  size_t kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;
  size_t out_h, out_w;
  // [group_in][kernel_h][kernel_w][kGconvLanesBlock]: zeros for channels past out_count.
  const float* weights;
  size_t out_count;       // 1 .. kGconvLanesBlock
  float* tile;            // gconv_lanes_tile_floats(out_h * out_w) floats, 64-byte aligned
  float* out;             // channel o's plane at out + o * out_h * out_w
  const float* residual;  // null, or laid out like out
  const float* bias;      // null, or out_count values
  Activation activation;
};

// The tile: every output pixel's 16 channels, rounded up to whole runs of 16 pixels (the
// transpose reads whole runs).
inline size_t gconv_lanes_tile_floats(size_t plane) { return (plane + 15) / 16 * 16 * kGconvLanesBlock; }

using GconvLanesKernel = void (*)(const GconvLanes& g);

void f32_gconv_lanes__scalar(const GconvLanes& g);
void f32_gconv_lanes__avx2(const GconvLanes& g);
void f32_gconv_lanes__avx512(const GconvLanes& g);

void f32_gconv_direct__scalar(const GconvRows& rows);
void f32_gconv_direct__avx2(const GconvRows& rows);
void f32_gconv_direct__avx512(const GconvRows& rows);

}  // namespace convnode
