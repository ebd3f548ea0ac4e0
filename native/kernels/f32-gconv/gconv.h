// Grouped convolution computed directly, without im2col: for narrow groups (ResNeXt's 4-8
// channels, RegNet's 8-16) a group's im2col is reused by only 4-16 filter rows, so packing it
// costs about what the multiplies do. These kernels read a group's input from a zero-padded copy
// of its channel planes and keep up to 8 output channels x 8 pixels of one output row in
// registers: per tap, one load of 8 input pixels feeds 8 FMAs with broadcast weights.
// Stride 1 only (any kernel size and dilation).
#pragma once
#include <cstddef>

#include "../epilogue.h"

namespace convnode {

constexpr size_t kGconvBlock = 8;  // output channels per block, and pixels per vector step

struct GconvRows {
  // The group's input channels, each a plane of padded_h x padded_w with the conv's padding as
  // zeros around it; at least kGconvBlock floats of slack after the last plane.
  const float* padded;
  size_t group_in, padded_h, padded_w;
  // [group_in * KH * KW][kGconvBlock]: the block's weights, output channel fastest, zeros for
  // channels past out_count.
  const float* weights;
  size_t out_count;  // 1 .. kGconvBlock
  size_t kernel_h, kernel_w, dilation_h, dilation_w;
  size_t row_begin, row_end, out_w;  // output rows [row_begin, row_end), each out_w wide
  float* out;                        // channel o's plane at out + o * out_plane
  size_t out_plane;
  const float* residual;             // null, or laid out like out
  const float* bias;                 // null, or out_count values
  Activation activation;
};

using GconvKernel = void (*)(const GconvRows& rows);

void f32_gconv_direct__scalar(const GconvRows& rows);
void f32_gconv_direct__avx2(const GconvRows& rows);

}  // namespace convnode
