// im2col into 16-wide B panels with AVX-512 masked loads: each k row of a panel is one zmm,
// built from at most a few runs of pixels (a run: the panel's pixels on one output row). Lanes
// whose input column is padding, or past the panel's last pixel, are masked off and read as zero,
// so the panels at the left / right border and those wrapping onto the next output row (28-,
// 14-, 7-wide maps) need no scalar path. Masked-off lanes are never read (AVX-512 suppresses
// their faults), so a run may start before its row. Stride 1: one masked load per run; stride 2:
// two masked loads of 32 columns and a permute of the even ones; stride 4: four masked loads and
// three permutes; other strides (and any dilation beyond the run) gather. Built with the AVX-512
// flags; every name here has 'avx512'.
#include <immintrin.h>
#include <type_traits>

#include <cstdint>

#include "im2col.h"

namespace convnode {

namespace {

constexpr size_t kLanes = 16;

// Bits [lo, hi) of a mask, clamped to [0, width).
inline uint64_t avx512_lane_range(ptrdiff_t lo, ptrdiff_t hi, ptrdiff_t width) {
  if (lo < 0) lo = 0;
  if (hi > width) hi = width;
  if (hi <= lo) return 0;
  const uint64_t below_hi = hi >= 64 ? ~uint64_t{0} : (uint64_t{1} << hi) - 1;
  return below_hi & ~((uint64_t{1} << lo) - 1);
}

// Lanes t = 0..15 of src[4 t], from four masked loads of 16 columns (mask bit j: column j) and
// three permutes. Stride 4 (AlexNet's 11x11/4) gathered before: the gather of 16 lanes took about
// as long as the GEMM tile that used the packed row (38% of that layer's time in im2col).
inline __m512 avx512_every_fourth(const float* src, uint64_t columns) {
  const __m512i fourth = _mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 0, 4, 8, 12, 16, 20, 24, 28);
  const __m512 lo = _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(static_cast<__mmask16>(columns), src), fourth,
                                           _mm512_maskz_loadu_ps(static_cast<__mmask16>(columns >> 16), src + 16));
  const __m512 hi = _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(static_cast<__mmask16>(columns >> 32), src + 32),
                                           fourth,
                                           _mm512_maskz_loadu_ps(static_cast<__mmask16>(columns >> 48), src + 48));
  // lo's lanes 0..7 (128-bit blocks 0, 1), then hi's.
  return _mm512_shuffle_f32x4(lo, hi, _MM_SHUFFLE(1, 0, 1, 0));
}

struct Avx512Run {
  size_t t0, len;   // lanes [t0, t0 + len) of the panel
  ptrdiff_t iy0;    // input row of the run for ky = 0
  ptrdiff_t ix0;    // input column of lane 0 extended back from the run's first pixel, kx = 0:
                    // lane t (in the run) reads column ix0 + t * stride + kx * dilation
};

constexpr size_t kMaxTaps = 64;  // per axis, as the portable packer; wider kernels take the run loop

// What the three packers below share: the lane constants of the stride-2 permute and of the
// gather, and the walk of k over (channel, ky, kx) from a K block's first row.
struct Avx512Im2colWalk {
  __m512i even;     // lanes 0, 2, ..., 30: the even columns of two 16-column loads
  __m512i strided;  // lane t: t * stride, the gather's column offsets
  size_t plane;     // floats per input channel
  size_t c, ky, kx;  // the k row being packed
  const Im2colShape& s;

  Avx512Im2colWalk(const Im2colShape& shape, size_t k0)
      : even(_mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30)),
        strided(_mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                   _mm512_set1_epi32(static_cast<int>(shape.stride_w)))),
        plane(shape.in_h * shape.in_w),
        c(k0 / (shape.kernel_h * shape.kernel_w)),
        ky(k0 % (shape.kernel_h * shape.kernel_w) / shape.kernel_w),
        kx(k0 % shape.kernel_w),
        s(shape) {}

  const float* channel(const float* input) const { return input + c * plane; }

  // On to the next k row: kx, then ky, then the channel.
  void next() {
    if (++kx == s.kernel_w) {
      kx = 0;
      if (++ky == s.kernel_h) {
        ky = 0;
        c++;
      }
    }
  }
};

