#include <cstring>

#include "im2col.h"

namespace convnode {

namespace {

constexpr size_t kMaxPanel = 32;  // widest NR any micro-kernel uses
constexpr size_t kMaxTaps = 64;   // per axis; larger kernels take the per-pixel path

// The fast path: all NR pixels of the panel lie in one output row, so for a given (ky, kx) they
// read one input row at ix_start, ix_start + stride, ... Rows and columns are resolved once per
// panel, leaving a copy (or strided gather) per k row. NR is a constant so the copy inlines.
template <size_t NR>
void pack_one_row_panel(const Im2colShape& s, const float* input, size_t k0, size_t kc, ptrdiff_t iy0, ptrdiff_t ix0,
                        float* dst) {
  const ptrdiff_t in_h = static_cast<ptrdiff_t>(s.in_h);
  const ptrdiff_t in_w = static_cast<ptrdiff_t>(s.in_w);
  const ptrdiff_t span = static_cast<ptrdiff_t>((NR - 1) * s.stride_w);
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
    float* out = dst + k * NR;
    if (row_offset[ky] < 0) {
      std::memset(out, 0, NR * sizeof(float));
    } else {
      const float* row = input + c * plane + row_offset[ky];
      const ptrdiff_t start = col_start[kx];
      if (col_inside[kx] && s.stride_w == 1) {
        std::memcpy(out, row + start, NR * sizeof(float));
      } else if (col_inside[kx]) {
        const float* src = row + start;
        for (size_t t = 0; t < NR; t++) out[t] = src[t * s.stride_w];
      } else {
        for (size_t t = 0; t < NR; t++) {
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
  const size_t window = s.kernel_h * s.kernel_w;
  size_t c = k0 / window;
  size_t ky = (k0 % window) / s.kernel_w;
  size_t kx = k0 % s.kernel_w;
  for (size_t k = 0; k < kc; k++) {
    float* out = dst + k * nr_tile;
    const float* channel = input + c * plane;
    const ptrdiff_t dy = static_cast<ptrdiff_t>(ky * s.dilation_h);
    const ptrdiff_t dx = static_cast<ptrdiff_t>(kx * s.dilation_w);
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

void f32_im2col_pack(size_t nr_tile, const Im2colShape& s, const float* input, size_t k0, size_t kc, size_t n0,
                     size_t nc, float* dst) {
  const bool small_kernel = s.kernel_h <= kMaxTaps && s.kernel_w <= kMaxTaps;
  for (size_t p0 = n0; p0 < n0 + nc; p0 += nr_tile) {
    const size_t cols = n0 + nc - p0 < nr_tile ? n0 + nc - p0 : nr_tile;
    const size_t oy = p0 / s.out_w;
    const size_t ox = p0 % s.out_w;
    const bool one_row = cols == nr_tile && ox + cols <= s.out_w && small_kernel;
    const ptrdiff_t iy0 = static_cast<ptrdiff_t>(oy * s.stride_h) - static_cast<ptrdiff_t>(s.pad_top);
    const ptrdiff_t ix0 = static_cast<ptrdiff_t>(ox * s.stride_w) - static_cast<ptrdiff_t>(s.pad_left);
    if (one_row && nr_tile == 16) {
      pack_one_row_panel<16>(s, input, k0, kc, iy0, ix0, dst);
    } else if (one_row && nr_tile == 8) {
      pack_one_row_panel<8>(s, input, k0, kc, iy0, ix0, dst);
    } else {
      pack_segmented_panel(nr_tile, s, input, k0, kc, p0, cols, dst);
    }
    dst += kc * nr_tile;
  }
}

}  // namespace convnode
