// f32-resize: the upsampling (and downsampling) of NCHW planes that Resize / Upsample run, from
// per-axis tables the op plans once per shape (lib/onnx/ops/resize.ts computes them for every
// coordinate_transformation_mode and nearest_mode, so the kernels know no modes):
//   nearest:    y[oy][ox] = x[rows.lo[oy]][cols.lo[ox]], a gather along the row. An output row
//               whose source row is the previous one's is a copy of it.
//   nearest_2x: the same when every source index is the output index halved (2x upsampling in
//               both axes by any mode that rounds to it): each value written twice, each row
//               twice, with no tables.
//   bilinear:   blend the two neighbour rows' horizontal blends,
//                 h(r)[ox] = x[r][lo] + (x[r][hi] - x[r][lo]) * cols.weight[ox]
//                 y[oy]    = h(top) + (h(bottom) - h(top)) * rows.weight[oy]
//               Each source row's horizontal blend is computed once into `scratch` and reused
//               by every output row between it and the next (8x upsampling reads a row pair
//               for 8 output rows), so the per-pixel work is one vector blend.
// Tables are trusted here (native/ops/resize.cc checks every index is inside its axis).
#pragma once
#include <cstddef>
#include <cstdint>

namespace convnode {

// One axis: output index -> the input index (or the two neighbours and the weight of `hi`).
// `lo` is always set; hi and weight only for bilinear.
struct ResizeAxis {
  size_t in = 0, out = 0;
  const int32_t* lo = nullptr;
  const int32_t* hi = nullptr;
  const float* weight = nullptr;
};

using ResizeNearestKernel = void (*)(size_t planes, const ResizeAxis& rows, const ResizeAxis& cols, const float* x,
                                     float* y);
// out = 2 * in on both axes.
using ResizeNearest2xKernel = void (*)(size_t planes, size_t in_h, size_t in_w, const float* x, float* y);
// scratch holds 2 * cols.out floats.
using ResizeBilinearKernel = void (*)(size_t planes, const ResizeAxis& rows, const ResizeAxis& cols, const float* x,
                                      float* y, float* scratch);

#define CONVNODE_DECLARE_RESIZE(isa)                                                                           \
  void f32_resize_nearest__##isa(size_t planes, const ResizeAxis& rows, const ResizeAxis& cols, const float* x, \
                                 float* y);                                                                     \
  void f32_resize_nearest_2x__##isa(size_t planes, size_t in_h, size_t in_w, const float* x, float* y);          \
  void f32_resize_bilinear__##isa(size_t planes, const ResizeAxis& rows, const ResizeAxis& cols, const float* x, \
                                  float* y, float* scratch);
CONVNODE_DECLARE_RESIZE(scalar)
CONVNODE_DECLARE_RESIZE(avx2)
CONVNODE_DECLARE_RESIZE(avx512)
CONVNODE_DECLARE_RESIZE(neon)
#undef CONVNODE_DECLARE_RESIZE

}  // namespace convnode
