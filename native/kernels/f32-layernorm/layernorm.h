// f32-layernorm: y = (x - mean) / sqrt(var + epsilon) * scale[l] + bias[l] over groups of
// `length` values, mean and (biased) variance per group, two passes (the mean first, then the
// squared deviations from it: no cancellation, unlike E[x^2] - E[x]^2).
//   rows:    `rows` groups, each a contiguous row of `length` values (LayerNormalization over
//            the trailing axes: ViT, Swin). Vectorised along the row.
//   columns: `columns` adjacent groups whose values are `stride` floats apart (the channels of
//            an NCHW pixel: ConvNeXt's channels-last LayerNorm run on NCHW). Vectorised across
//            the columns, so every load is contiguous.
// scale and bias hold `length` values; bias may be null. y may equal x, not otherwise overlap it.
#pragma once
#include <cstddef>

namespace convnode {

using LayerNormRowsKernel = void (*)(size_t rows, size_t length, const float* x, const float* scale,
                                     const float* bias, float epsilon, float* y);
using LayerNormColumnsKernel = void (*)(size_t columns, size_t length, size_t stride, const float* x,
                                        const float* scale, const float* bias, float epsilon, float* y);

#define CONVNODE_DECLARE_LAYERNORM(isa)                                                                         \
  void f32_layernorm_rows__##isa(size_t rows, size_t length, const float* x, const float* scale, const float* bias, \
                                 float epsilon, float* y);                                                      \
  void f32_layernorm_columns__##isa(size_t columns, size_t length, size_t stride, const float* x,                \
                                    const float* scale, const float* bias, float epsilon, float* y);
CONVNODE_DECLARE_LAYERNORM(scalar)
CONVNODE_DECLARE_LAYERNORM(avx2)
CONVNODE_DECLARE_LAYERNORM(avx512)
CONVNODE_DECLARE_LAYERNORM(neon)
#undef CONVNODE_DECLARE_LAYERNORM

}  // namespace convnode
