// Average pooling. The divisor, as PyTorch computes it:
//  count_include_pad: taps inside the padded input (input + pads), not those hanging past it
//                     in ceilMode;
//  otherwise:         taps inside the real input.
// A window with no counted tap gives 0.
#include "../pool-plane.h"

namespace convnode {

void f32_avgpool_general__scalar(const PoolPlane& p) {
  for (size_t oy = 0; oy < p.out_h; oy++) {
    const TapRange ty = pool_taps(oy, p.stride_h, p.pad_top, p.kernel_h, p.dilation_h, p.in_h);
    const TapRange py = pool_taps(oy, p.stride_h, 0, p.kernel_h, p.dilation_h, p.in_h + p.pad_top + p.pad_bottom);
    const size_t iy0 = oy * p.stride_h + ty.first * p.dilation_h - p.pad_top;
    for (size_t ox = 0; ox < p.out_w; ox++) {
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
        divisor = py.count * px.count;
      }
      p.output[oy * p.out_w + ox] = divisor == 0 ? 0.0f : sum / static_cast<float>(divisor);
    }
  }
}

}  // namespace convnode