// The common panel: all 16 pixels on one output row. Per kx the lane masks and the column
// offset are fixed, so they are worked out once per panel; the k loop is then a masked load (two
// and a permute at stride 2, a gather at other strides) and a store per row. STRIDE 0: any stride.
template <int STRIDE>
void avx512_pack_one_row(const Im2colShape& s, const float* input, size_t k0, size_t kc, ptrdiff_t iy0, ptrdiff_t ix0,
                         float* dst) {
  const ptrdiff_t in_h = static_cast<ptrdiff_t>(s.in_h);
  const ptrdiff_t in_w = static_cast<ptrdiff_t>(s.in_w);
  const ptrdiff_t stride = static_cast<ptrdiff_t>(s.stride_w);
  ptrdiff_t row_offset[kMaxTaps];  // -1: the row is padding
  ptrdiff_t first[kMaxTaps];       // column lane 0 reads
  __mmask16 lo_mask[kMaxTaps], hi_mask[kMaxTaps];
  uint64_t quad_mask[kMaxTaps];  // stride 4: the 64 columns of four loads
  for (size_t ky = 0; ky < s.kernel_h; ky++) {
    const ptrdiff_t iy = iy0 + static_cast<ptrdiff_t>(ky * s.dilation_h);
    row_offset[ky] = iy >= 0 && iy < in_h ? iy * in_w : -1;
  }
  for (size_t kx = 0; kx < s.kernel_w; kx++) {
    const ptrdiff_t f = ix0 + static_cast<ptrdiff_t>(kx * s.dilation_w);
    first[kx] = f;
    if (STRIDE == 1) {
      lo_mask[kx] = static_cast<__mmask16>(avx512_lane_range(-f, in_w - f, 16));
    } else if (STRIDE == 2) {
      const uint64_t m = avx512_lane_range(-f, in_w - f, 32);
      lo_mask[kx] = static_cast<__mmask16>(m);
      hi_mask[kx] = static_cast<__mmask16>(m >> 16);
    } else if (STRIDE == 4) {
      quad_mask[kx] = avx512_lane_range(-f, in_w - f, 64);
    } else {
      const ptrdiff_t lo_t = f >= 0 ? 0 : (-f + stride - 1) / stride;
      const ptrdiff_t hi_t = in_w - f <= 0 ? 0 : (in_w - f + stride - 1) / stride;
      lo_mask[kx] = static_cast<__mmask16>(avx512_lane_range(lo_t, hi_t, 16));
    }
  }
  Avx512Im2colWalk walk(s, k0);
  for (size_t k = 0; k < kc; k++, walk.next()) {
    const size_t ky = walk.ky, kx = walk.kx;
    __m512 v = _mm512_setzero_ps();
    if (row_offset[ky] >= 0) {
      const float* src = walk.channel(input) + row_offset[ky] + first[kx];
      if (STRIDE == 1) {
        v = _mm512_maskz_loadu_ps(lo_mask[kx], src);
      } else if (STRIDE == 2) {
        v = _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(lo_mask[kx], src), walk.even,
                                   _mm512_maskz_loadu_ps(hi_mask[kx], src + 16));
      } else if (STRIDE == 4) {
        v = avx512_every_fourth(src, quad_mask[kx]);
      } else {
        v = _mm512_mask_i32gather_ps(v, lo_mask[kx], walk.strided, src, 4);
      }
    }
    _mm512_storeu_ps(dst + k * kLanes, v);
  }
}

// Panels made of 2..kMaxRuns runs (those that wrap onto the next output row: 28-, 14- and 7-wide
// maps, where a 16-pixel panel spans 2 to 4 rows) get the one-row panel's treatment: each run's
// row offsets, first columns and lane masks are worked out once per panel, and the k loop is a
// few masked loads per row merged under each run's lanes. Worked out per k (the general loop
// below), the masks and bounds were about half of the stride-2 layers' packing (session 5: the
// wrapping panels were 17% of 3x3/2 128->128 @56's time).
constexpr size_t kMaxRuns = 4;

