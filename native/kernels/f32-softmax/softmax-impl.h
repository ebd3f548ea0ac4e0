// The f32-softmax algorithm once, over an ISA's vector operations O (simd/norm-ops.h; the same
// scheme as f32-layernorm/layernorm-impl.h). O provides: V, width, load, store, splat, sub, mul,
// add, div, max, exp, reduce_add, reduce_max.
#pragma once
#include <cmath>
#include <cstddef>

#include "../../simd/norm-ops.h"

namespace convnode {
namespace {

template <typename O, typename Tail>
inline void softmax_rows_impl(size_t rows, size_t length, const float* x, float* y) {
  using V = typename O::V;
  constexpr size_t W = O::width;
  for (size_t r = 0; r < rows; r++) {
    const float* in = x + r * length;
    float* out = y + r * length;
    V vmax = O::splat(-INFINITY);
    size_t i = 0;
    for (; i + W <= length; i += W) vmax = O::max(vmax, O::load(in + i));
    float max = O::reduce_max(vmax);
    for (; i < length; i++) max = in[i] > max ? in[i] : max;
    const V shift = O::splat(max);
    V acc = O::splat(0.0f);
    i = 0;
    for (; i + W <= length; i += W) {
      const V e = O::exp(O::sub(O::load(in + i), shift));
      O::store(out + i, e);
      acc = O::add(acc, e);
    }
    float sum = O::reduce_add(acc);
    for (; i < length; i++) {
      const float e = Tail::exp(in[i] - max);
      out[i] = e;
      sum += e;
    }
    const V inverse = O::splat(1.0f / sum);
    i = 0;
    for (; i + W <= length; i += W) O::store(out + i, O::mul(O::load(out + i), inverse));
    for (; i < length; i++) out[i] *= 1.0f / sum;
  }
}

template <typename O>
inline size_t softmax_column_blocks(size_t columns, size_t length, size_t stride, const float* x, float* y) {
  using V = typename O::V;
  constexpr size_t W = O::width;
  size_t c = 0;
  for (; c + W <= columns; c += W) {
    V max = O::splat(-INFINITY);
    for (size_t l = 0; l < length; l++) max = O::max(max, O::load(x + l * stride + c));
    V sum = O::splat(0.0f);
    for (size_t l = 0; l < length; l++) {
      const V e = O::exp(O::sub(O::load(x + l * stride + c), max));
      O::store(y + l * stride + c, e);
      sum = O::add(sum, e);
    }
    const V inverse = O::div(O::splat(1.0f), sum);
    for (size_t l = 0; l < length; l++) O::store(y + l * stride + c, O::mul(O::load(y + l * stride + c), inverse));
  }
  return c;
}

template <typename O, typename Tail>
inline void softmax_columns_impl(size_t columns, size_t length, size_t stride, const float* x, float* y) {
  const size_t done = softmax_column_blocks<O>(columns, length, stride, x, y);
  if (done < columns) softmax_column_blocks<Tail>(columns - done, length, stride, x + done, y + done);
}

}  // namespace
}  // namespace convnode
