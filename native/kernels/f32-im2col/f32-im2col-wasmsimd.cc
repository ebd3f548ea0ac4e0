// im2col into the wasm 4x8 GEMM's 8-wide B panels, with WebAssembly SIMD for the stride-2 reads.
// The convs that go through im2col on the wasm backend are mostly stems (3 input channels, 3x3/2
// or 7x7/2: K = 27 or 147 rows for every output pixel), where packing is a copy as large as the
// GEMM's B and the portable packer gathers a stride-2 row one float at a time. Here eight
// stride-2 pixels are four f32x4 loads and two even-lane shuffles. Panels that wrap onto the next
// output row go through the portable packer; the walk of a one-row panel, and its reads that touch
// the padding, are the portable packer's too (im2col-row-panel.h).
#include <wasm_simd128.h>

#include "im2col.h"
#include "im2col-row-panel.h"

namespace convnode {

namespace {

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

// The row copy of a full eight-pixel panel on one output row (im2col-row-panel.h walks the rows):
// two f32x4 loads at stride 1, loads and shuffles at stride 2, a strided loop at other strides.
struct WasmSimdRowCopy {
  static void zeros(float* out) {
    wasm_v128_store(out, wasm_f32x4_splat(0.0f));
    wasm_v128_store(out + 4, wasm_f32x4_splat(0.0f));
  }
  static void inside(const float* src, size_t stride, float* out) {
    if (stride == 1) {
      wasm_v128_store(out, wasm_v128_load(src));
      wasm_v128_store(out + 4, wasm_v128_load(src + 4));
    } else if (stride == 2) {
      gather_stride2(src, out);
    } else {
      for (size_t t = 0; t < 8; t++) out[t] = src[t * stride];
    }
  }
};

}  // namespace

void f32_im2col_pack__wasmsimd(size_t nr_tile, const Im2colShape& s, const float* input, size_t k0, size_t kc,
                               size_t n0, size_t nc, float* dst) {
  const bool small_kernel = s.kernel_h <= kIm2colMaxTaps && s.kernel_w <= kIm2colMaxTaps;
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
      im2col_pack_one_row_panel<8, WasmSimdRowCopy>(s, input, k0, kc, iy0, ix0, dst);
    } else {
      f32_im2col_pack(8, s, input, k0, kc, p0, cols, dst);  // this one panel
    }
    dst += kc * 8;
  }
}

}  // namespace convnode
