// The F(2x2, 3x3) input and output transforms with AVX2 intrinsics (this file alone is compiled
// with -mavx2 -mfma). Eight tiles of one tile row are one vector: tile t reads input columns
// 2t .. 2t+3, so a group's even and odd columns come from two pairs of loads (at x and at x + 2)
// split with one shuffle each, straight from the caller's rows: no padded copy of the rows. Only
// groups that reach past the plane's left or right edge load through masks (zeros outside), and
// rows above or below it are zero vectors. The output side interleaves each tile's two columns
// back with unpack + lane permutes and applies bias, residual and activation before storing.
// The portable version (winograd-2x2.inc) computes the same sums in the same order.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "../../simd/avx2-epilogue.h"
#include "winograd.h"

namespace convnode {

namespace {

constexpr size_t kLanes = 8;

// Columns x0 + [0, 8), x0 + [8, 16) (a group's first two input columns per tile, even / odd)
// and x0 + 2 + [0, 8), x0 + 10 + [0, 8) (its last two) of one input row.
struct RowQuad {
  __m256 a, b, c, d;
};

// kEdge: the group reaches past the plane (masks: the 4 loads' lanes inside it), or a row is
// padding (null). Otherwise plain loads.
template <bool kEdge>
inline RowQuad load_quad(const float* row, long x0, const __m256i mask[4]) {
  if (!kEdge) {
    return {_mm256_loadu_ps(row + x0), _mm256_loadu_ps(row + x0 + 8), _mm256_loadu_ps(row + x0 + 2),
            _mm256_loadu_ps(row + x0 + 10)};
  }
  if (row == nullptr) return {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  // The address of lane 0 may lie before the row (only lanes inside it are read), so it is formed
  // as an integer.
  const auto at = [&](long x) {
    return reinterpret_cast<const float*>(reinterpret_cast<intptr_t>(row) + x * static_cast<long>(sizeof(float)));
  };
  return {_mm256_maskload_ps(at(x0), mask[0]), _mm256_maskload_ps(at(x0 + 8), mask[1]),
          _mm256_maskload_ps(at(x0 + 2), mask[2]), _mm256_maskload_ps(at(x0 + 10), mask[3])};
}

inline __m256i inside_mask(long x, long w) {
  const __m256i column = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(x)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  return _mm256_and_si256(_mm256_cmpgt_epi32(column, _mm256_set1_epi32(-1)),
                          _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(w)), column));
}

inline __m256 in_tile_order(__m256 x) {
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(x), _MM_SHUFFLE(3, 1, 2, 0)));
}

// One row of points (B^T d already applied down the columns: q) along the tile rows (... B),
// stored as 4 vectors `stride` floats apart.
inline void store_point_row(const RowQuad& q, float* dst, size_t stride) {
  // Even / odd columns; shuffle_ps leaves the tiles as 0 1 4 5 | 2 3 6 7 in all four, which the
  // permute puts back in order. A tile's columns are e0, o0, e1, o1.
  const __m256 e0 = _mm256_shuffle_ps(q.a, q.b, _MM_SHUFFLE(2, 0, 2, 0));
  const __m256 o0 = _mm256_shuffle_ps(q.a, q.b, _MM_SHUFFLE(3, 1, 3, 1));
  const __m256 e1 = _mm256_shuffle_ps(q.c, q.d, _MM_SHUFFLE(2, 0, 2, 0));
  const __m256 o1 = _mm256_shuffle_ps(q.c, q.d, _MM_SHUFFLE(3, 1, 3, 1));
  _mm256_storeu_ps(dst, in_tile_order(_mm256_sub_ps(e0, e1)));
  _mm256_storeu_ps(dst + stride, in_tile_order(_mm256_add_ps(o0, e1)));
  _mm256_storeu_ps(dst + 2 * stride, in_tile_order(_mm256_sub_ps(e1, o0)));
  _mm256_storeu_ps(dst + 3 * stride, in_tile_order(_mm256_sub_ps(o0, o1)));
}

