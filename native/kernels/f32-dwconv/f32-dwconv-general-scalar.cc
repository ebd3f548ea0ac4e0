// Any kernel size, stride, dilation and padding: the reference depthwise kernel and the fallback.
#include <vector>

#include "dwconv.h"

namespace convnode {

const float* dwconv_zero_row(size_t width) {
  thread_local std::vector<float> zeros;
  if (zeros.size() < width) zeros.assign(width, 0.0f);
  return zeros.data();
}

void f32_dwconv_general__scalar(const DwconvPlane& p) {
  for (size_t oy = p.row_begin; oy < p.row_end; oy++) {
    for (size_t ox = 0; ox < p.out_w; ox++) dwconv_store(p, oy, ox, dwconv_pixel(p, oy, ox));
  }
}

}  // namespace convnode
