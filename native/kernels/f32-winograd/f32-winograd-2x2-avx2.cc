// The F(2x2, 3x3) input and output transforms with AVX2 intrinsics (this file alone is compiled
// with -mavx2 -mfma). Eight tiles of one tile row are one vector: tile t reads input columns
// 2t .. 2t+3, so a group's even and odd columns come from two pairs of loads (at x and at x + 2)
// split with one shuffle each, straight from the caller's rows: no padded copy of the rows. Only
// groups that reach past the plane's left or right edge load through masks (zeros outside), and
// rows above or below it are zero vectors. The output side interleaves each tile's two columns
// back with unpack + lane permutes and applies bias, residual and activation before storing.
// The portable version (f32-winograd-2x2-scalar.cc) computes the same sums in the same order.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "../../simd/avx2-epilogue.h"
#include "winograd-transforms.h"

namespace convnode {

namespace winograd_avx2 {  // helpers' symbols name their ISA (scripts/check-x64-isa.mjs)
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

// Lanes [0, n) set.
inline __m256i first_lanes(size_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

inline __m256 in_tile_order(__m256 x) {
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(x), _MM_SHUFFLE(3, 1, 2, 0)));
}

// Where a group's 8 tiles of each point go: 8 slots in one panel row, point p at
// dst + p * stride.
struct WholeSink {
  float* dst;
  size_t stride;
  void put(size_t point, __m256 x) const { _mm256_storeu_ps(dst + point * stride, x); }
};

// Tiles 0-3 at the end of one panel row, tiles 4-7 at the start of the next panel's (a row of
// 28 tiles puts every other group there with 16-wide panels). Without tiles 4-7 (the row's last
// group) nothing is written to the next panel, which may not exist.
struct SplitSink {
  float *low, *high;  // high null: no tiles 4-7
  size_t stride;
  void put(size_t point, __m256 x) const {
    _mm_storeu_ps(low + point * stride, _mm256_castps256_ps128(x));
    if (high != nullptr) _mm_storeu_ps(high + point * stride, _mm256_extractf128_ps(x, 1));
  }
};

// One row of points (B^T d already applied down the columns: q) along the tile rows (... B):
// points first .. first + 3.
template <typename Sink>
inline void store_point_row(const RowQuad& q, const Sink& sink, size_t first) {
  // Even / odd columns; shuffle_ps leaves the tiles as 0 1 4 5 | 2 3 6 7 in all four, which the
  // permute puts back in order. A tile's columns are e0, o0, e1, o1.
  const __m256 e0 = _mm256_shuffle_ps(q.a, q.b, _MM_SHUFFLE(2, 0, 2, 0));
  const __m256 o0 = _mm256_shuffle_ps(q.a, q.b, _MM_SHUFFLE(3, 1, 3, 1));
  const __m256 e1 = _mm256_shuffle_ps(q.c, q.d, _MM_SHUFFLE(2, 0, 2, 0));
  const __m256 o1 = _mm256_shuffle_ps(q.c, q.d, _MM_SHUFFLE(3, 1, 3, 1));
  sink.put(first, in_tile_order(_mm256_sub_ps(e0, e1)));
  sink.put(first + 1, in_tile_order(_mm256_add_ps(o0, e1)));
  sink.put(first + 2, in_tile_order(_mm256_sub_ps(e1, o0)));
  sink.put(first + 3, in_tile_order(_mm256_sub_ps(o0, o1)));
}

// The 16 points (B^T d B) of 8 tiles whose first input column is x0, from 4 input rows (null:
// a row of padding), into the sink. Down the columns (B^T d), the point rows are input rows
// r0 - r2, r1 + r2, r2 - r1, r1 - r3.
template <bool kEdge, typename Sink>
inline void input_group(const float* const rows[4], long x0, long w, const Sink& sink) {
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
                    sink, 0);
  }
  store_point_row({_mm256_add_ps(r1.a, r2.a), _mm256_add_ps(r1.b, r2.b), _mm256_add_ps(r1.c, r2.c),
                   _mm256_add_ps(r1.d, r2.d)},
                  sink, 4);
  store_point_row({_mm256_sub_ps(r2.a, r1.a), _mm256_sub_ps(r2.b, r1.b), _mm256_sub_ps(r2.c, r1.c),
                   _mm256_sub_ps(r2.d, r1.d)},
                  sink, 8);
  const RowQuad r3 = load_quad<kEdge>(rows[3], x0, mask);
  store_point_row({_mm256_sub_ps(r1.a, r3.a), _mm256_sub_ps(r1.b, r3.b), _mm256_sub_ps(r1.c, r3.c),
                   _mm256_sub_ps(r1.d, r3.d)},
                  sink, 12);
}

// The group's tiles in any of the sinks above.
template <typename Sink>
inline void input_group_into(bool edge, const float* const rows[4], long x0, long w, const Sink& sink) {
  if (edge) {
    input_group<true>(rows, x0, w, sink);
  } else {
    input_group<false>(rows, x0, w, sink);
  }
}

