#include <cstring>

#include "im2col.h"
#include "im2col-row-panel.h"

namespace convnode {

namespace {

constexpr size_t kMaxPanel = 32;  // widest NR any micro-kernel uses

// The fast path (im2col-row-panel.h): all NR pixels of the panel on one output row. A row inside
// the input is a memcpy at stride 1, a strided loop otherwise; NR is a constant so both inline.
template <size_t NR>
struct PortableRowCopy {
  static void zeros(float* out) { std::memset(out, 0, NR * sizeof(float)); }
  static void inside(const float* src, size_t stride, float* out) {
    if (stride == 1) {
      std::memcpy(out, src, NR * sizeof(float));
    } else {
      for (size_t t = 0; t < NR; t++) out[t] = src[t * stride];
    }
  }
};

// Any panel: its pixels may wrap onto the next output row(s) or stop short of NR (the rest is
// zero). The panel is cut into runs of pixels that share an output row; each run reads one input
// row segment per k, copied (or gathered at the stride) like the fast path.
void pack_segmented_panel(size_t nr_tile, const Im2colShape& s, const float* input, size_t k0, size_t kc, size_t p0,
                          size_t cols, float* dst) {
  struct Run {
    size_t t0, len;
    ptrdiff_t iy0, ix0;
  };
  Run runs[kMaxPanel];
  size_t run_count = 0;
  size_t oy = p0 / s.out_w;
  size_t ox = p0 % s.out_w;
  for (size_t t = 0; t < cols;) {
    const size_t len = cols - t < s.out_w - ox ? cols - t : s.out_w - ox;
    runs[run_count++] = {t, len, static_cast<ptrdiff_t>(oy * s.stride_h) - static_cast<ptrdiff_t>(s.pad_top),
                         static_cast<ptrdiff_t>(ox * s.stride_w) - static_cast<ptrdiff_t>(s.pad_left)};
    t += len;
    ox = 0;
    oy++;
  }
  const ptrdiff_t in_h = static_cast<ptrdiff_t>(s.in_h);
  const ptrdiff_t in_w = static_cast<ptrdiff_t>(s.in_w);
  const size_t plane = s.in_h * s.in_w;
  Im2colTap tap(s, k0);
  for (size_t k = 0; k < kc; k++, tap.next(s)) {
    float* out = dst + k * nr_tile;
    const float* channel = input + tap.c * plane;
    const ptrdiff_t dy = static_cast<ptrdiff_t>(tap.ky * s.dilation_h);
    const ptrdiff_t dx = static_cast<ptrdiff_t>(tap.kx * s.dilation_w);
    for (size_t r = 0; r < run_count; r++) {
      const Run& run = runs[r];
      float* seg = out + run.t0;
      const ptrdiff_t iy = run.iy0 + dy;
      if (iy < 0 || iy >= in_h) {
        std::memset(seg, 0, run.len * sizeof(float));
        continue;
      }
      const float* row = channel + iy * in_w;
      const ptrdiff_t start = run.ix0 + dx;
      const ptrdiff_t end = start + static_cast<ptrdiff_t>((run.len - 1) * s.stride_w);
      if (start >= 0 && end < in_w && s.stride_w == 1) {
        std::memcpy(seg, row + start, run.len * sizeof(float));
      } else {
        for (size_t t = 0; t < run.len; t++) {
          const ptrdiff_t ix = start + static_cast<ptrdiff_t>(t * s.stride_w);
          seg[t] = ix >= 0 && ix < in_w ? row[ix] : 0.0f;
        }
      }
    }
    for (size_t t = cols; t < nr_tile; t++) out[t] = 0.0f;
  }
}

}  // namespace

void f32_im2col_pack(size_t nr_tile, const Im2colShape& s, const float* input, size_t k0, size_t kc, size_t n0,
                     size_t nc, float* dst) {
  const bool small_kernel = s.kernel_h <= kIm2colMaxTaps && s.kernel_w <= kIm2colMaxTaps;
  for (size_t p0 = n0; p0 < n0 + nc; p0 += nr_tile) {
    const size_t cols = n0 + nc - p0 < nr_tile ? n0 + nc - p0 : nr_tile;
    const size_t oy = p0 / s.out_w;
    const size_t ox = p0 % s.out_w;
    const bool one_row = cols == nr_tile && ox + cols <= s.out_w && small_kernel;
    const ptrdiff_t iy0 = static_cast<ptrdiff_t>(oy * s.stride_h) - static_cast<ptrdiff_t>(s.pad_top);
    const ptrdiff_t ix0 = static_cast<ptrdiff_t>(ox * s.stride_w) - static_cast<ptrdiff_t>(s.pad_left);
    if (one_row && nr_tile == 16) {
      im2col_pack_one_row_panel<16, PortableRowCopy<16>>(s, input, k0, kc, iy0, ix0, dst);
    } else if (one_row && nr_tile == 8) {
      im2col_pack_one_row_panel<8, PortableRowCopy<8>>(s, input, k0, kc, iy0, ix0, dst);
    } else {
      pack_segmented_panel(nr_tile, s, input, k0, kc, p0, cols, dst);
    }
    dst += kc * nr_tile;
  }
}

}  // namespace convnode