template <int STRIDE>
void avx512_pack_runs(const Im2colShape& s, const float* input, size_t k0, size_t kc, const Avx512Run* runs,
                      size_t run_count, float* dst) {
  const ptrdiff_t in_h = static_cast<ptrdiff_t>(s.in_h);
  const ptrdiff_t in_w = static_cast<ptrdiff_t>(s.in_w);
  const ptrdiff_t stride = static_cast<ptrdiff_t>(s.stride_w);
  ptrdiff_t row_offset[kMaxRuns][kMaxTaps];  // -1: the run's row is padding
  ptrdiff_t first[kMaxRuns][kMaxTaps];       // column the run's lane 0 reads
  uint64_t columns[kMaxRuns][kMaxTaps];      // stride 1 / other: lane mask; 2: 32 columns; 4: 64 columns
  __mmask16 lanes[kMaxRuns];                 // the run's lanes in the panel
  for (size_t r = 0; r < run_count; r++) {
    const ptrdiff_t t0 = static_cast<ptrdiff_t>(runs[r].t0);
    const ptrdiff_t t1 = t0 + static_cast<ptrdiff_t>(runs[r].len);
    lanes[r] = static_cast<__mmask16>(avx512_lane_range(t0, t1, 16));
    for (size_t ky = 0; ky < s.kernel_h; ky++) {
      const ptrdiff_t iy = runs[r].iy0 + static_cast<ptrdiff_t>(ky * s.dilation_h);
      row_offset[r][ky] = iy >= 0 && iy < in_h ? iy * in_w : -1;
    }
    for (size_t kx = 0; kx < s.kernel_w; kx++) {
      const ptrdiff_t f = runs[r].ix0 + static_cast<ptrdiff_t>(kx * s.dilation_w);
      first[r][kx] = f;
      if (STRIDE == 1) {
        columns[r][kx] = avx512_lane_range(t0, t1, 16) & avx512_lane_range(-f, in_w - f, 16);
      } else if (STRIDE == 2) {
        columns[r][kx] = avx512_lane_range(2 * t0, 2 * t1 - 1, 32) & avx512_lane_range(-f, in_w - f, 32);
      } else if (STRIDE == 4) {
        columns[r][kx] = avx512_lane_range(4 * t0, 4 * t1 - 3, 64) & avx512_lane_range(-f, in_w - f, 64);
      } else {
        const ptrdiff_t lo_t = f >= 0 ? 0 : (-f + stride - 1) / stride;
        const ptrdiff_t hi_t = in_w - f <= 0 ? 0 : (in_w - f + stride - 1) / stride;
        columns[r][kx] = avx512_lane_range(t0, t1, 16) & avx512_lane_range(lo_t, hi_t, 16);
      }
    }
  }
  Avx512Im2colWalk walk(s, k0);
  for (size_t k = 0; k < kc; k++, walk.next()) {
    const size_t ky = walk.ky, kx = walk.kx;
    const float* channel = walk.channel(input);
    __m512 v = _mm512_setzero_ps();
    for (size_t r = 0; r < run_count; r++) {
      if (row_offset[r][ky] < 0) continue;  // a padding row: the run's lanes stay zero
      const float* src = channel + row_offset[r][ky] + first[r][kx];
      const uint64_t m = columns[r][kx];
      if (STRIDE == 1) {
        v = _mm512_mask_loadu_ps(v, static_cast<__mmask16>(m), src);
      } else if (STRIDE == 2) {
        v = _mm512_mask_mov_ps(v, lanes[r],
                               _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(static_cast<__mmask16>(m), src), walk.even,
                                                      _mm512_maskz_loadu_ps(static_cast<__mmask16>(m >> 16), src + 16)));
      } else if (STRIDE == 4) {
        v = _mm512_mask_mov_ps(v, lanes[r], avx512_every_fourth(src, m));
      } else {
        v = _mm512_mask_i32gather_ps(v, static_cast<__mmask16>(m), walk.strided, src, 4);
      }
    }
    _mm512_storeu_ps(dst + k * kLanes, v);
  }
}

// Calls f with the stride as a compile-time constant where a specialised loop exists (1, 2, 4;
// 0 = any other stride, read at run time).
template <class F>
void avx512_with_stride(size_t stride, F&& f) {
  if (stride == 1) {
    f(std::integral_constant<int, 1>{});
  } else if (stride == 2) {
    f(std::integral_constant<int, 2>{});
  } else if (stride == 4) {
    f(std::integral_constant<int, 4>{});
  } else {
    f(std::integral_constant<int, 0>{});
  }
}

}  // namespace

