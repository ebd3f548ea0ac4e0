// im2col into the wasm 4x8 GEMM's 8-wide B panels, with WebAssembly SIMD for the stride-2 reads.
// The convs that go through im2col on the wasm backend are mostly stems (3 input channels, 3x3/2
// or 7x7/2: K = 27 or 147 rows for every output pixel), where packing is a copy as large as the
// GEMM's B and the portable packer gathers a stride-2 row one float at a time. Here eight
// stride-2 pixels are four f32x4 loads and two even-lane shuffles. Panels that wrap onto the next
// output row, and row segments that touch the padding, go through the portable packer.
#include <wasm_simd128.h>

#include <cstring>

#include "im2col.h"

namespace convnode {

namespace {

constexpr size_t kMaxTaps = 64;  // per axis, as the portable packer

// Eight pixels at src[0], src[2], ... src[14]. The last load starts at src[11] so nothing past
// src[14] (the last pixel the caller checked is inside the row) is read.
inline void gather_stride2(const float* src, float* out) {
  const v128_t v0 = wasm_v128_load(src);
  const v128_t v1 = wasm_v128_load(src + 4);
  const v128_t v2 = wasm_v128_load(src + 8);
  const v128_t v3 = wasm_v128_load(src + 11);  // src[11..14]
  wasm_v128_store(out, wasm_i32x4_shuffle(v0, v1, 0, 2, 4, 6));
  wasm_v128_store(out + 4, wasm_i32x4_shuffle(v2, v3, 0, 2, 5, 7));
}

// A full panel of eight pixels in one output row (the portable packer's fast case).
void pack_row_panel(const Im2colShape& s, const float* input, size_t k0, size_t kc, ptrdiff_t iy0, ptrdiff_t ix0,
                    float* dst) {
  const ptrdiff_t in_h = static_cast<ptrdiff_t>(s.in_h);
  const ptrdiff_t in_w = static_cast<ptrdiff_t>(s.in_w);
  const ptrdiff_t span = static_cast<ptrdiff_t>(7 * s.stride_w);
  ptrdiff_t row_offset[kMaxTaps];  // -1: the row is padding
  ptrdiff_t col_start[kMaxTaps];
  bool col_inside[kMaxTaps];
  for (size_t ky = 0; ky < s.kernel_h; ky++) {
    const ptrdiff_t iy = iy0 + static_cast<ptrdiff_t>(ky * s.dilation_h);
    row_offset[ky] = iy >= 0 && iy < in_h ? iy * in_w : -1;
  }
  for (size_t kx = 0; kx < s.kernel_w; kx++) {
    col_start[kx] = ix0 + static_cast<ptrdiff_t>(kx * s.dilation_w);
    col_inside[kx] = col_start[kx] >= 0 && col_start[kx] + span < in_w;
  }
  const size_t plane = s.in_h * s.in_w;
  const size_t window = s.kernel_h * s.kernel_w;
  size_t c = k0 / window;
  size_t ky = (k0 % window) / s.kernel_w;
  size_t kx = k0 % s.kernel_w;
  for (size_t k = 0; k < kc; k++) {
    float* out = dst + k * 8;
    if (row_offset[ky] < 0) {
      wasm_v128_store(out, wasm_f32x4_splat(0.0f));
      wasm_v128_store(out + 4, wasm_f32x4_splat(0.0f));
    } else {
      const float* row = input + c * plane + row_offset[ky];
      const ptrdiff_t start = col_start[kx];
      if (col_inside[kx] && s.stride_w == 1) {
        wasm_v128_store(out, wasm_v128_load(row + start));
        wasm_v128_store(out + 4, wasm_v128_load(row + start + 4));
      } else if (col_inside[kx] && s.stride_w == 2) {
        gather_stride2(row + start, out);
      } else {
        for (size_t t = 0; t < 8; t++) {
          const ptrdiff_t ix = start + static_cast<ptrdiff_t>(t * s.stride_w);
          out[t] = ix >= 0 && ix < in_w ? row[ix] : 0.0f;
        }
      }
    }
    if (++kx == s.kernel_w) {
      kx = 0;
      if (++ky == s.kernel_h) {
        ky = 0;
        c++;
      }
    }
  }
}

}  // namespace

void f32_im2col_pack__wasmsimd(size_t nr_tile, const Im2colShape& s, const float* input, size_t k0, size_t kc,
                               size_t n0, size_t nc, float* dst) {
  const bool small_kernel = s.kernel_h <= kMaxTaps && s.kernel_w <= kMaxTaps;
  if (nr_tile != 8 || !small_kernel) {
    f32_im2col_pack(nr_tile, s, input, k0, kc, n0, nc, dst);
    return;
  }
  for (size_t p0 = n0; p0 < n0 + nc; p0 += 8) {
    const size_t cols = n0 + nc - p0 < 8 ? n0 + nc - p0 : 8;
    const size_t oy = p0 / s.out_w;
    const size_t ox = p0 % s.out_w;
    if (cols == 8 && ox + 8 <= s.out_w) {
      const ptrdiff_t iy0 = static_cast<ptrdiff_t>(oy * s.stride_h) - static_cast<ptrdiff_t>(s.pad_top);
      const ptrdiff_t ix0 = static_cast<ptrdiff_t>(ox * s.stride_w) - static_cast<ptrdiff_t>(s.pad_left);
      pack_row_panel(s, input, k0, kc, iy0, ix0, dst);
    } else {
      f32_im2col_pack(8, s, input, k0, kc, p0, cols, dst);  // this one panel
    }
    dst += kc * 8;
  }
}

}  // namespace convnode
