// The loops every f32-resize variant shares, over an ISA's row primitives `Ops`:
//   Ops::gather(n, src, index, dst)                         dst[i] = src[index[i]]
//   Ops::blend_gather(n, src, lo, hi, weight, dst)          dst[i] = src[lo] + (src[hi] - src[lo]) * weight[i]
//   Ops::blend(n, a, b, w, dst)                             dst[i] = a[i] + (b[i] - a[i]) * w
//   Ops::duplicate(n, src, dst)                             dst[2i] = dst[2i + 1] = src[i]
// Only those differ per ISA; the row caching below is the same everywhere. Everything here has
// internal linkage: each kernel file compiles it with its own ISA flags, and a shared inline
// symbol could let the linker hand the scalar kernel an AVX2 copy.
#pragma once
#include <cstring>
#include <utility>

#include "resize.h"

namespace convnode {
namespace {

template <typename Ops>
void resize_nearest_impl(size_t planes, const ResizeAxis& rows, const ResizeAxis& cols, const float* x, float* y) {
  const size_t in_plane = rows.in * cols.in, out_w = cols.out;
  for (size_t p = 0; p < planes; p++) {
    const float* plane = x + p * in_plane;
    float* out = y + p * rows.out * out_w;
    for (size_t oy = 0; oy < rows.out; oy++, out += out_w) {
      if (oy > 0 && rows.lo[oy] == rows.lo[oy - 1]) {
        std::memcpy(out, out - out_w, out_w * sizeof(float));  // same source row: same output row
      } else {
        Ops::gather(out_w, plane + static_cast<size_t>(rows.lo[oy]) * cols.in, cols.lo, out);
      }
    }
  }
}

template <typename Ops>
void resize_nearest_2x_impl(size_t planes, size_t in_h, size_t in_w, const float* x, float* y) {
  const size_t out_w = 2 * in_w;
  for (size_t r = 0; r < planes * in_h; r++) {  // every input row of every plane, in order
    float* out = y + 2 * r * out_w;
    Ops::duplicate(in_w, x + r * in_w, out);
    std::memcpy(out + out_w, out, out_w * sizeof(float));
  }
}

template <typename Ops>
void resize_bilinear_impl(size_t planes, const ResizeAxis& rows, const ResizeAxis& cols, const float* x, float* y,
                          float* scratch) {
  const size_t in_plane = rows.in * cols.in, out_w = cols.out;
  for (size_t p = 0; p < planes; p++) {
    const float* plane = x + p * in_plane;
    float* out = y + p * rows.out * out_w;
    // The horizontal blends of the source rows `top_row` and `bottom_row` (-1: none yet).
    float* top = scratch;
    float* bottom = scratch + out_w;
    int32_t top_row = -1, bottom_row = -1;
    const auto blend_row = [&](int32_t r, float* dst) {
      Ops::blend_gather(out_w, plane + static_cast<size_t>(r) * cols.in, cols.lo, cols.hi, cols.weight, dst);
    };
    for (size_t oy = 0; oy < rows.out; oy++, out += out_w) {
      const int32_t t = rows.lo[oy], b = rows.hi[oy];
      if (t != top_row && t == bottom_row) {  // moving down a row: the old bottom is the new top
        std::swap(top, bottom);
        std::swap(top_row, bottom_row);
      }
      if (t != top_row) {
        blend_row(t, top);
        top_row = t;
      }
      if (b != bottom_row) {
        blend_row(b, bottom);
        bottom_row = b;
      }
      Ops::blend(out_w, top, bottom, rows.weight[oy], out);
    }
  }
}

// The portable row primitives: the scalar kernel's, and every ISA's tails.
struct ScalarResizeOps {
  static void gather(size_t n, const float* src, const int32_t* index, float* dst) {
    for (size_t i = 0; i < n; i++) dst[i] = src[index[i]];
  }
  static void blend_gather(size_t n, const float* src, const int32_t* lo, const int32_t* hi, const float* weight,
                           float* dst) {
    for (size_t i = 0; i < n; i++) dst[i] = src[lo[i]] + (src[hi[i]] - src[lo[i]]) * weight[i];
  }
  static void blend(size_t n, const float* a, const float* b, float w, float* dst) {
    for (size_t i = 0; i < n; i++) dst[i] = a[i] + (b[i] - a[i]) * w;
  }
  static void duplicate(size_t n, const float* src, float* dst) {
    for (size_t i = 0; i < n; i++) dst[2 * i] = dst[2 * i + 1] = src[i];
  }
};

}  // namespace
}  // namespace convnode

// Defines f32_resize_{nearest,nearest_2x,bilinear}__<isa> over an Ops struct.
#define CONVNODE_DEFINE_RESIZE(isa, Ops)                                                                         \
  void f32_resize_nearest__##isa(size_t planes, const ResizeAxis& rows, const ResizeAxis& cols, const float* x,   \
                                 float* y) {                                                                      \
    resize_nearest_impl<Ops>(planes, rows, cols, x, y);                                                           \
  }                                                                                                               \
  void f32_resize_nearest_2x__##isa(size_t planes, size_t in_h, size_t in_w, const float* x, float* y) {           \
    resize_nearest_2x_impl<Ops>(planes, in_h, in_w, x, y);                                                        \
  }                                                                                                               \
  void f32_resize_bilinear__##isa(size_t planes, const ResizeAxis& rows, const ResizeAxis& cols, const float* x,  \
                                  float* y, float* scratch) {                                                     \
    resize_bilinear_impl<Ops>(planes, rows, cols, x, y, scratch);                                                 \
  }
