// The pooling kernels of every family (f32-maxpool, f32-avgpool, f32-gpool): the plane they
// pool, their signatures, and the window clipping they share. Windows are clipped to the input, so
// a window that hangs past the padded input (ceilMode) is safe; see the avg kernel for its divisor
// rule.
#pragma once
#include <cstddef>

namespace convnode {

struct PoolPlane {
  const float* input;
  size_t in_h, in_w;
  float* output;
  size_t out_h, out_w;
  size_t kernel_h, kernel_w;
  size_t stride_h, stride_w;
  size_t dilation_h, dilation_w;
  size_t pad_top, pad_left, pad_bottom, pad_right;
  bool count_include_pad;  // avg only
};

using PoolKernel = void (*)(const PoolPlane& plane);

void f32_maxpool_general__scalar(const PoolPlane& plane);
void f32_maxpool_3x3s2__avx2(const PoolPlane& plane);
void f32_maxpool_3x3s2__neon(const PoolPlane& plane);
void f32_maxpool_3x3s2__wasmsimd(const PoolPlane& plane);  // the wasm module only
void f32_avgpool_general__scalar(const PoolPlane& plane);
void f32_maxpool_3x3s2__avx512(const PoolPlane& plane);
void f32_maxpool_general__avx512(const PoolPlane& plane);
void f32_avgpool_general__avx512(const PoolPlane& plane);

// Global pooling: each of `planes` planes of `plane` values reduces to one output value.
void f32_gavgpool__scalar(const float* input, size_t planes, size_t plane, float* output);
void f32_gmaxpool__scalar(const float* input, size_t planes, size_t plane, float* output);
void f32_gavgpool__avx512(const float* input, size_t planes, size_t plane, float* output);
void f32_gmaxpool__avx512(const float* input, size_t planes, size_t plane, float* output);
using GlobalPoolKernel = void (*)(const float* input, size_t planes, size_t plane, float* output);

// The window taps of one output along one axis that land inside [0, size): first tap index and
// count. Computed once per output row/column instead of testing every tap.
struct TapRange {
  size_t first, count;
};

static inline TapRange pool_taps(size_t out, size_t stride, size_t pad, size_t kernel, size_t dilation, size_t size) {
  const ptrdiff_t start = static_cast<ptrdiff_t>(out * stride) - static_cast<ptrdiff_t>(pad);
  size_t first = 0;
  while (first < kernel && start + static_cast<ptrdiff_t>(first * dilation) < 0) first++;
  size_t last = first;
  while (last < kernel && start + static_cast<ptrdiff_t>(last * dilation) < static_cast<ptrdiff_t>(size)) last++;
  return {first, last - first};
}

}  // namespace convnode