// Where tile offset o (from t0) goes: slot(o) of winograd-transforms.h.
struct Slots {
  float* v;
  size_t panel_width, panel_stride;
  float* at(size_t o) const { return v + (o / panel_width) * panel_stride + o % panel_width; }
};

// Any other group whose 8 slots do not lie in one panel row (odd row lengths): transformed into
// `spill`, then only its first `lanes` tiles are copied out (whole halves where 4 slots lie
// together). The divisions in Slots::at are fine here; the common cases never divide.
void input_group_spilled(bool edge, const float* const rows[4], long x0, long w, const Slots& s, size_t o,
                         size_t lanes, size_t point_stride) {
  alignas(32) float spill[kWinogradPoints][kLanes];
  input_group_into(edge, rows, x0, w, WholeSink{spill[0], kLanes});
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
}  // namespace winograd_avx2

using namespace winograd_avx2;

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
    // The group's panel and slot in it, stepped along (no division per group).
    size_t panel = (t - t0) / panel_width, slot = (t - t0) % panel_width;
    for (size_t k = 0; k < n; k += kLanes) {
      const long x0 = static_cast<long>(2 * (tx + k)) - static_cast<long>(g.pad_left);
      // A group reads columns x0 .. x0 + 17. When its 8 slots lie in one panel row it is
      // transformed straight into them: slots past the row's tiles get values nobody reads, or
      // tiles of the next tile row, stored later by this call.
      const bool edge = padding_rows || x0 < 0 || x0 + 18 > w;
      float* dst = v + panel * panel_stride + slot;
      if (slot + kLanes <= panel_width) {
        input_group_into(edge, rows, x0, w, WholeSink{dst, point_stride});
      } else if (slot + 4 == panel_width) {
        float* next = n - k > 4 ? v + (panel + 1) * panel_stride : nullptr;
        input_group_into(edge, rows, x0, w, SplitSink{dst, next, point_stride});
      } else {
        input_group_spilled(edge, rows, x0, w, slots, t - t0 + k, std::min(kLanes, n - k), point_stride);
      }
      slot += kLanes;
      while (slot >= panel_width) slot -= panel_width, panel++;
    }
    t += n;
  }
}

