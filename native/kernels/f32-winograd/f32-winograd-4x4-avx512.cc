// F(4x4, 3x3) transforms, AVX-512: the portable source (winograd-4x4.inc) compiled with the
// avx512 flags (GCC 12 at -O3 vectorises its loops along a tile row 16 tiles wide on zmm, the
// Relu / Relu6 epilogue with k-register selects). The same sums in the same order as the scalar
// and avx2 builds, and -ffp-contract=off keeps FMAs out, so all three agree bit for bit.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "winograd-transforms.h"

namespace convnode {
namespace winograd_4x4_avx512 {
namespace {

constexpr size_t kOutputColumns = 32;  // winograd-4x4.inc's kSegment: its column arrays' length

// Lanes [0, count) of a zmm, count clamped to 0..16.
inline __mmask16 first_lanes(long count) {
  return count <= 0 ? 0 : count >= 16 ? 0xffff : static_cast<__mmask16>((1u << count) - 1);
}

// Column phase k (columns 4t + k) of 16 tiles held in four zmm of 64 consecutive columns.
inline __m512 phase(__m512 a, __m512 b, __m512 c, __m512 d, int k) {
  const __m512i idx = _mm512_setr_epi32(k, 4 + k, 8 + k, 12 + k, 16 + k, 20 + k, 24 + k, 28 + k, k, 4 + k, 8 + k,
                                        12 + k, 16 + k, 20 + k, 24 + k, 28 + k);
  const __m512 lo = _mm512_permutex2var_ps(a, idx, b);  // tiles 0..7 in lanes 0..7
  const __m512 hi = _mm512_permutex2var_ps(c, idx, d);  // tiles 8..15 in lanes 0..7
  return _mm512_shuffle_f32x4(lo, hi, 0x44);
}

// The row pass of input_segment, 16 tiles a step: the six columns of each tile gathered into six
// zmm by permutes (tiles in lanes), then B^T with the macro's sums in its order (the file builds
// with -ffp-contract=off, as the scalar one: the results are the same bit for bit). row holds
// `width` valid floats (4n + 2); loads past them are masked to zeros, stores to the n tiles.
inline void row_pass(const float* row, size_t width, size_t n, float* const* p) {
  const __m512 four = _mm512_set1_ps(4.0f), five = _mm512_set1_ps(5.0f), two = _mm512_set1_ps(2.0f);
  for (size_t t0 = 0; t0 < n; t0 += 16) {
    const float* base = row + 4 * t0;
    const long valid = static_cast<long>(width) - static_cast<long>(4 * t0);
    __m512 q[8];
    for (int j = 0; j < 8; j++) {
      const long at = 16 * (j % 4) + 4 * (j / 4);  // 0, 16, 32, 48, then the same + 4
      q[j] = _mm512_maskz_loadu_ps(first_lanes(valid - at), base + at);
    }
    const __m512 x0 = phase(q[0], q[1], q[2], q[3], 0), x1 = phase(q[0], q[1], q[2], q[3], 1);
    const __m512 x2 = phase(q[0], q[1], q[2], q[3], 2), x3 = phase(q[0], q[1], q[2], q[3], 3);
    const __m512 x4 = phase(q[4], q[5], q[6], q[7], 0), x5 = phase(q[4], q[5], q[6], q[7], 1);
    const __mmask16 tiles = first_lanes(static_cast<long>(n - t0));
    // WINOGRAD_4X4_BT, term by term.
    _mm512_mask_storeu_ps(p[0] + t0, tiles,
                          _mm512_add_ps(_mm512_sub_ps(_mm512_mul_ps(four, x0), _mm512_mul_ps(five, x2)), x4));
    _mm512_mask_storeu_ps(p[1] + t0, tiles,
                          _mm512_sub_ps(_mm512_add_ps(x3, x4), _mm512_mul_ps(four, _mm512_add_ps(x1, x2))));
    _mm512_mask_storeu_ps(p[2] + t0, tiles,
                          _mm512_add_ps(_mm512_sub_ps(x4, x3), _mm512_mul_ps(four, _mm512_sub_ps(x1, x2))));
    _mm512_mask_storeu_ps(p[3] + t0, tiles,
                          _mm512_add_ps(_mm512_sub_ps(x4, x2), _mm512_mul_ps(two, _mm512_sub_ps(x3, x1))));
    _mm512_mask_storeu_ps(p[4] + t0, tiles,
                          _mm512_add_ps(_mm512_sub_ps(x4, x2), _mm512_mul_ps(two, _mm512_sub_ps(x1, x3))));
    _mm512_mask_storeu_ps(p[5] + t0, tiles,
                          _mm512_add_ps(_mm512_sub_ps(_mm512_mul_ps(four, x1), _mm512_mul_ps(five, x3)), x5));
  }
}

// input_segment's pass down the columns (B^T d), 16 columns a vector, the six input rows read
// in place: lanes off the plane (padding) or past `width` load as zeros through the mask, so no
// padded copy of the rows is made (its memcpy and the portable loop's scalar tail were most of
// the input side's time on 56x56 and 28x28 maps). The sums as WINOGRAD_4X4_BT orders them.
inline void input_columns(const float* plane, const WinogradPlane& g, long y0, long x0, size_t width,
                          float (*col)[4 * kOutputColumns + 4]) {
  const long h = static_cast<long>(g.in_h), w = static_cast<long>(g.in_w);
  const __m512 four = _mm512_set1_ps(4.0f), five = _mm512_set1_ps(5.0f), two = _mm512_set1_ps(2.0f);
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  for (size_t c0 = 0; c0 < width; c0 += 16) {
    // Lanes whose column x0 + c0 + lane is inside the plane and c0 + lane inside the segment.
    const __m512i x = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(x0 + static_cast<long>(c0))), lane);
    const __mmask16 inside = _mm512_cmpge_epi32_mask(x, _mm512_setzero_si512()) &
                             _mm512_cmplt_epi32_mask(x, _mm512_set1_epi32(static_cast<int>(w)));
    const __mmask16 stored = first_lanes(static_cast<long>(width - c0));
    __m512 r[6];
    for (long i = 0; i < 6; i++) {
      const long y = y0 + i;
      if (y < 0 || y >= h) {
        r[i] = _mm512_setzero_ps();
        continue;
      }
      // Lane 0's address may lie before the row (only lanes inside it are read): formed as an integer.
      const intptr_t at = reinterpret_cast<intptr_t>(plane) +
                          (y * w + x0 + static_cast<long>(c0)) * static_cast<long>(sizeof(float));
      r[i] = _mm512_maskz_loadu_ps(inside & stored, reinterpret_cast<const float*>(at));
    }
    _mm512_mask_storeu_ps(col[0] + c0, stored,
                          _mm512_add_ps(_mm512_sub_ps(_mm512_mul_ps(four, r[0]), _mm512_mul_ps(five, r[2])), r[4]));
    _mm512_mask_storeu_ps(col[1] + c0, stored,
                          _mm512_sub_ps(_mm512_add_ps(r[3], r[4]), _mm512_mul_ps(four, _mm512_add_ps(r[1], r[2]))));
    _mm512_mask_storeu_ps(col[2] + c0, stored,
                          _mm512_add_ps(_mm512_sub_ps(r[4], r[3]), _mm512_mul_ps(four, _mm512_sub_ps(r[1], r[2]))));
    _mm512_mask_storeu_ps(col[3] + c0, stored,
                          _mm512_add_ps(_mm512_sub_ps(r[4], r[2]), _mm512_mul_ps(two, _mm512_sub_ps(r[3], r[1]))));
    _mm512_mask_storeu_ps(col[4] + c0, stored,
                          _mm512_add_ps(_mm512_sub_ps(r[4], r[2]), _mm512_mul_ps(two, _mm512_sub_ps(r[1], r[3]))));
    _mm512_mask_storeu_ps(col[5] + c0, stored,
                          _mm512_add_ps(_mm512_sub_ps(_mm512_mul_ps(four, r[1]), _mm512_mul_ps(five, r[3])), r[5]));
  }
}

// A^T on six vectors of 16 tiles (WINOGRAD_4X4_AT's sums in its order; no FMAs, as the file's
// -ffp-contract=off keeps the portable loops).
inline void a_transpose(const __m512 (&x)[6], __m512* out0, __m512* out1, __m512* out2, __m512* out3) {
  const __m512 sum12 = _mm512_add_ps(x[1], x[2]), dif12 = _mm512_sub_ps(x[1], x[2]);
  const __m512 sum34 = _mm512_add_ps(x[3], x[4]), dif34 = _mm512_sub_ps(x[3], x[4]);
  *out0 = _mm512_add_ps(_mm512_add_ps(x[0], sum12), sum34);
  *out1 = _mm512_add_ps(dif12, _mm512_mul_ps(_mm512_set1_ps(2.0f), dif34));
  *out2 = _mm512_add_ps(sum12, _mm512_mul_ps(_mm512_set1_ps(4.0f), sum34));
  *out3 = _mm512_add_ps(_mm512_add_ps(dif12, _mm512_mul_ps(_mm512_set1_ps(8.0f), dif34)), x[5]);
}

// output_segment's two A^T passes, 16 tiles a vector: the 36 point rows loaded masked to the n
// tiles, the row pass's 24 results kept in registers for the column pass. GCC vectorised the
// portable loops (n <= 14 tiles on a 56x56 map, <= 7 on 28x28) as one ymm step and a scalar
// tail, and the segment was 20% of a 64->64 @56 run.
inline void output_columns(const float* m, size_t point_stride, size_t n, float (*out)[4][kOutputColumns]) {
  for (size_t t0 = 0; t0 < n; t0 += 16) {
    const __mmask16 tiles = first_lanes(static_cast<long>(n - t0));
    __m512 h[4][6];
    for (size_t i = 0; i < 6; i++) {
      __m512 x[6];
      for (size_t j = 0; j < 6; j++) x[j] = _mm512_maskz_loadu_ps(tiles, m + (i * 6 + j) * point_stride + t0);
      a_transpose(x, &h[0][i], &h[1][i], &h[2][i], &h[3][i]);
    }
    for (size_t c = 0; c < 4; c++) {
      __m512 o[4];
      a_transpose(h[c], &o[0], &o[1], &o[2], &o[3]);
      for (size_t r = 0; r < 4; r++) _mm512_storeu_ps(out[r][c] + t0, o[r]);
    }
  }
}

// One output row of output_segment: columns[c][t] is column c of tile t (n tiles); the four
// interleaved by permutes into the row's 4n values, then bias, residual and the activation as the
// portable loops do them (same order; max / min with zero / six as the second operand keep a NaN
// as `x < 0 ? 0 : x` does), stored to the first `width` of them. Through a stack row, the
// portable loops' vector loads read what scalar stores had just written (failed store forwards).
// False (nothing done) for activations other than none, relu and relu6.
inline bool output_row(const float (*columns)[kOutputColumns], size_t n, size_t width, float bias, const float* residual,
                       const Activation& act, float* dst) {
  if (act.kind != ActivationKind::None && act.kind != ActivationKind::Relu && act.kind != ActivationKind::Relu6) {
    return false;
  }
  // Pairs (column 0, 1) or (2, 3) of tiles 0..7 (lo) or 8..15 (hi), interleaved.
  const __m512i pairs_lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i pairs_hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  // Four tiles' four columns from those pairs: tiles 0..3 (first) or 4..7 (second) of the eight.
  const __m512i quad_first = _mm512_setr_epi32(0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23);
  const __m512i quad_second = _mm512_setr_epi32(8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31);
  const __m512 b = _mm512_set1_ps(bias), zero = _mm512_setzero_ps(), six = _mm512_set1_ps(6.0f);
  for (size_t t0 = 0; t0 < n; t0 += 16) {
    const __mmask16 tiles = first_lanes(static_cast<long>(n - t0));
    const __m512 c0 = _mm512_maskz_loadu_ps(tiles, columns[0] + t0), c1 = _mm512_maskz_loadu_ps(tiles, columns[1] + t0);
    const __m512 c2 = _mm512_maskz_loadu_ps(tiles, columns[2] + t0), c3 = _mm512_maskz_loadu_ps(tiles, columns[3] + t0);
    const __m512 p01[2] = {_mm512_permutex2var_ps(c0, pairs_lo, c1), _mm512_permutex2var_ps(c0, pairs_hi, c1)};
    const __m512 p23[2] = {_mm512_permutex2var_ps(c2, pairs_lo, c3), _mm512_permutex2var_ps(c2, pairs_hi, c3)};
    for (size_t q = 0; q < 4; q++) {
      const long at = static_cast<long>(4 * t0 + 16 * q);
      const __mmask16 lanes = first_lanes(static_cast<long>(width) - at);
      if (lanes == 0) break;
      __m512 v = _mm512_permutex2var_ps(p01[q / 2], q % 2 == 0 ? quad_first : quad_second, p23[q / 2]);
      v = _mm512_add_ps(v, b);
      if (residual != nullptr) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(lanes, residual + at));
      if (act.kind != ActivationKind::None) v = _mm512_max_ps(zero, v);
      if (act.kind == ActivationKind::Relu6) v = _mm512_min_ps(six, v);
      _mm512_mask_storeu_ps(dst + at, lanes, v);
    }
  }
  return true;
}

}  // namespace
}  // namespace winograd_4x4_avx512
}  // namespace convnode

