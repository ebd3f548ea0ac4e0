// Stores an accumulated tile through the epilogue, one value at a time. Every micro-kernel uses it
// for partial tiles; the scalar kernel uses it for everything.
#pragma once
#include <cstddef>

#include "../epilogue.h"

namespace convnode {

template <size_t MR, size_t NR>
static inline void store_tile_scalar(const float (&acc)[MR][NR], size_t mr, size_t nr, float* c, size_t ldc, bool accumulate,
                              const Epilogue* ep) {
  for (size_t i = 0; i < mr; i++) {
    float* row = c + i * ldc;
    for (size_t j = 0; j < nr; j++) {
      float v = acc[i][j];
      if (accumulate) v += row[j];
      if (ep != nullptr) {
        if (ep->bias != nullptr) v += ep->bias[i];
        if (ep->residual != nullptr) v += ep->residual[i * ep->residual_stride + j];
        v = activate(v, ep->activation);
      }
      row[j] = v;
    }
  }
}

}  // namespace convnode
