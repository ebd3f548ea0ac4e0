// The general max / avg pooling loop on AVX-512, shared by f32-maxpool-general-avx512.cc and
// f32-avgpool-general-avx512.cc (include only from files built with the avx512 flags; every
// function here has internal linkage and 'avx512' in its name, for scripts/check-x64-isa.mjs).
// Any window / stride / dilation / padding: 16 outputs of a row are one vector, each window tap
// one load of 16 input values (contiguous at stride 1, a gather at other strides), and a row's
// last outputs take a k-masked load and store instead of a scalar loop. Only the columns whose
// windows hang over the left or right edge of the input (a few per row) run the per-pixel path,
// the scalar kernels' loops: same taps in the same order, so results are bit-identical (the
// average sums its taps in the scalar order, then divides by the same count).
//
// Max and NaN: vmaxps drops a NaN, so a lane that meets one keeps that NaN and stops comparing,
// as the scalar kernel does (the first NaN of the window wins).
#pragma once
#include <immintrin.h>

#include <cmath>
#include <limits>

#include <algorithm>

#include "../pool-plane.h"

namespace convnode {

namespace {

inline __mmask16 pool_lanes_avx512(size_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u);
}

// The outputs [lo, hi) of a row whose every horizontal tap lies inside the input.
struct InteriorColumns {
  size_t lo, hi;
};

inline InteriorColumns interior_columns_avx512(const PoolPlane& p) {
  const size_t span = (p.kernel_w - 1) * p.dilation_w;  // from the first tap to the last
  const size_t lo = (p.pad_left + p.stride_w - 1) / p.stride_w;
  if (p.in_w + p.pad_left < span + 1) return {0, 0};
  const size_t hi = std::min(p.out_w, (p.in_w - 1 + p.pad_left - span) / p.stride_w + 1);
  return {lo, hi > lo ? hi : lo};
}

// One output by its clipped window, the scalar kernels' loops.
inline float max_pixel_avx512(const PoolPlane& p, const TapRange& ty, size_t iy0, size_t ox) {
  const TapRange tx = pool_taps(ox, p.stride_w, p.pad_left, p.kernel_w, p.dilation_w, p.in_w);
  const size_t ix0 = ox * p.stride_w + tx.first * p.dilation_w - p.pad_left;
  float best = -std::numeric_limits<float>::infinity();
  for (size_t a = 0; a < ty.count; a++) {
    const float* row = p.input + (iy0 + a * p.dilation_h) * p.in_w + ix0;
    for (size_t b = 0; b < tx.count; b++) {
      const float v = row[b * p.dilation_w];
      if (v > best || std::isnan(v)) best = std::isnan(best) ? best : v;
    }
  }
  return best;
}

inline float avg_pixel_avx512(const PoolPlane& p, const TapRange& ty, size_t row_divisor, size_t iy0, size_t ox) {
  const TapRange tx = pool_taps(ox, p.stride_w, p.pad_left, p.kernel_w, p.dilation_w, p.in_w);
  const size_t ix0 = ox * p.stride_w + tx.first * p.dilation_w - p.pad_left;
  float sum = 0.0f;
  for (size_t a = 0; a < ty.count; a++) {
    const float* row = p.input + (iy0 + a * p.dilation_h) * p.in_w + ix0;
    for (size_t b = 0; b < tx.count; b++) sum += row[b * p.dilation_w];
  }
  size_t divisor = ty.count * tx.count;
  if (p.count_include_pad) {
    const TapRange px = pool_taps(ox, p.stride_w, 0, p.kernel_w, p.dilation_w, p.in_w + p.pad_left + p.pad_right);
    divisor = row_divisor * px.count;
  }
  return divisor == 0 ? 0.0f : sum / static_cast<float>(divisor);
}

// 16 (or `lanes`) taps: input columns first, first + stride, ... of one row.
inline __m512 load_taps_avx512(const float* first, size_t stride, __mmask16 lanes, __m512i offsets, __m512 fill) {
  if (stride == 1) return _mm512_mask_loadu_ps(fill, lanes, first);
  return _mm512_mask_i32gather_ps(fill, lanes, offsets, first, 4);
}

template <bool kMax>
void pool_general_avx512(const PoolPlane& p) {
  const InteriorColumns inner = interior_columns_avx512(p);
  const __m512i offsets = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                             _mm512_set1_epi32(static_cast<int>(p.stride_w)));
  const __m512 lowest = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  for (size_t oy = 0; oy < p.out_h; oy++) {
    const TapRange ty = pool_taps(oy, p.stride_h, p.pad_top, p.kernel_h, p.dilation_h, p.in_h);
    const TapRange py = pool_taps(oy, p.stride_h, 0, p.kernel_h, p.dilation_h, p.in_h + p.pad_top + p.pad_bottom);
    const size_t iy0 = oy * p.stride_h + ty.first * p.dilation_h - p.pad_top;
    float* out = p.output + oy * p.out_w;
    const auto pixel = [&](size_t ox) {
      out[ox] = kMax ? max_pixel_avx512(p, ty, iy0, ox) : avg_pixel_avx512(p, ty, py.count, iy0, ox);
    };
    for (size_t ox = 0; ox < inner.lo && ox < p.out_w; ox++) pixel(ox);
    // Interior columns: every one of the kernel_w taps is inside the row, so the divisor is the
    // row's count times kernel_w (with or without the pads, the taps are all real input).
    const float divisor = static_cast<float>((p.count_include_pad ? py.count : ty.count) * p.kernel_w);
    for (size_t ox = inner.lo; ox < inner.hi; ox += 16) {
      const __mmask16 lanes = pool_lanes_avx512(inner.hi - ox);
      const size_t ix0 = ox * p.stride_w - p.pad_left;
      __m512 acc = kMax ? lowest : _mm512_setzero_ps();
      __mmask16 nan = 0;
      for (size_t a = 0; a < ty.count; a++) {
        const float* row = p.input + (iy0 + a * p.dilation_h) * p.in_w + ix0;
        for (size_t b = 0; b < p.kernel_w; b++) {
          const __m512 v = load_taps_avx512(row + b * p.dilation_w, p.stride_w, lanes, offsets, acc);
          if (kMax) {
            // Lanes that met a NaN keep it; the rest take max(v, acc) (vmaxps returns acc, the
            // second operand, on a tie, as the scalar `v > best` keeps best), then a new NaN.
            const __mmask16 v_nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
            acc = _mm512_mask_max_ps(acc, static_cast<__mmask16>(~nan), v, acc);
            acc = _mm512_mask_mov_ps(acc, static_cast<__mmask16>(v_nan & ~nan), v);
            nan |= v_nan;
          } else {
            acc = _mm512_add_ps(acc, v);
          }
        }
      }
      if (!kMax) acc = ty.count == 0 ? _mm512_setzero_ps() : _mm512_div_ps(acc, _mm512_set1_ps(divisor));
      _mm512_mask_storeu_ps(out + ox, lanes, acc);
    }
    for (size_t ox = std::max(inner.hi, inner.lo); ox < p.out_w; ox++) pixel(ox);
  }
}

}  // namespace

}  // namespace convnode