#define WINOGRAD_4X4_ISA winograd_4x4_avx512
#define WINOGRAD_4X4_ROW_PASS(row, width, n, p) row_pass(row, width, n, p)
#define WINOGRAD_4X4_INPUT_COLUMNS(plane, g, y0, x0, width, col) input_columns(plane, g, y0, x0, width, col)
#define WINOGRAD_4X4_OUTPUT_COLUMNS(m, point_stride, n, out) output_columns(m, point_stride, n, out)
#define WINOGRAD_4X4_OUTPUT_ROW(columns, n, width, bias, residual, act, dst) \
  output_row(columns, n, width, bias, residual, act, dst)
#include "winograd-4x4.inc"

namespace convnode {
namespace winograd_4x4_avx512 {
namespace {
static_assert(kOutputColumns == kSegment, "output_row takes the segment's column arrays");
}  // namespace
}  // namespace winograd_4x4_avx512
}  // namespace convnode

namespace convnode {

void f32_winograd_4x4_input__avx512(const float* plane, const WinogradPlane& g, size_t t0, size_t count, float* v,
                                    size_t point_stride, size_t panel_width, size_t panel_stride) {
  WINOGRAD_4X4_ISA::input_tiles(plane, g, t0, count, v, point_stride, panel_width, panel_stride);
}

void f32_winograd_4x4_output__avx512(const float* m, size_t point_stride, const WinogradPlane& g, size_t t0,
                                     size_t count, float bias, const float* residual_plane, const Activation& act,
                                     float* out_plane) {
  WINOGRAD_4X4_ISA::output_tiles(m, point_stride, g, t0, count, bias, residual_plane, act, out_plane);
}

}  // namespace convnode
