// What the 3x3 stride-2 max pool kernels share: which outputs of a row their vector steps cover,
// and the scalar max for the pixels outside them. static inline: the AVX2 kernel includes this
// and its copies must not be merged into portable code (see native/README.md).
#pragma once
#include <cstddef>
#include <limits>

#include "../pool-plane.h"

namespace convnode {

// A step of `width` outputs from output `step` reads the input columns from its first middle
// tap, 2 * step + 1 - pad_left, to 2 * width - 1 past it. Steps run from `first` to `last`
// (the last one may overlap the one before); outputs outside [first, last + width) are scalar.
struct MaxpoolSteps {
  size_t first, last;
  bool any;
};

static inline MaxpoolSteps maxpool_3x3s2_steps(const PoolPlane& p, size_t width) {
  MaxpoolSteps s = {p.pad_left / 2, 0, false};  // first output whose middle tap is in the row
  if (p.in_w + p.pad_left >= 2 * width + 1 && p.out_w >= width) {
    s.last = (p.in_w + p.pad_left - 2 * width - 1) / 2;  // its last column is in_w - 1 or less
    if (s.last > p.out_w - width) s.last = p.out_w - width;
    s.any = s.last >= s.first;
  }
  return s;
}

// max(best, v) where a NaN on either side wins.
static inline float maxpool_nan_max(float best, float v) {
  if (best != best) return best;
  return v > best || v != v ? v : best;
}

// One output over the window clipped to the input (rows iy0 .. iy0 + ty.count - 1).
static inline float maxpool_3x3s2_pixel(const PoolPlane& p, const TapRange& ty, size_t iy0, size_t ox) {
  const TapRange tx = pool_taps(ox, 2, p.pad_left, 3, 1, p.in_w);
  const size_t ix0 = ox * 2 + tx.first - p.pad_left;
  float best = -std::numeric_limits<float>::infinity();
  for (size_t a = 0; a < ty.count; a++) {
    const float* row = p.input + (iy0 + a) * p.in_w + ix0;
    for (size_t b = 0; b < tx.count; b++) best = maxpool_nan_max(best, row[b]);
  }
  return best;
}

// Window rows of one output row; a window clipped by the input repeats its last row (the max
// is unchanged and the vector steps need no row count).
struct MaxpoolRows {
  const float* r0;
  const float* r1;
  const float* r2;
};

static inline MaxpoolRows maxpool_3x3s2_rows(const PoolPlane& p, const TapRange& ty, size_t iy0) {
  const float* first = p.input + iy0 * p.in_w;
  return {first, first + (ty.count > 1 ? p.in_w : 0), first + (ty.count - 1) * p.in_w};
}

// Vertical max of column c, NaN-propagating.
static inline float maxpool_3x3s2_column(const MaxpoolRows& rows, size_t c) {
  return maxpool_nan_max(maxpool_nan_max(rows.r0[c], rows.r1[c]), rows.r2[c]);
}

// The row loop of every vector kernel: per output row, the scalar pixels left of the vector
// steps, then the steps (`row_steps(rows, steps, oy, out)`, `Width` outputs each), then the
// scalar pixels right of them.
template <size_t Width, class RowSteps>
static inline void maxpool_3x3s2_plane(const PoolPlane& p, RowSteps&& row_steps) {
  const MaxpoolSteps steps = maxpool_3x3s2_steps(p, Width);
  for (size_t oy = 0; oy < p.out_h; oy++) {
    const TapRange ty = pool_taps(oy, 2, p.pad_top, 3, 1, p.in_h);
    const size_t iy0 = oy * 2 + ty.first - p.pad_top;
    float* out = p.output + oy * p.out_w;
    size_t ox = 0;
    for (; ox < steps.first && ox < p.out_w; ox++) out[ox] = maxpool_3x3s2_pixel(p, ty, iy0, ox);
    if (steps.any) {
      row_steps(maxpool_3x3s2_rows(p, ty, iy0), steps, oy, out);
      ox = steps.last + Width;
    }
    for (; ox < p.out_w; ox++) out[ox] = maxpool_3x3s2_pixel(p, ty, iy0, ox);
  }
}

}  // namespace convnode
