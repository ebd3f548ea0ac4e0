// Depthwise convolution, one channel plane at a time (direct, no im2col): every output pixel is a
// KH x KW dot product with that channel's own filter, then the fused epilogue.
#pragma once
#include <cstddef>

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
};

using DwconvKernel = void (*)(const DwconvPlane& plane);

void f32_dwconv_general__scalar(const DwconvPlane& plane);
void f32_dwconv_3x3s1__avx2(const DwconvPlane& plane);
void f32_dwconv_3x3s2__avx2(const DwconvPlane& plane);
void f32_dwconv_3x3s1__neon(const DwconvPlane& plane);
void f32_dwconv_3x3s2__neon(const DwconvPlane& plane);

// One output pixel by the definition, with bounds checks: the border path of the vector kernels.
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

static inline void dwconv_store(const DwconvPlane& p, size_t oy, size_t ox, float acc) {
  const size_t at = oy * p.out_w + ox;
  if (p.residual != nullptr) acc += p.residual[at];
  p.output[at] = activate(acc, p.activation);
}

// One border pixel of a 3x3 (dilation 1) kernel whose three input rows are already resolved
// (rows outside the input point at a zero row): only the columns need checking.
static inline float dwconv_3x3_border_pixel(const DwconvPlane& p, const float* const rows[3], size_t ox) {
  const ptrdiff_t ix0 = static_cast<ptrdiff_t>(ox * p.stride_w) - static_cast<ptrdiff_t>(p.pad_left);
  float acc = p.bias;
  for (ptrdiff_t kx = 0; kx < 3; kx++) {
    const ptrdiff_t ix = ix0 + kx;
    if (ix < 0 || ix >= static_cast<ptrdiff_t>(p.in_w)) continue;
    acc += p.weights[kx] * rows[0][ix] + p.weights[3 + kx] * rows[1][ix] + p.weights[6 + kx] * rows[2][ix];
  }
  return acc;
}

// The interior of a 3x3 (dilation 1) window: output columns [lo, hi) read only inside the row.
struct InteriorColumns {
  size_t lo, hi;
};

static inline InteriorColumns dwconv_3x3_interior(const DwconvPlane& p) {
  const size_t s = p.stride_w;
  const size_t lo = (p.pad_left + s - 1) / s;
  if (p.in_w + p.pad_left < 3) return {lo, lo};
  size_t hi = (p.in_w + p.pad_left - 3) / s + 1;
  if (hi > p.out_w) hi = p.out_w;
  return {lo, hi < lo ? lo : hi};
}

// The end of the vectorised columns: the largest e <= interior.hi such that a vector step of
// `lanes` outputs starting at e - lanes reads no further than `reach` columns past its first
// input column, inside the row. Returns interior.lo when not even one step fits.
static inline size_t vector_end(const InteriorColumns& interior, size_t stride, size_t pad_left, size_t in_w,
                                size_t lanes, size_t reach) {
  if (interior.hi < interior.lo + lanes || in_w < reach) return interior.lo;
  // A step starting at ox reads input columns [ox * stride - pad_left, ... + reach).
  const size_t max_start = (in_w - reach + pad_left) / stride;
  size_t end = interior.hi;
  if (end - lanes > max_start) end = max_start + lanes;
  return end >= interior.lo + lanes ? end : interior.lo;
}

// A zero-filled row at least `width` long, per thread: stands in for rows above/below the input.
const float* dwconv_zero_row(size_t width);

}  // namespace convnode