// The 16 points (B^T d B) of 8 tiles whose first input column is x0, from 4 input rows (null:
// a row of padding), to dst[point * stride + tile]. Down the columns (B^T d), the point rows are
// input rows r0 - r2, r1 + r2, r2 - r1, r1 - r3.
template <bool kEdge>
inline void input_group(const float* const rows[4], long x0, long w, float* dst, size_t stride) {
  __m256i mask[4];
  if (kEdge) {
    mask[0] = inside_mask(x0, w), mask[1] = inside_mask(x0 + 8, w);
    mask[2] = inside_mask(x0 + 2, w), mask[3] = inside_mask(x0 + 10, w);
  }
  const RowQuad r1 = load_quad<kEdge>(rows[1], x0, mask), r2 = load_quad<kEdge>(rows[2], x0, mask);
  {
    const RowQuad r0 = load_quad<kEdge>(rows[0], x0, mask);
    store_point_row({_mm256_sub_ps(r0.a, r2.a), _mm256_sub_ps(r0.b, r2.b), _mm256_sub_ps(r0.c, r2.c),
                     _mm256_sub_ps(r0.d, r2.d)},
                    dst, stride);
  }
  store_point_row({_mm256_add_ps(r1.a, r2.a), _mm256_add_ps(r1.b, r2.b), _mm256_add_ps(r1.c, r2.c),
                   _mm256_add_ps(r1.d, r2.d)},
                  dst + 4 * stride, stride);
  store_point_row({_mm256_sub_ps(r2.a, r1.a), _mm256_sub_ps(r2.b, r1.b), _mm256_sub_ps(r2.c, r1.c),
                   _mm256_sub_ps(r2.d, r1.d)},
                  dst + 8 * stride, stride);
  const RowQuad r3 = load_quad<kEdge>(rows[3], x0, mask);
  store_point_row({_mm256_sub_ps(r1.a, r3.a), _mm256_sub_ps(r1.b, r3.b), _mm256_sub_ps(r1.c, r3.c),
                   _mm256_sub_ps(r1.d, r3.d)},
                  dst + 12 * stride, stride);
}

// Where tile offset o (from t0) goes: slot(o) of winograd.h.
struct Slots {
  float* v;
  size_t panel_width, panel_stride;
  float* at(size_t o) const { return v + (o / panel_width) * panel_stride + o % panel_width; }
};

// A group's tiles go to offsets o .. o + 7. When those 8 slots lie in one panel row it is
// transformed straight into them (slots past the row's tiles get values nobody reads, or tiles
// of the next tile row, stored later by the same call). Otherwise it goes through `spill`, and
// only its first `lanes` tiles are copied out: whole halves where 4 slots lie together.
template <bool kEdge>
inline void input_group_to(const float* const rows[4], long x0, long w, const Slots& s, size_t o, size_t lanes,
                           size_t point_stride) {
  if (o % s.panel_width + kLanes <= s.panel_width) {
    input_group<kEdge>(rows, x0, w, s.at(o), point_stride);
    return;
  }
  alignas(32) float spill[kWinogradPoints][kLanes];
  input_group<kEdge>(rows, x0, w, spill[0], kLanes);
  for (size_t first = 0; first < lanes; first += 4) {
    const size_t n = std::min<size_t>(4, lanes - first);
    if (n == 4 && (o + first) % s.panel_width + 4 <= s.panel_width) {
      float* dst = s.at(o + first);
      for (size_t p = 0; p < kWinogradPoints; p++) _mm_storeu_ps(dst + p * point_stride, _mm_load_ps(spill[p] + first));
      continue;
    }
    for (size_t l = first; l < first + n; l++) {
      float* dst = s.at(o + l);
      for (size_t p = 0; p < kWinogradPoints; p++) dst[p * point_stride] = spill[p][l];
    }
  }
}

}  // namespace

void f32_winograd_2x2_input__avx2(const float* plane, const WinogradPlane& g, size_t t0, size_t count, float* v,
                                  size_t point_stride, size_t panel_width, size_t panel_stride) {
  const long h = static_cast<long>(g.in_h), w = static_cast<long>(g.in_w);
  const Slots slots = {v, panel_width, panel_stride};
  for (size_t t = t0; t < t0 + count;) {
    const size_t ty = t / g.tiles_w, tx = t % g.tiles_w;
    const size_t n = std::min(g.tiles_w - tx, t0 + count - t);  // tiles of this row in the chunk
    const float* rows[4];
    for (size_t i = 0; i < 4; i++) {
      const long y = static_cast<long>(2 * ty + i) - static_cast<long>(g.pad_top);
      rows[i] = y >= 0 && y < h ? plane + y * w : nullptr;
    }
    const bool padding_rows = rows[0] == nullptr || rows[3] == nullptr;
    for (size_t k = 0; k < n; k += kLanes) {
      const long x0 = static_cast<long>(2 * (tx + k)) - static_cast<long>(g.pad_left);
      const size_t o = t - t0 + k, lanes = std::min(kLanes, n - k);
      // A group reads columns x0 .. x0 + 17.
      if (!padding_rows && x0 >= 0 && x0 + 18 <= w) {
        input_group_to<false>(rows, x0, w, slots, o, lanes, point_stride);
      } else {
        input_group_to<true>(rows, x0, w, slots, o, lanes, point_stride);
      }
    }
    t += n;
  }
}

