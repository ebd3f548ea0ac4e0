// Depthwise convolution, one channel plane at a time (direct, no im2col): every output pixel is a
// KH x KW dot product with that channel's own filter, then the fused epilogue.
// Kernels: the K x K stride-S row kernel of each vector ISA (dwconv-kxk.inc, one
// f32-dwconv-KxKsS-ISA.cc per variant), and the general scalar one.
#pragma once
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "../epilogue.h"

namespace convnode {

struct DwconvPlane {
  const float* input;
  size_t in_h, in_w;
  const float* weights;  // kernel_h * kernel_w
  float bias;
  float* output;
  size_t out_h, out_w;
  size_t row_begin, row_end;  // output rows this call computes (threads split tall planes)
  size_t kernel_h, kernel_w;
  size_t stride_h, stride_w;
  size_t dilation_h, dilation_w;
  size_t pad_top, pad_left;
  const float* residual;  // laid out like output, or null
  Activation activation;
  // A call may compute a run of whole planes (ops/depthwise.cc does for small maps): plane i reads
  // input + i * in_h * in_w, weights + i * kernel_h * kernel_w and biases[i] (null: no bias; the
  // field bias is plane 0's when plane_count is 1), writes output / residual + i * out_h * out_w.
  size_t plane_count = 1;
  const float* biases = nullptr;
  // Whether a run of planes may be computed with channels in lanes (AVX-512,
  // dwconv-lanes-avx512.inc); ops/depthwise.cc clears it under CONVNODE_DW_LANES=0.
  bool channels_in_lanes = true;
  // Whether AVX-512 stride-2 planes with rows wider than 8 outputs read their input rows in place
  // (dwconv-s2-avx512.inc) instead of through the row kernel's ring copy; ops/depthwise.cc
  // clears it under CONVNODE_DW_S2_REGS=0.
  bool stride2_in_registers = true;
  // Whether those in-place AVX-512 stride-2 planes (3x3 and 5x5) split each row's columns with
  // cross-lane permutes, loaded once per row (dwconv-s2-permute-avx512.inc), rather than mobile8's
  // loads per tap pair (dwconv-s2-avx512.inc, 3x3 only); ops/depthwise.cc clears it under
  // CONVNODE_DW_S2_PERMUTE=0.
  bool stride2_permute = true;
  // Whether AVX-512 3x3 stride-2 planes with rows wider than 8 outputs (left pad 0 or 1) split
  // each row's columns with in-lane shuffles (dwconv-s2-split-avx512.inc) rather than the forms
  // above; ops/depthwise.cc clears it under CONVNODE_DW_S2_SPLIT=0.
  bool stride2_split = true;
  // Whether AVX-512 3x3 stride-1 'same' planes (up to 256 wide) read each input row three times
  // shifted (dwconv-shifted-avx512.inc) rather than through channels in lanes / the row kernel;
  // ops/depthwise.cc clears it under CONVNODE_DW_SHIFTED=0.
  bool shifted_copies = true;
  // Whether AVX-512 3x3 stride-2 planes with inputs up to 32 wide (pad 1) split each input row
  // by permutes into a vector per output row (dwconv-s2-rows-avx512.inc) rather than channels in
  // lanes; ops/depthwise.cc clears it under CONVNODE_DW_S2_ROWS=0.
  bool stride2_rows = true;
};

using DwconvKernel = void (*)(const DwconvPlane& plane);

// Any kernel, stride, dilation and padding: the reference, and the fallback of every ISA.
void f32_dwconv_general__scalar(const DwconvPlane& plane);

// K x K windows (K = 3, 5, 7: MobileNet, EfficientNet / MnasNet / MobileNetV3, ConvNeXt) at stride
// S on both axes (S = 1, 2), any dilation and padding: the shared row kernel (dwconv-kxk.inc).
void f32_dwconv_3x3s1__avx2(const DwconvPlane& plane);
void f32_dwconv_3x3s2__avx2(const DwconvPlane& plane);
void f32_dwconv_5x5s1__avx2(const DwconvPlane& plane);
void f32_dwconv_5x5s2__avx2(const DwconvPlane& plane);
void f32_dwconv_7x7s1__avx2(const DwconvPlane& plane);
void f32_dwconv_7x7s2__avx2(const DwconvPlane& plane);
void f32_dwconv_3x3s1__avx512(const DwconvPlane& plane);
void f32_dwconv_3x3s2__avx512(const DwconvPlane& plane);
void f32_dwconv_5x5s1__avx512(const DwconvPlane& plane);
void f32_dwconv_5x5s2__avx512(const DwconvPlane& plane);
void f32_dwconv_7x7s1__avx512(const DwconvPlane& plane);
void f32_dwconv_7x7s2__avx512(const DwconvPlane& plane);
void f32_dwconv_3x3s1__neon(const DwconvPlane& plane);
void f32_dwconv_3x3s2__neon(const DwconvPlane& plane);
void f32_dwconv_5x5s1__neon(const DwconvPlane& plane);
void f32_dwconv_5x5s2__neon(const DwconvPlane& plane);
void f32_dwconv_7x7s1__neon(const DwconvPlane& plane);
void f32_dwconv_7x7s2__neon(const DwconvPlane& plane);
// WebAssembly SIMD (the wasm module only).
void f32_dwconv_3x3s1__wasmsimd(const DwconvPlane& plane);
void f32_dwconv_3x3s2__wasmsimd(const DwconvPlane& plane);
void f32_dwconv_5x5s1__wasmsimd(const DwconvPlane& plane);
void f32_dwconv_5x5s2__wasmsimd(const DwconvPlane& plane);
void f32_dwconv_7x7s1__wasmsimd(const DwconvPlane& plane);
void f32_dwconv_7x7s2__wasmsimd(const DwconvPlane& plane);

// One output pixel by the definition, with bounds checks (the scalar kernel).
static inline float dwconv_pixel(const DwconvPlane& p, size_t oy, size_t ox) {
  float acc = p.bias;
  const ptrdiff_t iy0 = static_cast<ptrdiff_t>(oy * p.stride_h) - static_cast<ptrdiff_t>(p.pad_top);
  const ptrdiff_t ix0 = static_cast<ptrdiff_t>(ox * p.stride_w) - static_cast<ptrdiff_t>(p.pad_left);
  for (size_t ky = 0; ky < p.kernel_h; ky++) {
    const ptrdiff_t iy = iy0 + static_cast<ptrdiff_t>(ky * p.dilation_h);
    if (iy < 0 || iy >= static_cast<ptrdiff_t>(p.in_h)) continue;
    const float* row = p.input + iy * static_cast<ptrdiff_t>(p.in_w);
    for (size_t kx = 0; kx < p.kernel_w; kx++) {
      const ptrdiff_t ix = ix0 + static_cast<ptrdiff_t>(kx * p.dilation_w);
      if (ix < 0 || ix >= static_cast<ptrdiff_t>(p.in_w)) continue;
      acc += p.weights[ky * p.kernel_w + kx] * row[ix];
    }
  }
  return acc;
}

// Plane i of a multi-plane call as a one-plane call.
static inline DwconvPlane dwconv_plane_at(const DwconvPlane& p, size_t i) {
  if (p.plane_count == 1) return p;
  DwconvPlane one = p;
  one.plane_count = 1;
  one.input = p.input + i * p.in_h * p.in_w;
  one.weights = p.weights + i * p.kernel_h * p.kernel_w;
  one.bias = p.biases != nullptr ? p.biases[i] : 0.0f;
  one.biases = nullptr;
  one.output = p.output + i * p.out_h * p.out_w;
  one.residual = p.residual != nullptr ? p.residual + i * p.out_h * p.out_w : nullptr;
  return one;
}

static inline void dwconv_store(const DwconvPlane& p, size_t oy, size_t ox, float acc) {
  const size_t at = oy * p.out_w + ox;
  if (p.residual != nullptr) acc += p.residual[at];
  p.output[at] = activate(acc, p.activation);
}

}  // namespace convnode