void f32_im2col_pack__avx512(size_t nr_tile, const Im2colShape& s, const float* input, size_t k0, size_t kc,
                             size_t n0, size_t nc, float* dst) {
  // Only the 16-wide panels of the avx512 table; anything else takes the portable packer.
  if (nr_tile != kLanes) {
    f32_im2col_pack(nr_tile, s, input, k0, kc, n0, nc, dst);
    return;
  }
  const ptrdiff_t in_h = static_cast<ptrdiff_t>(s.in_h);
  const ptrdiff_t in_w = static_cast<ptrdiff_t>(s.in_w);
  const ptrdiff_t stride = static_cast<ptrdiff_t>(s.stride_w);
  for (size_t p0 = n0; p0 < n0 + nc; p0 += kLanes) {
    const size_t cols = n0 + nc - p0 < kLanes ? n0 + nc - p0 : kLanes;
    if (cols == kLanes && p0 % s.out_w + kLanes <= s.out_w && s.kernel_h <= kMaxTaps && s.kernel_w <= kMaxTaps) {
      const ptrdiff_t iy0 = static_cast<ptrdiff_t>(p0 / s.out_w * s.stride_h) - static_cast<ptrdiff_t>(s.pad_top);
      const ptrdiff_t ix0 = static_cast<ptrdiff_t>(p0 % s.out_w * s.stride_w) - static_cast<ptrdiff_t>(s.pad_left);
      avx512_with_stride(stride, [&](auto S) { avx512_pack_one_row<decltype(S)::value>(s, input, k0, kc, iy0, ix0, dst); });
      dst += kc * kLanes;
      continue;
    }
    Avx512Run runs[kLanes];
    size_t run_count = 0;
    size_t oy = p0 / s.out_w;
    size_t ox = p0 % s.out_w;
    for (size_t t = 0; t < cols;) {
      const size_t len = cols - t < s.out_w - ox ? cols - t : s.out_w - ox;
      runs[run_count++] = {t, len, static_cast<ptrdiff_t>(oy * s.stride_h) - static_cast<ptrdiff_t>(s.pad_top),
                           static_cast<ptrdiff_t>(ox * s.stride_w) - static_cast<ptrdiff_t>(s.pad_left) -
                               static_cast<ptrdiff_t>(t) * stride};
      t += len;
      ox = 0;
      oy++;
    }
    if (run_count <= kMaxRuns && s.kernel_h <= kMaxTaps && s.kernel_w <= kMaxTaps) {
      avx512_with_stride(stride, [&](auto S) { avx512_pack_runs<decltype(S)::value>(s, input, k0, kc, runs, run_count, dst); });
      dst += kc * kLanes;
      continue;
    }
    Avx512Im2colWalk walk(s, k0);
    for (size_t k = 0; k < kc; k++, walk.next()) {
      const float* channel = walk.channel(input);
      const ptrdiff_t dy = static_cast<ptrdiff_t>(walk.ky * s.dilation_h);
      const ptrdiff_t dx = static_cast<ptrdiff_t>(walk.kx * s.dilation_w);
      __m512 v = _mm512_setzero_ps();
      for (size_t r = 0; r < run_count; r++) {
        const Avx512Run& run = runs[r];
        const ptrdiff_t iy = run.iy0 + dy;
        if (iy < 0 || iy >= in_h) continue;  // a padding row: the run's lanes stay zero
        const ptrdiff_t t0 = static_cast<ptrdiff_t>(run.t0);
        const ptrdiff_t t1 = t0 + static_cast<ptrdiff_t>(run.len);
        const ptrdiff_t first = run.ix0 + dx;  // column lane 0 would read
        const float* row = channel + iy * in_w;
        if (stride == 1) {
          // Lane t reads column first + t: inside the row for t in [-first, in_w - first).
          const __mmask16 m = static_cast<__mmask16>(avx512_lane_range(t0, t1, 16) &
                                                     avx512_lane_range(-first, in_w - first, 16));
          v = _mm512_mask_loadu_ps(v, m, row + first);
        } else if (stride == 2) {
          // Columns first + j for j in [0, 32): the even j are the lanes' columns 2t.
          const uint64_t m = avx512_lane_range(2 * t0, 2 * t1 - 1, 32) & avx512_lane_range(-first, in_w - first, 32);
          const __m512 lo = _mm512_maskz_loadu_ps(static_cast<__mmask16>(m), row + first);
          const __m512 hi = _mm512_maskz_loadu_ps(static_cast<__mmask16>(m >> 16), row + first + 16);
          v = _mm512_mask_mov_ps(v, static_cast<__mmask16>(avx512_lane_range(t0, t1, 16)),
                                 _mm512_permutex2var_ps(lo, walk.even, hi));
        } else if (stride == 4) {
          // Columns first + j for j in [0, 64): lane t reads j = 4t.
          const uint64_t m = avx512_lane_range(4 * t0, 4 * t1 - 3, 64) & avx512_lane_range(-first, in_w - first, 64);
          v = _mm512_mask_mov_ps(v, static_cast<__mmask16>(avx512_lane_range(t0, t1, 16)),
                                 avx512_every_fourth(row + first, m));
        } else {
          // Lane t reads first + t * stride: inside for t in [ceil(-first / stride), ceil((in_w - first) / stride)).
          const ptrdiff_t lo_t = first >= 0 ? 0 : (-first + stride - 1) / stride;
          const ptrdiff_t hi_t = in_w - first <= 0 ? 0 : (in_w - first + stride - 1) / stride;
          const __mmask16 m = static_cast<__mmask16>(avx512_lane_range(t0, t1, 16) & avx512_lane_range(lo_t, hi_t, 16));
          v = _mm512_mask_i32gather_ps(v, m, walk.strided, row + first, 4);
        }
      }
      _mm512_storeu_ps(dst + k * kLanes, v);
    }
    dst += kc * kLanes;
  }
}

}  // namespace convnode
