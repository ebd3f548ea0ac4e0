// The f32-layernorm algorithm once, over an ISA's vector operations O (see layernorm.h). Each
// ISA's file instantiates it with its own O, whose name carries the ISA (so every out-of-line
// copy has it in its symbol, scripts/check-x64-isa.mjs), plus a width-1 O for the columns that
// do not fill a vector. Everything is in an unnamed namespace: no copy built with one ISA's flags
// can be merged by the linker with another's.
//
// O provides: V, width, load, store, splat, add, sub, mul, fmadd, div, sqrt, reduce_add.
#pragma once
#include <cmath>
#include <cstddef>

#include "../../simd/norm-ops.h"

namespace convnode {
namespace {

template <typename O>
inline void layernorm_rows_impl(size_t rows, size_t length, const float* x, const float* scale, const float* bias,
                                float epsilon, float* y) {
  using V = typename O::V;
  constexpr size_t W = O::width;
  const float inverse_length = 1.0f / static_cast<float>(length);
  for (size_t r = 0; r < rows; r++) {
    const float* in = x + r * length;
    float* out = y + r * length;
    V acc = O::splat(0.0f);
    size_t i = 0;
    for (; i + W <= length; i += W) acc = O::add(acc, O::load(in + i));
    float sum = O::reduce_add(acc);
    for (; i < length; i++) sum += in[i];
    const float mean = sum * inverse_length;
    const V vmean = O::splat(mean);
    acc = O::splat(0.0f);
    i = 0;
    for (; i + W <= length; i += W) {
      const V d = O::sub(O::load(in + i), vmean);
      acc = O::fmadd(d, d, acc);
    }
    float squares = O::reduce_add(acc);
    for (; i < length; i++) squares += (in[i] - mean) * (in[i] - mean);
    const float inverse = 1.0f / std::sqrt(squares * inverse_length + epsilon);
    const V vinverse = O::splat(inverse);
    i = 0;
    for (; i + W <= length; i += W) {
      const V n = O::mul(O::sub(O::load(in + i), vmean), vinverse);
      const V shift = bias != nullptr ? O::load(bias + i) : O::splat(0.0f);
      O::store(out + i, O::fmadd(n, O::load(scale + i), shift));
    }
    for (; i < length; i++) {
      const float n = (in[i] - mean) * inverse;
      out[i] = n * scale[i] + (bias != nullptr ? bias[i] : 0.0f);
    }
  }
}

// W columns at a time: the three passes walk down the `length` rows of the block.
template <typename O>
inline size_t layernorm_column_blocks(size_t columns, size_t length, size_t stride, const float* x, const float* scale,
                                      const float* bias, float epsilon, float* y) {
  using V = typename O::V;
  constexpr size_t W = O::width;
  const V inverse_length = O::splat(1.0f / static_cast<float>(length));
  const V veps = O::splat(epsilon);
  size_t c = 0;
  for (; c + W <= columns; c += W) {
    V sum = O::splat(0.0f);
    for (size_t l = 0; l < length; l++) sum = O::add(sum, O::load(x + l * stride + c));
    const V mean = O::mul(sum, inverse_length);
    V squares = O::splat(0.0f);
    for (size_t l = 0; l < length; l++) {
      const V d = O::sub(O::load(x + l * stride + c), mean);
      squares = O::fmadd(d, d, squares);
    }
    const V inverse = O::div(O::splat(1.0f), O::sqrt(O::fmadd(squares, inverse_length, veps)));
    for (size_t l = 0; l < length; l++) {
      const V n = O::mul(O::sub(O::load(x + l * stride + c), mean), inverse);
      const V shift = O::splat(bias != nullptr ? bias[l] : 0.0f);
      O::store(y + l * stride + c, O::fmadd(n, O::splat(scale[l]), shift));
    }
  }
  return c;
}

// The vector blocks with O, the columns left with the width-1 Tail.
template <typename O, typename Tail>
inline void layernorm_columns_impl(size_t columns, size_t length, size_t stride, const float* x, const float* scale,
                                   const float* bias, float epsilon, float* y) {
  const size_t done = layernorm_column_blocks<O>(columns, length, stride, x, scale, bias, epsilon, y);
  if (done < columns) {
    layernorm_column_blocks<Tail>(columns - done, length, stride, x + done, scale, bias, epsilon, y + done);
  }
}

}  // namespace
}  // namespace convnode
