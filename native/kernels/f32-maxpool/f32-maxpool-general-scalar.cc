// Max pooling, any window / stride / dilation / padding. Padding never wins: only real input
// cells are compared. NaN propagates (a NaN in the window gives NaN), as PyTorch does.
#include <cmath>
#include <limits>

#include "../pool-plane.h"

namespace convnode {

void f32_maxpool_general__scalar(const PoolPlane& p) {
  for (size_t oy = 0; oy < p.out_h; oy++) {
    const TapRange ty = pool_taps(oy, p.stride_h, p.pad_top, p.kernel_h, p.dilation_h, p.in_h);
    const size_t iy0 = oy * p.stride_h + ty.first * p.dilation_h - p.pad_top;
    for (size_t ox = 0; ox < p.out_w; ox++) {
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
      p.output[oy * p.out_w + ox] = best;
    }
  }
}

}  // namespace convnode