void f32_winograd_2x2_output__avx2(const float* m, size_t point_stride, const WinogradPlane& g, size_t t0,
                                   size_t count, float bias, const float* residual_plane, const Activation& act,
                                   float* out_plane) {
  const bool vector_activation = avx2_activation_vectorizable(act);
  const __m256 bias_v = _mm256_set1_ps(bias);
  for (size_t t = t0; t < t0 + count;) {
    const size_t ty = t / g.tiles_w, tx = t % g.tiles_w;
    const size_t n = std::min(g.tiles_w - tx, t0 + count - t);
    for (size_t k = 0; k < n; k += kLanes) {
      const size_t lanes = std::min(kLanes, n - k);
      const float* src = m + (t - t0 + k);
      // A short group is read through a mask: nothing past the chunk's last tile.
      const __m256i live = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(lanes)),
                                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
      const auto load = [&](size_t point) {
        return lanes == kLanes ? _mm256_loadu_ps(src + point * point_stride)
                               : _mm256_maskload_ps(src + point * point_stride, live);
      };
      // Along each row i of points (... A): h0 = q0 + q1 + q2, h1 = q1 - q2 - q3; down the
      // columns (A^T ...): output row 0 = h[0] + h[1] + h[2], row 1 = h[1] - h[2] - h[3],
      // summed as the rows arrive. y[row][col], one lane per tile.
      __m256 y00, y01, y10, y11;
      for (size_t i = 0; i < 4; i++) {
        const __m256 q0 = load(4 * i), q1 = load(4 * i + 1), q2 = load(4 * i + 2), q3 = load(4 * i + 3);
        const __m256 h0 = _mm256_add_ps(_mm256_add_ps(q0, q1), q2);
        const __m256 h1 = _mm256_sub_ps(_mm256_sub_ps(q1, q2), q3);
        if (i == 0) {
          y00 = h0, y01 = h1;
        } else if (i == 1) {
          y00 = _mm256_add_ps(y00, h0), y01 = _mm256_add_ps(y01, h1), y10 = h0, y11 = h1;
        } else if (i == 2) {
          y00 = _mm256_add_ps(y00, h0), y01 = _mm256_add_ps(y01, h1);
          y10 = _mm256_sub_ps(y10, h0), y11 = _mm256_sub_ps(y11, h1);
        } else {
          y10 = _mm256_sub_ps(y10, h0), y11 = _mm256_sub_ps(y11, h1);
        }
      }
      const __m256 y[2][2] = {{_mm256_add_ps(y00, bias_v), _mm256_add_ps(y01, bias_v)},
                              {_mm256_add_ps(y10, bias_v), _mm256_add_ps(y11, bias_v)}};
      const size_t x0 = 2 * (tx + k);
      const size_t width = std::min(2 * lanes, g.out_w - x0);  // the last tile of an odd width is cut
      for (size_t r = 0; r < 2; r++) {
        const size_t row = 2 * ty + r;
        if (row >= g.out_h) break;
        // Interleave the tiles' two columns: pixels 0..7 and 8..15 of the group's output row.
        const __m256 lo = _mm256_unpacklo_ps(y[r][0], y[r][1]), hi = _mm256_unpackhi_ps(y[r][0], y[r][1]);
        __m256 px[2] = {_mm256_permute2f128_ps(lo, hi, 0x20), _mm256_permute2f128_ps(lo, hi, 0x31)};
        float* out = out_plane + row * g.out_w + x0;
        const float* res = residual_plane != nullptr ? residual_plane + row * g.out_w + x0 : nullptr;
        if (width == 2 * kLanes && vector_activation) {
          for (size_t j = 0; j < 2; j++) {
            if (res != nullptr) px[j] = _mm256_add_ps(px[j], _mm256_loadu_ps(res + 8 * j));
            _mm256_storeu_ps(out + 8 * j, avx2_activate(px[j], act));
          }
          continue;
        }
        alignas(32) float buffer[2 * kLanes];
        _mm256_store_ps(buffer, px[0]);
        _mm256_store_ps(buffer + 8, px[1]);
        for (size_t x = 0; x < width; x++) {
          out[x] = activate(res != nullptr ? buffer[x] + res[x] : buffer[x], act);
        }
      }
    }
    t += n;
  }
}

}  // namespace convnode
