// col2im for ConvTranspose (ONNX ConvTranspose, UNet decoders): the GEMM (a 1x1 conv from the
// Cin input planes to Cout x KH x KW "footprint" planes) gives every input pixel's contribution
// to each output tap; col2im adds them into the output planes. Input pixel (iy, ix) reaches
// output (iy SH - pad_top + ky DH, ix SW - pad_left + kx DW) through tap (ky, kx), so a kernel
// larger than the stride overlaps neighbouring pixels' footprints (4x4 stride 2: every output
// pixel hears 2 x 2 taps) and the sum cannot be a plain strided copy.
#pragma once
#include <cstddef>

namespace convnode {

struct Col2imPlan {
  size_t batch = 0, channels = 0;      // N, Cout (all groups: each group's planes follow the last's)
  size_t kernel_h = 0, kernel_w = 0;   // KH, KW
  size_t stride_h = 1, stride_w = 1;
  size_t dilation_h = 1, dilation_w = 1;
  size_t pad_top = 0, pad_left = 0;    // taps landing before row / column 0 are dropped
  size_t in_h = 0, in_w = 0;           // the footprint planes' size (the ConvTranspose input's)
  size_t out_h = 0, out_w = 0;         // the output's size (taps landing past it are dropped)
};

// Throws ArgumentError unless every size is positive, the strides and dilations are at least 1,
// the padded extents fit in 32-bit indices, cols holds N x C x KH x KW x inH x inW floats,
// y holds N x C x outH x outW, and bias (when present) one value per channel.
void check_col2im(const Col2imPlan& plan, size_t cols_length, bool has_bias, size_t bias_length, size_t y_length);

// y[n, c, oy, ox] = bias[c] (0 without) + the sum of cols[n, c, ky, kx, iy, ix] over the taps
// with iy SH - pad_top + ky DH == oy and ix SW - pad_left + kx DW == ox. Every output value is
// written (no need to clear y first); rows are split over the thread pool.
void run_col2im(const Col2imPlan& plan, const float* cols, const float* bias, float* y);

}  // namespace convnode
