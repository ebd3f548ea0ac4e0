#include <cstring>

#include "im2col.h"

namespace convnode {

namespace {

constexpr size_t kMaxPanel = 32;  // widest NR any micro-kernel uses

// Fills one k row of a panel whose NR pixels lie in one output row: a straight (or strided)
// copy when the window row is inside the input, per-pixel checks near the borders.
void fill_row_segment(float* out, size_t nr, const float* row, ptrdiff_t ix_start, size_t stride_w, ptrdiff_t in_w) {
  const ptrdiff_t ix_end = ix_start + static_cast<ptrdiff_t>((nr - 1) * stride_w);
  if (ix_start >= 0 && ix_end < in_w) {
    if (stride_w == 1) {
      std::memcpy(out, row + ix_start, nr * sizeof(float));
    } else {
      for (size_t t = 0; t < nr; t++) out[t] = row[ix_start + static_cast<ptrdiff_t>(t * stride_w)];
    }
    return;
  }
  for (size_t t = 0; t < nr; t++) {
    const ptrdiff_t ix = ix_start + static_cast<ptrdiff_t>(t * stride_w);
    out[t] = ix >= 0 && ix < in_w ? row[ix] : 0.0f;
  }
}

}  // namespace

void f32_im2col_pack(size_t nr_tile, const Im2colShape& s, const float* input, size_t k0, size_t kc, size_t n0,
                     size_t nc, float* dst) {
  const ptrdiff_t in_h = static_cast<ptrdiff_t>(s.in_h);
  const ptrdiff_t in_w = static_cast<ptrdiff_t>(s.in_w);
  const size_t plane = s.in_h * s.in_w;
  const size_t window = s.kernel_h * s.kernel_w;
  ptrdiff_t iy0[kMaxPanel];
  ptrdiff_t ix0[kMaxPanel];
  for (size_t p0 = n0; p0 < n0 + nc; p0 += nr_tile) {
    const size_t cols = n0 + nc - p0 < nr_tile ? n0 + nc - p0 : nr_tile;
    size_t oy = p0 / s.out_w;
    size_t ox = p0 % s.out_w;
    const bool one_row = ox + cols <= s.out_w;
    for (size_t t = 0; t < cols; t++) {
      iy0[t] = static_cast<ptrdiff_t>(oy * s.stride_h) - static_cast<ptrdiff_t>(s.pad_top);
      ix0[t] = static_cast<ptrdiff_t>(ox * s.stride_w) - static_cast<ptrdiff_t>(s.pad_left);
      if (++ox == s.out_w) {
        ox = 0;
        oy++;
      }
    }
    size_t c = k0 / window;
    size_t ky = (k0 % window) / s.kernel_w;
    size_t kx = k0 % s.kernel_w;
    for (size_t k = 0; k < kc; k++) {
      float* out = dst + k * nr_tile;
      const float* channel = input + c * plane;
      const ptrdiff_t dy = static_cast<ptrdiff_t>(ky * s.dilation_h);
      const ptrdiff_t dx = static_cast<ptrdiff_t>(kx * s.dilation_w);
      if (one_row) {
        const ptrdiff_t iy = iy0[0] + dy;
        if (iy < 0 || iy >= in_h) {
          std::memset(out, 0, cols * sizeof(float));
        } else {
          fill_row_segment(out, cols, channel + iy * in_w, ix0[0] + dx, s.stride_w, in_w);
        }
      } else {
        for (size_t t = 0; t < cols; t++) {
          const ptrdiff_t iy = iy0[t] + dy;
          const ptrdiff_t ix = ix0[t] + dx;
          out[t] = iy >= 0 && iy < in_h && ix >= 0 && ix < in_w ? channel[iy * in_w + ix] : 0.0f;
        }
      }
      for (size_t t = cols; t < nr_tile; t++) out[t] = 0.0f;
      if (++kx == s.kernel_w) {
        kx = 0;
        if (++ky == s.kernel_h) {
          ky = 0;
          c++;
        }
      }
    }
    dst += kc * nr_tile;
  }
}

}  // namespace convnode
