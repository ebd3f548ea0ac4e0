// F(4x4, 3x3) transforms, AVX-512: the portable source (winograd-4x4.inc) compiled with the
// avx512 flags (GCC 12 at -O3 vectorises its loops along a tile row 16 tiles wide on zmm, the
// Relu / Relu6 epilogue with k-register selects). The same sums in the same order as the scalar
// and avx2 builds, and -ffp-contract=off keeps FMAs out, so all three agree bit for bit.
#include <immintrin.h>

#include <cstddef>

namespace convnode {
namespace winograd_4x4_avx512 {
namespace {

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

}  // namespace
}  // namespace winograd_4x4_avx512
}  // namespace convnode

#define WINOGRAD_4X4_ISA winograd_4x4_avx512
#define WINOGRAD_4X4_ROW_PASS(row, width, n, p) row_pass(row, width, n, p)
#include "winograd-4x4.inc"

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