namespace winograd_avx2 {  // helpers' symbols name their ISA (scripts/check-x64-isa.mjs)
namespace {

// The 2x2 outputs of 8 tiles from their 16 points (point p at src[p * stride], 8 tiles):
// along each row i of points (... A) h0 = q0 + q1 + q2, h1 = q1 - q2 - q3; down the columns
// (A^T ...) output row 0 = h[0] + h[1] + h[2], row 1 = h[1] - h[2] - h[3], summed as the rows
// arrive. y[row][col] + bias, one lane per tile. kMasked: only the first tiles exist (live).
template <bool kMasked>
inline void output_group(const float* src, size_t stride, __m256i live, __m256 bias, __m256 y[2][2]) {
  const auto load = [&](size_t point) {
    return kMasked ? _mm256_maskload_ps(src + point * stride, live) : _mm256_loadu_ps(src + point * stride);
  };
  __m256 y00, y01, y10, y11;
  {
    const __m256 q0 = load(0), q1 = load(1), q2 = load(2), q3 = load(3);
    y00 = _mm256_add_ps(_mm256_add_ps(q0, q1), q2);
    y01 = _mm256_sub_ps(_mm256_sub_ps(q1, q2), q3);
  }
  {
    const __m256 q0 = load(4), q1 = load(5), q2 = load(6), q3 = load(7);
    y10 = _mm256_add_ps(_mm256_add_ps(q0, q1), q2);
    y11 = _mm256_sub_ps(_mm256_sub_ps(q1, q2), q3);
    y00 = _mm256_add_ps(y00, y10);
    y01 = _mm256_add_ps(y01, y11);
  }
  {
    const __m256 q0 = load(8), q1 = load(9), q2 = load(10), q3 = load(11);
    const __m256 h0 = _mm256_add_ps(_mm256_add_ps(q0, q1), q2);
    const __m256 h1 = _mm256_sub_ps(_mm256_sub_ps(q1, q2), q3);
    y00 = _mm256_add_ps(y00, h0), y01 = _mm256_add_ps(y01, h1);
    y10 = _mm256_sub_ps(y10, h0), y11 = _mm256_sub_ps(y11, h1);
  }
  {
    const __m256 q0 = load(12), q1 = load(13), q2 = load(14), q3 = load(15);
    y10 = _mm256_sub_ps(y10, _mm256_add_ps(_mm256_add_ps(q0, q1), q2));
    y11 = _mm256_sub_ps(y11, _mm256_sub_ps(_mm256_sub_ps(q1, q2), q3));
  }
  y[0][0] = _mm256_add_ps(y00, bias), y[0][1] = _mm256_add_ps(y01, bias);
  y[1][0] = _mm256_add_ps(y10, bias), y[1][1] = _mm256_add_ps(y11, bias);
}

// The activation with its kind fixed at compile time (every kind has a vector form).
template <ActivationKind kKind>
inline __m256 activate_as(__m256 x, const Activation& act) {
  return avx2_activate_kind<kKind>(x, act);
}

template <ActivationKind kKind>
void output_tiles(const float* m, size_t point_stride, const WinogradPlane& g, size_t t0, size_t count, float bias,
                  const float* residual_plane, const Activation& act, float* out_plane) {
  const __m256 bias_v = _mm256_set1_ps(bias);
  for (size_t t = t0; t < t0 + count;) {
    const size_t ty = t / g.tiles_w, tx = t % g.tiles_w;
    const size_t n = std::min(g.tiles_w - tx, t0 + count - t);
    const bool both_rows = 2 * ty + 1 < g.out_h;
    float* out_row = out_plane + 2 * ty * g.out_w;
    const float* res_row = residual_plane != nullptr ? residual_plane + 2 * ty * g.out_w : nullptr;
    for (size_t k = 0; k < n; k += kLanes) {
      const size_t lanes = std::min(kLanes, n - k);
      const float* src = m + (t - t0 + k);
      const size_t x0 = 2 * (tx + k);
      __m256 y[2][2];
      // Each output row's 16 pixels: interleave the tiles' two columns (unpack within 128-bit
      // halves, then put the halves in order).
      __m256 px[2][2];
      const auto interleave = [&](size_t r) {
        const __m256 lo = _mm256_unpacklo_ps(y[r][0], y[r][1]), hi = _mm256_unpackhi_ps(y[r][0], y[r][1]);
        px[r][0] = _mm256_permute2f128_ps(lo, hi, 0x20);
        px[r][1] = _mm256_permute2f128_ps(lo, hi, 0x31);
      };
      if (lanes == kLanes && both_rows && x0 + 2 * kLanes <= g.out_w) {
        // The common case: 8 whole tiles, two whole rows of 16 pixels.
        output_group<false>(src, point_stride, __m256i{}, bias_v, y);
        for (size_t r = 0; r < 2; r++) {
          interleave(r);
          float* out = out_row + r * g.out_w + x0;
          for (size_t j = 0; j < 2; j++) {
            __m256 value = px[r][j];
            if (res_row != nullptr) value = _mm256_add_ps(value, _mm256_loadu_ps(res_row + r * g.out_w + x0 + 8 * j));
            _mm256_storeu_ps(out + 8 * j, activate_as<kKind>(value, act));
          }
        }
        continue;
      }
      // A short group (masked loads: nothing past the chunk's last tile), or the plane's last row
      // or column.
      const __m256i live = first_lanes(lanes);
      if (lanes == kLanes) {
        output_group<false>(src, point_stride, live, bias_v, y);
      } else {
        output_group<true>(src, point_stride, live, bias_v, y);
      }
      const size_t width = std::min(2 * lanes, g.out_w - x0);  // the last tile of an odd width is cut
      for (size_t r = 0; r < (both_rows ? 2 : 1); r++) {
        interleave(r);
        float* out = out_row + r * g.out_w + x0;
        const float* res = res_row != nullptr ? res_row + r * g.out_w + x0 : nullptr;
        for (size_t j = 0; j < 2 && 8 * j < width; j++) {
          const size_t pixels = std::min<size_t>(8, width - 8 * j);
          __m256 value = px[r][j];
          if (res != nullptr) {
            value = _mm256_add_ps(value, pixels == 8 ? _mm256_loadu_ps(res + 8 * j)
                                                     : _mm256_maskload_ps(res + 8 * j, first_lanes(pixels)));
          }
          value = activate_as<kKind>(value, act);
          if (pixels == 8) {
            _mm256_storeu_ps(out + 8 * j, value);
            continue;
          }
          // A cut vector: vector stores would write past the row's end.
          alignas(32) float buffer[kLanes];
          _mm256_store_ps(buffer, value);
          for (size_t x = 0; x < pixels; x++) {
            out[8 * j + x] = buffer[x];
          }
        }
      }
    }
    t += n;
  }
}

}  // namespace
}  // namespace winograd_avx2

void f32_winograd_2x2_output__avx2(const float* m, size_t point_stride, const WinogradPlane& g, size_t t0,
                                   size_t count, float bias, const float* residual_plane, const Activation& act,
                                   float* out_plane) {
  // The kind is fixed per call: one loop per kind, no switch per vector.
  with_activation_kind(act.kind, [&](auto kind) {
    output_tiles<decltype(kind)::value>(m, point_stride, g, t0, count, bias, residual_plane, act, out_plane);
  });
}

}  // namespace convnode
