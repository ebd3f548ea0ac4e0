// The im2col fast case that every packer shares: a full panel of NR output pixels lying on one
// output row, so for each im2col row k = (channel, ky, kx) the NR pixels read one input row at
// columns start, start + stride, ... Rows and columns are resolved once per panel (which ky rows
// are padding, which kx columns keep all NR reads inside the row), leaving one row copy per k.
//
// How that copy is done is the only thing the packers differ in, so it is a policy: RowCopy has
//   static void zeros(float* out)                                NR zeros (a padding row)
//   static void inside(const float* src, size_t stride, float* out)
//       out[t] = src[t * stride] for t < NR, every read inside the row
// (memcpy / a strided loop in the portable packer, f32x4 loads and shuffles in the wasmsimd one).
// Reads that touch the left or right padding take the bounds-checked loop here in every packer.
// The policy types live in each packer's anonymous namespace, so every instantiation stays in its
// own translation unit with that file's compile flags.
#pragma once
#include <cstddef>

#include "im2col.h"

namespace convnode {

constexpr size_t kIm2colMaxTaps = 64;  // per axis; larger kernels take the per-pixel paths

// Row k of the im2col matrix is the tap (channel c, ky, kx), kx fastest: a K block starting at
// row k0 walks the taps from there, one next() per row.
struct Im2colTap {
  size_t c, ky, kx;
  Im2colTap(const Im2colShape& s, size_t k0)
      : c(k0 / (s.kernel_h * s.kernel_w)), ky(k0 % (s.kernel_h * s.kernel_w) / s.kernel_w), kx(k0 % s.kernel_w) {}
  void next(const Im2colShape& s) {
    if (++kx == s.kernel_w) {
      kx = 0;
      if (++ky == s.kernel_h) {
        ky = 0;
        c++;
      }
    }
  }
};

template <size_t NR, class RowCopy>
void im2col_pack_one_row_panel(const Im2colShape& s, const float* input, size_t k0, size_t kc, ptrdiff_t iy0,
                               ptrdiff_t ix0, float* dst) {
  const ptrdiff_t in_h = static_cast<ptrdiff_t>(s.in_h);
  const ptrdiff_t in_w = static_cast<ptrdiff_t>(s.in_w);
  const ptrdiff_t span = static_cast<ptrdiff_t>((NR - 1) * s.stride_w);
  ptrdiff_t row_offset[kIm2colMaxTaps];  // -1: the row is padding
  ptrdiff_t col_start[kIm2colMaxTaps];
  bool col_inside[kIm2colMaxTaps];
  for (size_t ky = 0; ky < s.kernel_h; ky++) {
    const ptrdiff_t iy = iy0 + static_cast<ptrdiff_t>(ky * s.dilation_h);
    row_offset[ky] = iy >= 0 && iy < in_h ? iy * in_w : -1;
  }
  for (size_t kx = 0; kx < s.kernel_w; kx++) {
    col_start[kx] = ix0 + static_cast<ptrdiff_t>(kx * s.dilation_w);
    col_inside[kx] = col_start[kx] >= 0 && col_start[kx] + span < in_w;
  }
  const size_t plane = s.in_h * s.in_w;
  Im2colTap tap(s, k0);
  for (size_t k = 0; k < kc; k++, tap.next(s)) {
    float* out = dst + k * NR;
    if (row_offset[tap.ky] < 0) {
      RowCopy::zeros(out);
    } else {
      const float* row = input + tap.c * plane + row_offset[tap.ky];
      const ptrdiff_t start = col_start[tap.kx];
      if (col_inside[tap.kx]) {
        RowCopy::inside(row + start, s.stride_w, out);
      } else {
        for (size_t t = 0; t < NR; t++) {
          const ptrdiff_t ix = start + static_cast<ptrdiff_t>(t * s.stride_w);
          out[t] = ix >= 0 && ix < in_w ? row[ix] : 0.0f;
        }
      }
    }
  }
}

}  // namespace convnode
