// im2col packed straight into the GEMM's B-panel format: row k of the virtual im2col matrix is
// (channel, ky, kx), column n is an output pixel. The full matrix is never materialised; each
// K-block x pixel-block is written once, already in NR-wide panels.
#pragma once
#include <cstddef>

namespace convnode {

struct Im2colShape {
  size_t channels;  // input channels of one group
  size_t in_h, in_w;
  size_t kernel_h, kernel_w;
  size_t stride_h, stride_w;
  size_t dilation_h, dilation_w;
  size_t pad_top, pad_left;
  size_t out_w;
};

// Packs im2col rows [k0, k0 + kc) x pixels [n0, n0 + nc) into NR-wide panels at dst (kc x NR floats
// per panel), zero for padding and for columns past nc. input points at the group's first channel.
void f32_im2col_pack(size_t nr_tile, const Im2colShape& shape, const float* input, size_t k0, size_t kc, size_t n0,
                     size_t nc, float* dst);
using Im2colPackKernel = void (*)(size_t nr_tile, const Im2colShape& shape, const float* input, size_t k0, size_t kc,
                                  size_t n0, size_t nc, float* dst);

// The same with AVX-512 masked loads (16-wide panels; other widths go to the portable one).
void f32_im2col_pack__avx512(size_t nr_tile, const Im2colShape& shape, const float* input, size_t k0, size_t kc,
                             size_t n0, size_t nc, float* dst);

// The same with WebAssembly SIMD (8-wide panels, stride-2 rows by shuffles; others portable).
void f32_im2col_pack__wasmsimd(size_t nr_tile, const Im2colShape& shape, const float* input, size_t k0, size_t kc,
                               size_t n0, size_t nc, float* dst);

}  // namespace convnode
